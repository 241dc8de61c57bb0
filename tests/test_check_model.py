"""rp.check_model on live models of both Keras versions: every recurrent layer is found and checked
on what it really receives (the framework's own outputs are the oracle); a planted reference bug, a
dropped mask or a dropped carried state fails, naming the layer; bad input is one clear line."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.check import runner
from rnnparity.plan import Call, Plan
from rnnparity.reference import lstm
from rnnparity.reference.layer import RecurrentLayer
from tests import model_zoo
from tests.model_zoo import B, T, V, keras_module

TARGETS = ("keras3", "tf_keras")
pytestmark = pytest.mark.live


def _rows(report):
    return {r.name: r for r in report.layers}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", sorted(model_zoo.LIVE))
def test_every_recurrent_layer_is_found_and_passes(target, name):
    K = keras_module(target)
    model, x = model_zoo.LIVE[name](K)
    report = rp.check_model(model, x)
    rows = _rows(report)
    assert {n: (r.cls, r.mask_source) for n, r in rows.items()} == model_zoo.expected_rows(name, target), \
        report.table()
    assert report.passed, report.table()
    for row in report.layers:
        assert row.status == "pass" and row.calls >= 1 and row.outputs_per_call >= 1
        assert row.max_abs_error is not None and row.max_abs_error <= 1e-6, row
    assert report.target == target


def _layer_output(K, model, layer_name, x):
    """The framework's own output of a layer of a functional model, through a sub-model."""
    return np.asarray(K.Model(model.inputs, model.get_layer(layer_name).output)(x))


@pytest.mark.parametrize("target", TARGETS)
def test_the_real_mask_is_used(target):
    """Masked and unmasked outputs differ by more than 0.01: check_model passes on the mask the layer
    receives, and the same captured call checked without its mask fails."""
    K = keras_module(target)
    L = K.layers
    tokens = L.Input((None,), dtype="int32")
    seq = L.LSTM(5, return_sequences=True, name="lstm")(L.Embedding(V, 4, mask_zero=True, name="emb")(tokens))
    model = K.Model(tokens, seq)
    x = model_zoo.padded_tokens(np.random.RandomState(0))
    embedded = np.asarray(model.get_layer("emb")(x))
    layer = model.get_layer("lstm")
    unmasked = np.asarray(layer(embedded))
    masked = _layer_output(K, model, "lstm", x)
    assert np.max(np.abs(masked - unmasked)) > 0.01

    report = rp.check_model(model, x)
    row = _rows(report)["lstm"]
    assert row.status == "pass", report.table()
    assert row.mask_source == "Embedding 'emb' (mask_zero)"
    rec = report.recordings["lstm"]
    np.testing.assert_array_equal(rec.plan.calls[0].mask, x != 0)
    np.testing.assert_array_equal(rec.outcome.outputs[0], masked)
    without = dataclasses.replace(rec, plan=Plan([Call(c.x, None, c.initial_state, c.label)
                                                  for c in rec.plan.calls]))
    problems = runner.verify(without, lambda: rp.from_keras(layer))
    assert problems and problems[0].kind == "values", problems


@pytest.mark.parametrize("target", TARGETS)
def test_stateful_batches_then_a_reset(target, monkeypatch):
    K = keras_module(target)
    model, feed = model_zoo.stateful_char_gru(K)
    report = rp.check_model(model, feed, batches=3)
    row = _rows(report)["char_gru"]
    assert row.status == "pass", report.table()
    rec = report.recordings["char_gru"]
    assert [type(s).__name__ for s in rec.plan.steps] == ["Call", "Call", "Call", "Reset", "Call"]
    # the batches were the feed's, in order, and the states were carried (outputs differ per batch)
    for k, call in enumerate(rec.plan.calls[:3]):
        np.testing.assert_array_equal(call.x, np.asarray(model.get_layer("chars")(feed(k))))
    assert not np.allclose(rec.outcome.outputs[0], rec.outcome.outputs[1])

    keep = RecurrentLayer._initial_states

    def dropping_carried_state(self, batch, initial_state):
        states, structure = keep(self, batch, initial_state)
        return (self.cell.zero_states(batch) if initial_state is None else states), structure

    monkeypatch.setattr(RecurrentLayer, "_initial_states", dropping_carried_state)
    bad = _rows(rp.check_model(model, feed, batches=3))["char_gru"]
    assert bad.status == "fail"
    assert "call 2 of 4 (batch 2 (states carried))" in bad.message and "call 1 of 4" not in bad.message
    assert bad.first_diverging_step == 0


@pytest.mark.parametrize("target", TARGETS)
def test_a_planted_gate_order_bug_fails_naming_the_layer(target, monkeypatch):
    K = keras_module(target)
    model, x = model_zoo.seq2seq(K)
    monkeypatch.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))
    report = rp.check_model(model, x)
    assert not report.passed
    rows = _rows(report)
    for name in ("encoder", "decoder"):
        assert rows[name].status == "fail"
        assert rows[name].message.startswith(f"[{name}] the reference and the framework disagree")
        assert rows[name].max_abs_error > 1e-3
    assert "FAIL" in report.table() and "encoder" in report.table()


def _custom_cell_rnn(K):
    L = K.layers

    class MinimalCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

        def call(self, inputs, states):
            h = K.ops.matmul(inputs, self.kernel) + states[0] if hasattr(K, "ops") else \
                K.backend.dot(inputs, self.kernel) + states[0]
            return h, [h]

    return L.RNN(MinimalCell(3), return_sequences=True, name="custom_rnn")


@pytest.mark.parametrize("target", TARGETS)
def test_unsupported_layers_are_rows_and_the_others_are_checked(target):
    K = keras_module(target)
    L = K.layers

    class MyLSTM(L.LSTM):
        pass

    x_in = L.Input((None, 3))
    h = _custom_cell_rnn(K)(x_in)
    h = MyLSTM(3, return_sequences=True, name="my_lstm")(h)
    h = L.RNN(L.GRUCell(3), return_sequences=True, name="generic_rnn")(h)
    h = L.RNN([L.SimpleRNNCell(3), L.LSTMCell(2)], return_sequences=True, name="stacked_rnn")(h)
    h = L.GRU(2, name="plain_gru")(h)
    model = K.Model(x_in, h)
    report = rp.check_model(model, np.random.RandomState(0).normal(size=(B, T, 3)).astype("float32"))
    rows = _rows(report)
    assert list(rows) == ["custom_rnn", "my_lstm", "generic_rnn", "stacked_rnn", "plain_gru"]
    assert rows["custom_rnn"].status == "unsupported" and "custom" in rows["custom_rnn"].message
    assert rows["custom_rnn"].message.startswith("custom_rnn: ")
    assert rows["my_lstm"].status == "unsupported" and "subclass of the built-in LSTM" in rows["my_lstm"].message
    # what from_keras models (the generic RNN and stacked cells once the reference has them) is checked
    for name in ("generic_rnn", "stacked_rnn"):
        try:
            rp.from_keras(model.get_layer(name))
        except ValueError as exc:
            assert rows[name].status == "unsupported" and str(exc).splitlines()[0] in rows[name].message
        else:
            assert rows[name].status == "pass", rows[name]
    assert rows["plain_gru"].status == "pass" and rows["plain_gru"].calls == 1
    assert not report.passed
    for row in report.layers:
        assert "\n" not in row.message or row.status == "fail"


@pytest.mark.parametrize("target", TARGETS)
def test_a_mixed_precision_layer_is_a_row_unless_the_reference_models_it(target):
    K = keras_module(target)
    L = K.layers
    x_in = L.Input((None, 3))
    h = L.LSTM(4, return_sequences=True, dtype="mixed_float16", name="mixed_lstm")(x_in)
    h = L.GRU(2, name="plain_gru")(h)
    model = K.Model(x_in, h)
    rows = _rows(rp.check_model(model, np.random.RandomState(0).normal(size=(B, T, 3)).astype("float32")))
    try:
        rp.from_keras(model.get_layer("mixed_lstm"))
    except ValueError as exc:
        assert rows["mixed_lstm"].status == "unsupported"
        assert str(exc).splitlines()[0] in rows["mixed_lstm"].message
    else:
        assert rows["mixed_lstm"].status == "pass", rows["mixed_lstm"]
    assert rows["plain_gru"].status == "pass"


@pytest.mark.parametrize("target", TARGETS)
def test_bad_input_is_one_clear_line(target, tmp_path):
    K = keras_module(target)
    L = K.layers
    dense = K.Sequential([L.Input((3,)), L.Dense(2)], name="dense_only")
    with pytest.raises(ValueError, match=r"^check_model: model 'dense_only' has no recurrent layer"):
        rp.check_model(dense, np.zeros((2, 3), "float32"))
    model, x = model_zoo.explicit_mask(K)
    with pytest.raises(ValueError, match=r"^check_model: the inputs do not fit the model: input '\w+' "
                                         r"expects shape \(None, None, 3\) \(None: any size\), given "
                                         r"float32 \(4, 7, 2\)$") as info:
        rp.check_model(model, [x[0][..., :2], x[1]])
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="batches must be an integer >= 1, got 0"):
        rp.check_model(model, x, batches=0)
    with pytest.raises(ValueError, match="atol"):
        rp.check_model(model, x, atol=-1)
    text = tmp_path / "notes.keras"
    text.write_text("not a model")
    with pytest.raises(ValueError, match=r"notes.keras: not a Keras model file"):
        rp.check_model(str(text), x)
    with pytest.raises(ValueError, match=r"expects a Keras 3 or tf_keras layer"):
        rp.check_model(object(), x)


@pytest.mark.parametrize("target", TARGETS)
def test_the_layers_call_is_restored_even_on_error(target):
    K = keras_module(target)
    model, x = model_zoo.explicit_mask(K)
    layer = model.get_layer("masked_gru")
    with pytest.raises(ValueError):
        rp.check_model(model, [x[0][..., :2], x[1]])
    assert "call" not in vars(layer)
    rp.check_model(model, x)
    assert "call" not in vars(layer)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model(x)))


@pytest.mark.parametrize("target", TARGETS)
def test_a_registered_framework_bug_is_an_xfail(target):
    """Unrolled masked Bidirectional sequences zero the wrong steps (divergences.REGISTRY): the row
    is an xfail naming the entry, and the model still passes; the same layer not unrolled passes."""
    K = keras_module(target)
    L = K.layers
    x_in = L.Input((T, 3))
    masked = L.Masking(name="masking")(x_in)
    buggy = L.Bidirectional(L.SimpleRNN(3, return_sequences=True, unroll=True), name="unrolled")(masked)
    plain = L.Bidirectional(L.SimpleRNN(3, return_sequences=True), name="looped")(masked)
    model = K.Model(x_in, [buggy, plain])
    x = np.random.RandomState(0).normal(size=(B, T, 3)).astype("float32")
    x[1, 4:] = 0.0
    report = rp.check_model(model, x)
    rows = _rows(report)
    assert rows["unrolled"].status == "xfail", report.table()
    assert rows["unrolled"].message.startswith("known framework bug [unroll-mask-go-backwards-zero-output]")
    assert rows["looped"].status == "pass"
    assert report.passed
    from rnnparity.testing import model_layer_params

    marks = {p.id: [m.name for m in p.marks] for p in model_layer_params(model, x)}
    assert marks == {"unrolled": ["xfail"], "looped": []}


@pytest.mark.parametrize("target", TARGETS)
def test_a_layer_that_raises_is_its_row(target):
    """Keras 3's LSTM raises on an empty batch (a registered bug): its row is an xfail, and a layer
    the forward pass never reached says so; tf_keras runs it."""
    K = keras_module(target)
    L = K.layers
    x_in = L.Input((None, 3))
    h = L.GRU(3, return_sequences=True, name="first_gru")(x_in)
    h = L.LSTM(2, return_sequences=True, name="lstm")(h)
    model = K.Model(x_in, L.SimpleRNN(2, name="last_rnn")(h))
    report = rp.check_model(model, np.zeros((0, T, 3), "float32"))
    rows = _rows(report)
    assert rows["first_gru"].status == "pass"
    if target == "keras3":
        assert rows["lstm"].status == "xfail"
        assert rows["lstm"].message.startswith("lstm: known framework bug [keras3-lstm-empty-batch]: "
                                               "the framework raised InvalidArgumentError")
        assert rows["last_rnn"].status == "fail"
        assert rows["last_rnn"].message == ("last_rnn: the model's forward pass never called this layer; "
                                            "the forward pass stopped with InvalidArgumentError")
        assert not report.passed
    else:
        assert report.passed, report.table()


@pytest.mark.parametrize("target", TARGETS)
def test_a_saturated_layer_passes_within_rounding(target):
    """A float32 GRU at T=2000 whose outputs exceed the tolerance table by rounding alone (seed 0
    of tests/saturation.py, see test_rounding): the row passes through the rounding verdict."""
    from rnnparity.check.tolerances import tolerance
    from tests.saturation import STEPS, saturated_layer

    K = keras_module(target)
    layer, x = saturated_layer(target, "gru", 0)
    x_in = K.layers.Input(x.shape[1:])
    model = K.Model(x_in, layer(x_in))
    row = rp.check_model(model, x).layers[0]
    assert row.status == "pass" and row.first_diverging_step is None
    assert row.message.startswith("beyond the tolerance used (the tolerance table (float32: atol=1e-06")
    assert "passed because the rounding verdict shows the differences are rounding" in row.message
    assert "rounding verdict: PASS" in row.message
    assert row.max_abs_error > tolerance("float32", STEPS)["atol"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_a_warm_stateful_bidirectional_is_checked_from_the_frameworks_own_reset(target, layer):
    """The user ran the model first (predict / fit): its stateful Bidirectional holds states. tf_keras'
    wrapper has no `states` of its own, and check_model used not to reset it while the reference
    started from zeros: outputs 0.4 apart passed "within rounding" (issue 21). The framework's own
    replay of the same batches after its own reset_states() is the oracle here."""
    K = keras_module(target)
    L = K.layers
    rng = np.random.RandomState(3)
    inputs = L.Input((T, 3), batch_size=B)
    out = L.Bidirectional(getattr(L, layer)(4, stateful=True, return_sequences=True), name="bidi")(inputs)
    model = K.Model(inputs, out)
    x = rng.normal(size=(B, T, 3)).astype("float32")
    warm = rng.normal(size=(B, T, 3)).astype("float32") * 3
    model(warm)  # the states are now far from zero
    report = rp.check_model(model, x, batches=2)
    row = _rows(report)["bidi"]
    assert row.status == "pass" and "within rounding" not in row.message, report.table()
    # the framework's own replay: reset, then the same two batches, gives what the check saw
    bidi = model.get_layer("bidi")
    (getattr(bidi, "reset_states", None) or bidi.reset_state)()
    replay = [np.asarray(model(x)) for _ in range(2)]
    captured = report.recordings["bidi"].outcome.outputs[:2]
    for ours, theirs in zip(captured, replay):
        np.testing.assert_array_equal(np.asarray(ours), theirs)
