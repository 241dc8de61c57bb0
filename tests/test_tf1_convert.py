"""TF1 cell <-> Keras layer converters (rnnparity.tf1_keras).

Live tests run both frameworks: the converted layer must reproduce the original's run (expected values
come from the framework run, never from the reference). Refusals are checked without TF.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

from rnnparity import tf1
from rnnparity.matrix.tf1_cases import CELLS
from rnnparity.tf1_keras import keras_states, keras_to_tf1, tf1_state, tf1_to_keras

TF_REASON = 'tensorflow, keras and tf_keras are needed for live conversion tests: pip install "rnnparity[tf]"'


def live(fn):
    """Mark a test as running real frameworks (and quiet the legacy cells' deprecation warnings)."""
    fn = pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell.*is deprecated:UserWarning")(fn)
    return pytest.mark.live(fn)

CONVERTIBLE = sorted(v for v, (cls, cfg) in CELLS.items()
                     if not (cfg.get("use_peepholes") or cfg.get("cell_clip") or cfg.get("num_proj")))
TARGETS = ("keras3", "tf_keras")
BATCH, STEPS, DEPTH = 3, 6, 2
LENGTHS = np.array([STEPS, 2, 0])


@pytest.fixture(scope="module")
def fw():
    """(tf, {target: keras module}, tf1 adapter); skips with the install hint when TF is missing."""
    tf = pytest.importorskip("tensorflow", reason=TF_REASON)
    keras = pytest.importorskip("keras", reason=TF_REASON)
    tf_keras = pytest.importorskip("tf_keras", reason=TF_REASON)
    from rnnparity.targets.registry import get

    return tf, {"keras3": keras, "tf_keras": tf_keras}, get("tf1")


def _check(expected, actual, names, label):
    from rnnparity.check.compare import compare_outputs

    problems = compare_outputs(list(expected), list(actual), names=names, prefix=f"{label}: ")
    assert not problems, "\n".join(p.message for p in problems)


def _random_tf1_cell(adapter, variant, dtype, seed=0):
    cls, config = CELLS[variant]
    cell = adapter.make_cell({"class": cls, "config": config}, dtype, DEPTH)
    rng = np.random.default_rng(seed)
    adapter.set_weights(cell, [rng.uniform(-0.8, 0.8, w.shape) for w in cell.weights])
    return cell


def _keras_layer(K, name, config, weights, wrap=False):
    layer = getattr(K.layers, name)(**config)
    if wrap:
        layer = K.layers.Bidirectional(layer, merge_mode=None, dtype=config["dtype"])
    layer.build((None, None, DEPTH))
    layer.set_weights(weights)
    return layer


def _tf1_state_as_keras(cell, state):
    """TF1 state -> Keras' [h, c] / [h], splitting a concatenated [c, h] at num_units."""
    if isinstance(state, np.ndarray) and isinstance(cell, tf1.BasicLSTMCell):
        state = tf1.LSTMStateTuple(state[:, :cell.num_units], state[:, cell.num_units:])
    return keras_states(state)


# -- TF1 cell -> Keras layer ---------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("variant", CONVERTIBLE)
@live
def test_tf1_to_keras_matches_tf1_run(fw, variant, target, dtype):
    tf, keras_modules, adapter = fw
    live = _random_tf1_cell(adapter, variant, dtype)
    ref = tf1.cell_from_tf(live)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH, STEPS, DEPTH)).astype(dtype)
    parts = [rng.normal(scale=0.5, size=(BATCH, s)).astype(dtype) for s in ref.state_sizes.values()]
    out, state = adapter.run("dynamic_rnn", live, x, initial_states=adapter.state_structure(live, parts))
    name, config, weights = tf1_to_keras(live, target=target)
    layer = _keras_layer(keras_modules[target], name, config, weights)
    keras_init = _tf1_state_as_keras(ref, ref.pack_state(parts))
    k_out = layer(tf.constant(x), initial_state=[tf.constant(s) for s in keras_init])
    k_seq, k_states = np.asarray(k_out[0]), [np.asarray(s) for s in k_out[1:]]
    names = ["outputs"] + [f"state {n}" for n in ("h", "c")[:len(k_states)]]
    _check([out, *_tf1_state_as_keras(ref, state)], [k_seq, *k_states], names,
           f"{variant} -> {target} {name} {dtype}")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("variant", ["basic_lstm", "gru_cell"])
@live
def test_sequence_length_vs_keras_mask(fw, variant, target):
    """Measured: with mask = t < length a Keras layer agrees with TF1 up to the length and on the final
    (frozen) state; past the length TF1 outputs zeros while Keras repeats the last valid output."""
    tf, keras_modules, adapter = fw
    live = _random_tf1_cell(adapter, variant, "float64")
    ref = tf1.cell_from_tf(live)
    x = np.random.default_rng(2).normal(size=(BATCH, STEPS, DEPTH))
    out, state = adapter.run("dynamic_rnn", live, x, sequence_length=LENGTHS, dtype="float64")
    layer = _keras_layer(keras_modules[target], *tf1_to_keras(live, target=target))
    mask = np.arange(STEPS)[None, :] < LENGTHS[:, None]
    k_out = [np.asarray(o) for o in layer(x, mask=mask)]
    valid = mask[:, :, None]
    _check([np.where(valid, out, 0), *_tf1_state_as_keras(ref, state)],
           [np.where(valid, k_out[0], 0), *k_out[1:]], ["outputs (t < length)", "h", "c"][:len(k_out)],
           f"{variant} {target} sequence_length vs mask")
    assert np.all(out[~mask] == 0), "TF1 outputs past the length are zeros"
    row = 1  # length 2: Keras carries output[1] forward
    np.testing.assert_array_equal(k_out[0][row, 2:], np.broadcast_to(k_out[0][row, 1], (STEPS - 2, ref.num_units)))
    assert np.abs(k_out[0][row, 2:]).max() > 0, "Keras outputs past the length are the carried last output"


@pytest.mark.parametrize("target", TARGETS)
@live
def test_bidirectional_reverse_by_length(fw, target):
    """Measured: Keras Bidirectional(merge_mode=None) with a right-padded mask equals TF1
    bidirectional_dynamic_rnn with sequence_length (outputs and states); without the mask Keras reverses
    the whole time axis (padding first), which equals TF1 without sequence_length but not with it."""
    tf, keras_modules, adapter = fw
    cells = [_random_tf1_cell(adapter, "gru_cell", "float64", seed=s) for s in (3, 4)]
    x = np.random.default_rng(5).normal(size=(BATCH, STEPS, DEPTH))
    (o_fw, o_bw), (s_fw, s_bw) = adapter.run("bidirectional_dynamic_rnn", tuple(cells), x,
                                             sequence_length=LENGTHS, dtype="float64")
    converted = [tf1_to_keras(c, target=target) for c in cells]
    name, config, _ = converted[0]
    bi = _keras_layer(keras_modules[target], name, config, converted[0][2] + converted[1][2], wrap=True)
    mask = np.arange(STEPS)[None, :] < LENGTHS[:, None]
    k = [np.asarray(o) for o in bi(x, mask=mask)]
    _check([o_fw, o_bw, s_fw, s_bw], k, ["output_fw", "output_bw", "state_fw", "state_bw"],
           f"bidirectional {target} mask vs sequence_length")
    k_nomask = np.asarray(bi(x)[1])
    (_, o_bw_full), _ = adapter.run("bidirectional_dynamic_rnn", tuple(cells), x, dtype="float64")
    _check([o_bw_full], [k_nomask], ["output_bw"], f"bidirectional {target} no mask vs no sequence_length")
    assert np.abs(k_nomask[1, :2] - o_bw[1, :2]).max() > 1e-3, \
        "without the mask Keras' backward pass starts on the padding, TF1's starts at the row's last step"


# -- Keras layer -> TF1 cell ---------------------------------------------------------------------------
KERAS_LAYERS = {
    "simple_rnn": ("SimpleRNN", {"units": 4}, {}),
    "simple_rnn_relu_nobias": ("SimpleRNN", {"units": 4, "activation": "relu", "use_bias": False}, {}),
    "lstm": ("LSTM", {"units": 4}, {}),
    "lstm_fb1_basic": ("LSTM", {"units": 4}, {"forget_bias": 1.0, "lstm_class": "BasicLSTMCell"}),
    "lstm_concat_state": ("LSTM", {"units": 4}, {"state_is_tuple": False, "forget_bias": 0.5}),
    "gru_reset_before": ("GRU", {"units": 4, "reset_after": False}, {}),
    "gru_nobias": ("GRU", {"units": 4, "reset_after": False, "use_bias": False}, {}),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("layer_id", sorted(KERAS_LAYERS))
@live
def test_keras_to_tf1_matches_keras_run(fw, layer_id, target, dtype):
    tf, keras_modules, adapter = fw
    cls, config, options = KERAS_LAYERS[layer_id]
    K = keras_modules[target]
    layer = getattr(K.layers, cls)(**config, return_sequences=True, return_state=True, dtype=dtype)
    layer.build((None, None, DEPTH))
    rng = np.random.default_rng(6)
    layer.set_weights([rng.uniform(-0.8, 0.8, w.shape).astype(dtype) for w in layer.get_weights()])
    x = rng.normal(size=(BATCH, STEPS, DEPTH)).astype(dtype)
    k_out = [np.asarray(o) for o in layer(x)]
    tf1_cls, tf1_config, tf1_weights = keras_to_tf1(cls, layer.get_config(), layer.get_weights(), **options)
    cell = adapter.make_cell({"class": tf1_cls, "config": tf1_config}, dtype, DEPTH)
    adapter.set_weights(cell, tf1_weights)
    out, state = adapter.run("dynamic_rnn", cell, x, dtype=dtype)
    ref = tf1.cell_from_tf(cell)
    _check(k_out, [out, *_tf1_state_as_keras(ref, state)], ["outputs", "h", "c"][:len(k_out)],
           f"{layer_id} {target} -> {tf1_cls} {dtype}")


# -- refusals (no TF needed) ----------------------------------------------------------------------------
def _ref_cell(cls, **kwargs):
    cell = getattr(tf1, cls)(4, **kwargs)
    rng = np.random.default_rng(0)
    cell.set_weights([rng.uniform(-1, 1, s).astype("float32") for _, s in cell.weight_specs(DEPTH)])
    return cell


@pytest.mark.parametrize("option, kwargs", [
    ("use_peepholes", {"use_peepholes": True}),
    ("cell_clip", {"cell_clip": 1.0}),
    ("num_proj", {"num_proj": 2}),
])
def test_tf1_to_keras_refuses_unmatched_lstm_options(option, kwargs):
    with pytest.raises(ValueError, match=f"{option}=.*no Keras LSTM equivalent"):
        tf1_to_keras(_ref_cell("LSTMCell", **kwargs))


def test_tf1_to_keras_refuses_hard_sigmoid_for_keras3():
    cell = _ref_cell("BasicRNNCell", activation="hard_sigmoid")
    with pytest.raises(ValueError, match="hard_sigmoid.*different maths in Keras 3"):
        tf1_to_keras(cell, target="keras3")
    assert tf1_to_keras(cell, target="tf_keras")[1]["activation"] == "hard_sigmoid"


def test_tf1_to_keras_refuses_unbuilt_cell_and_unknown_target():
    with pytest.raises(ValueError, match="no weights"):
        tf1_to_keras(tf1.GRUCell(3))
    with pytest.raises(ValueError, match="target must be one of"):
        tf1_to_keras(_ref_cell("GRUCell"), target="keras4")


def _keras_weights(cls, units=4, use_bias=True, reset_after=False):
    n = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}[cls] * units
    ws = [np.zeros((DEPTH, n), "float32"), np.zeros((units, n), "float32")]
    if use_bias:
        ws.append(np.zeros((2, n) if reset_after else (n,), "float32"))
    return ws


@pytest.mark.parametrize("cls, config, match", [
    ("GRU", {"units": 4, "reset_after": True}, "reset_after=True"),
    ("GRU", {"units": 4}, "reset_after=True"),  # the Keras default
    ("LSTM", {"units": 4, "recurrent_activation": "hard_sigmoid"}, "recurrent_activation='hard_sigmoid'"),
    ("LSTM", {"units": 4, "go_backwards": True}, "go_backwards=True"),
    ("SimpleRNN", {"units": 4, "stateful": True}, "stateful=True"),
    ("LSTM", {"units": 4, "dropout": 0.5}, "dropout=0.5"),
    ("GRU", {"units": 4, "reset_after": False, "recurrent_dropout": 0.1}, "recurrent_dropout=0.1"),
    ("SimpleRNN", {"units": 4, "activation": "no_such_activation"}, "activation='no_such_activation'"),
    ("ConvLSTM2D", {"units": 4}, "no TF1 cell equivalent"),
])
def test_keras_to_tf1_refusals(cls, config, match):
    weights = _keras_weights(cls if cls != "ConvLSTM2D" else "LSTM",
                             reset_after=config.get("reset_after", cls == "GRU"))
    with pytest.raises(ValueError, match=match):
        keras_to_tf1(cls, config, weights)


def test_keras_to_tf1_wrong_weight_count():
    with pytest.raises(ValueError, match="has 3 weight arrays.*got 2"):
        keras_to_tf1("LSTM", {"units": 4}, _keras_weights("LSTM")[:2])


def test_state_order_helpers():
    c, h = np.zeros((1, 2)), np.ones((1, 2))
    assert [s.tolist() for s in keras_states(tf1.LSTMStateTuple(c, h))] == [h.tolist(), c.tolist()]
    back = tf1_state([h, c])
    assert isinstance(back, tf1.LSTMStateTuple) and back.c is c and back.h is h
    assert tf1_state([h, c], state_is_tuple=False).tolist() == [[0, 0, 1, 1]]
