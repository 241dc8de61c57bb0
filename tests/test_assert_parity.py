"""assert_parity's promises on users' live layers: one initial-state array is accepted, bad input is
refused before either side runs (naming the argument, the shape expected and the shape given), and a
registered framework bug is named with its registry entry and repro."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.reference import lstm
from rnnparity.testing import KnownFrameworkBug, assert_parity
from tests.saturation import needs

TARGETS = ("keras3", "tf_keras")
B, T, F, U = 2, 5, 3, 4
RNG = np.random.RandomState(7)
X = RNG.normal(size=(B, T, F)).astype("float32")


def _state(*shape):
    return RNG.uniform(-0.5, 0.5, size=shape).astype("float32")


def _built(target, make):
    needs(target)
    K = registry.get(target).K
    layer = make(K.layers)
    layer.build(X.shape)
    return layer


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_one_initial_state_array_is_accepted(target):
    gru = _built(target, lambda L: L.GRU(U, return_sequences=True, return_state=True))
    h = _state(B, U)
    one = assert_parity(gru, X, initial_state=h)
    listed = assert_parity(gru, X, initial_state=[h])
    for a, b in zip(one, listed):
        np.testing.assert_array_equal(a, b)
    zero = assert_parity(gru, X)
    assert not np.allclose(one[0], zero[0]), "the initial state must reach the framework"


# (id, layer factory, x, mask, initial_state, message pattern)
BAD_INPUT = [
    ("x_rank2", lambda L: L.LSTM(U), X[:, 0], None, None,
     r"x must have rank 3 \(batch, time, features\), got shape \(2, 3\)"),
    ("x_features", lambda L: L.LSTM(U), X[..., :2], None, None,
     r"x must have shape \(batch, time, features\) with features=3 .*got shape \(2, 5, 2\)"),
    ("mask_wrong_time", lambda L: L.LSTM(U), X, np.ones((B, T - 1), bool), None,
     r"mask must have shape \(batch, time\) = \(2, 5\) \(or \(2, 5, 1\)\), got \(2, 4\)"),
    ("mask_transposed", lambda L: L.GRU(U), X, np.ones((T, B), bool), None,
     r"mask must have shape \(batch, time\) = \(2, 5\) .*got \(5, 2\)"),
    ("mask_wrong_batch_bidi", lambda L: L.Bidirectional(L.GRU(U)), X, np.ones((B + 1, T), bool), None,
     r"mask must have shape \(batch, time\) = \(2, 5\) .*got \(3, 5\)"),
    ("lstm_one_state", lambda L: L.LSTM(U), X, None, [_state(B, U)],
     r"initial_state must hold 2 array\(s\) for LSTM \(h, c\), got 1"),
    ("lstm_single_array", lambda L: L.LSTM(U), X, None, _state(B, U),
     r"initial_state must hold 2 array\(s\) for LSTM \(h, c\), got 1"),
    ("gru_two_states", lambda L: L.GRU(U), X, None, [_state(B, U), _state(B, U)],
     r"initial_state must hold 1 array\(s\) for GRU \(h\), got 2"),
    ("lstm_state_wrong_units", lambda L: L.LSTM(U), X, None, [_state(B, U + 1), _state(B, U)],
     r"initial_state\[0\] \(h\) must have shape \(batch, units\) = \(2, 4\), got \(2, 5\)"),
    ("simple_rnn_state_wrong_batch", lambda L: L.SimpleRNN(U), X, None, [_state(B + 1, U)],
     r"initial_state\[0\] \(h\) must have shape \(batch, units\) = \(2, 4\), got \(3, 4\)"),
    ("bidi_lstm_two_states", lambda L: L.Bidirectional(L.LSTM(U)), X, None, [_state(B, U)] * 2,
     r"initial_state must hold 4 array\(s\) for Bidirectional\(LSTM\) \(forward h, forward c, "
     r"backward h, backward c\), got 2"),
    ("bidi_gru_backward_state", lambda L: L.Bidirectional(L.GRU(U)), X, None, [_state(B, U), _state(B, 3)],
     r"initial_state\[1\] \(backward h\) must have shape \(batch, units\) = \(2, 4\), got \(2, 3\)"),
]


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("row", BAD_INPUT, ids=[r[0] for r in BAD_INPUT])
def test_bad_input_is_refused_before_the_framework_runs(target, row, monkeypatch):
    _, make, x, mask, states, pattern = row
    needs(target)
    layer = make(registry.get(target).K.layers)
    layer.build((B, T, F))

    def framework_call(*args, **kwargs):
        raise AssertionError("the framework ran on input assert_parity should have refused")

    monkeypatch.setattr(registry.get(target), "call", framework_call)
    with pytest.raises(ValueError, match="^assert_parity: " + pattern):
        assert_parity(layer, x, mask=mask, initial_state=states)


@pytest.mark.live
def test_time_major_mask_is_checked_against_time_batch():
    layer = _built("tf_keras", lambda L: L.LSTM(U, time_major=True))
    x = np.ascontiguousarray(X.swapaxes(0, 1))
    with pytest.raises(ValueError, match=r"mask must have shape \(time, batch\) = \(5, 2\)"):
        assert_parity(layer, x, mask=np.ones((B, T), bool))
    assert_parity(layer, x, mask=np.ones((T, B), bool))


# -- registered framework bugs -----------------------------------------------------------------
@pytest.mark.live
def test_a_framework_error_that_is_a_registered_bug_names_the_entry():
    layer = _built("keras3", lambda L: L.Bidirectional(L.LSTM(2, stateful=True, return_state=True)))
    with pytest.raises(KnownFrameworkBug) as info:
        assert_parity(layer, X)
    message = str(info.value)
    assert message.startswith("known framework bug [keras3-bidirectional-stateful-return-state] (keras3, ")
    assert ("the framework raised TypeError: unsupported operand type(s) for *: 'generator' and 'int'"
            in message)
    assert "repro:\nimport keras" in message
    assert isinstance(info.value, AssertionError) and isinstance(info.value.__cause__, TypeError)
    assert info.value.divergence.key == "keras3-bidirectional-stateful-return-state"


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_wrong_values_from_a_registered_bug_name_the_entry(target):
    layer = _built(target, lambda L: L.Bidirectional(L.SimpleRNN(U, return_sequences=True, unroll=True),
                                                       merge_mode=None))
    mask = np.array([[1, 1, 1, 0, 0], [1] * T], bool)
    entry = r"^known framework bug \[unroll-mask-go-backwards-zero-output\]"
    with pytest.raises(KnownFrameworkBug, match=entry) as info:
        assert_parity(layer, X, mask=mask)
    assert "beyond tolerance" in str(info.value) and "repro:\nimport tf_keras" in str(info.value)
    assert_parity(layer, X)  # without a mask the bug does not apply, and the layer agrees


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
def test_empty_batch_lstm(target):
    layer = _built(target, lambda L: L.LSTM(2, return_sequences=True))
    empty = np.zeros((0, T, F), "float32")
    if target == "keras3":
        with pytest.raises(KnownFrameworkBug, match=r"\[keras3-lstm-empty-batch\]"):
            assert_parity(layer, empty)
    else:
        assert assert_parity(layer, empty).shape == (0, T, 2)


@pytest.mark.live
def test_a_mismatch_no_entry_explains_is_a_plain_assertion_error(monkeypatch):
    layer = _built("keras3", lambda L: L.LSTM(U, return_sequences=True))
    monkeypatch.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))  # a porting bug in the reference
    with pytest.raises(AssertionError, match="beyond tolerance") as info:
        assert_parity(layer, X)
    assert not isinstance(info.value, KnownFrameworkBug)
    assert "rounding verdict: FAIL, not rounding" in str(info.value)
