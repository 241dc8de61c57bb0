"""The reference's RNN(cell) and StackedRNNCells without a framework: the weight loader, the state
structure it takes and returns, and the clear errors for what it refuses. (What the values and
structures must be comes from the frameworks: tests/test_cells_live.py and the case matrix.)"""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.reference import RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells

F = 3


def _weights(cell_shapes, seed=0):
    rng = np.random.RandomState(seed)
    return [rng.uniform(-0.6, 0.6, s).astype("float32") for s in cell_shapes]


def _stack(**kwargs):
    rnn = RNN([LSTMCell(4), GRUCell(5)], return_state=True, **kwargs)
    rnn.set_weights(_weights([(F, 16), (4, 16), (16,), (4, 15), (5, 15), (2, 15)]))
    return rnn


def test_stack_weights_go_cell_by_cell():
    rnn = _stack()
    lstm, gru = rnn.cells
    assert lstm.kernel.shape == (F, 16) and gru.kernel.shape == (4, 15) and gru.bias.shape == (2, 15)
    assert [w.shape for w in rnn.get_weights()] == [(F, 16), (4, 16), (16,), (4, 15), (5, 15), (2, 15)]


def test_stack_weight_count_error_names_each_cell():
    with pytest.raises(ValueError, match=r"expected 6 weight arrays \(3 for cell 0 \(LSTMCell\), 3 for "
                                         r"cell 1 \(GRUCell\)\), got 5"):
        RNN([LSTMCell(4), GRUCell(5)]).set_weights(_weights([(F, 16), (4, 16), (16,), (4, 15), (5, 15)]))


def test_stack_kernel_must_read_the_previous_cells_output():
    rnn = RNN([LSTMCell(4), GRUCell(5)])
    with pytest.raises(ValueError, match=r"cell 1 \(GRUCell\) got a kernel for 3 inputs, but cell 0 outputs 4"):
        rnn.set_weights(_weights([(F, 16), (4, 16), (16,), (F, 15), (5, 15), (2, 15)]))
    assert rnn.get_weights() == []  # nothing was half set


@pytest.mark.parametrize("dialect,structure", [("keras3", ["list", "list"]), ("keras2", ["list", "array"])])
def test_default_state_structure_per_dialect(dialect, structure):
    rnn = RNN([LSTMCell(4, dialect=dialect), GRUCell(5, dialect=dialect)], return_state=True)
    rnn.set_weights(_weights([(F, 16), (4, 16), (16,), (4, 15), (5, 15), (2, 15)]))
    out = rnn(np.zeros((2, 6, F), "float32"))
    assert type(out) is (tuple if dialect == "keras3" else list)
    assert ["list" if isinstance(s, list) else "array" for s in out[1:]] == structure


def test_states_come_back_in_the_structure_given():
    rnn = _stack()
    h, c, g = (np.full((2, u), 0.1, "float32") for u in (4, 4, 5))
    out = rnn(np.zeros((2, 6, F), "float32"), initial_state=[(h, c), g])
    assert isinstance(out[1], tuple) and isinstance(out[2], np.ndarray)
    out = rnn(np.zeros((2, 6, F), "float32"), initial_state=[[h, c], [g]])
    assert isinstance(out[1], list) and isinstance(out[2], list) and len(out[2]) == 1


@pytest.mark.parametrize("init,match", [
    (lambda h, c, g: [h, c, g], r"expects one entry per stacked cell \(2: cell 0 LSTMCell: \[h, c\]; "
                                r"cell 1 GRUCell: \[h\]\), got 3"),
    (lambda h, c, g: [h, g], r"initial_state\[0\] \(cell 0, LSTMCell\) has 2 states \(h, c\): give them as "
                             r"a list, got a single ndarray"),
    (lambda h, c, g: [[h, c], [g, g]], r"initial_state\[1\] \(cell 1, GRUCell\) expects 1 state array"),
    (lambda h, c, g: [[h, c], [h]], r"state 'cell 1 h' must have shape \(batch=2, units=5\), got \(2, 4\)"),
])
def test_bad_stacked_initial_state_is_named(init, match):
    h, c, g = (np.zeros((2, u), "float32") for u in (4, 4, 5))
    with pytest.raises(ValueError, match=match):
        _stack()(np.zeros((2, 6, F), "float32"), initial_state=init(h, c, g))


def test_custom_cell_is_refused_by_name():
    class MyCell:
        state_size = 2

    with pytest.raises(TypeError, match=r"MyCell; the reference models the built-in SimpleRNNCell, "
                                        r"LSTMCell, GRUCell"):
        RNN(MyCell())
    with pytest.raises(TypeError, match=r"cells\[1\] is a MyCell"):
        StackedRNNCells([GRUCell(2), MyCell()])


def test_rnn_and_cell_policies_must_agree():
    with pytest.raises(ValueError, match="dtype policy 'mixed_float16' differs from its cell's 'float32'"):
        RNN(LSTMCell(2), dtype="mixed_float16")
    with pytest.raises(ValueError, match="same dialect and dtype policy"):
        StackedRNNCells([GRUCell(2), GRUCell(2, dtype="mixed_float16")])


def test_reverse_state_order_is_refused():
    with pytest.raises(ValueError, match="reverse_state_order=True .* is not modelled"):
        StackedRNNCells([GRUCell(2, dialect="keras2")] * 2, reverse_state_order=True)


def test_keras3_rnn_has_no_time_major():
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to RNN: {'time_major': True}"):
        RNN(SimpleRNNCell(2), time_major=True)
    assert RNN(SimpleRNNCell(2, dialect="keras2"), time_major=True).time_major


def test_training_with_a_cells_dropout_is_refused():
    rnn = RNN([GRUCell(2), GRUCell(2, recurrent_dropout=0.5)])
    rnn.set_weights(_weights([(F, 6), (2, 6), (2, 6), (2, 6), (2, 6), (2, 6)]))
    with pytest.raises(ValueError, match="training=True with dropout=0.0, recurrent_dropout=0.5"):
        rnn(np.zeros((1, 2, F), "float32"), training=True)


def test_bidirectional_rnn_copies_and_splits_weights_and_states():
    bi = Bidirectional(_stack(return_sequences=True))
    bi.set_weights(_weights([(F, 16), (4, 16), (16,), (4, 15), (5, 15), (2, 15)] * 2, seed=3))
    assert bi.backward_layer.go_backwards and len(bi.get_weights()) == 12
    out = bi(np.zeros((2, 6, F), "float32"))
    assert [type(o).__name__ for o in out] == ["ndarray", "list", "list", "list", "list"]
    with pytest.raises(ValueError, match="initial_state must hold 4 entries"):
        bi(np.zeros((2, 6, F), "float32"), initial_state=[np.zeros((2, 4))] * 3)


def test_config_round_trip():
    rnn = _stack(go_backwards=True, stateful=True)
    again = RNN.from_config(rnn.get_config())
    assert again.get_config() == rnn.get_config()
    assert [type(c).__name__ for c in again.cells] == ["LSTMCell", "GRUCell"] and again.stateful
