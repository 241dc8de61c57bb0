"""ConvLSTM1D/2D/3D against live Keras 3 and tf_keras, beyond the case matrix: seeded random
configurations (rank, filters, kernel sizes 1-3, strides, padding, dilation, data_format, flags,
stateful with two calls and a reset, initial states, masks, Bidirectional merge modes, activations,
float32/float64). For each: `rp.from_keras(layer)` agrees with the layer, `rp.explain` gives the
shapes the layer returns, and `assert_parity` passes. Configurations the framework refuses are
refused by the reference too. The framework is the oracle for every value.

Small shapes (spatial 3-7, T 3-4) keep the file fast. channels_first: tf_keras transposes to
channels_last itself and draws it for every rank. Keras 3 on TensorFlow's CPU cannot run it for 1-D
and 2-D (tf.nn.convolution has no NCW/NCHW CPU kernel: UnimplementedError), and runs 3-D through a
freshly XLA-compiled tf.function at every convolution (keras/src/backend/tensorflow/nn.py `conv`,
about 0.5 s each): so Keras 3 channels_first has its own short ConvLSTM3D test.
"""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.targets import registry
from rnnparity.testing import assert_parity

pytestmark = pytest.mark.live
DIALECT_TARGET = {"keras3": "keras3", "keras2": "tf_keras"}
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "hard_sigmoid", "elu", "softsign")
N_CONFIGS = 18  # per dialect
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}  # a direct check; assert_parity judges rounding


def _adapter(dialect):
    target = DIALECT_TARGET[dialect]
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    return registry.get(target)


def random_config(seed, dialect):
    """A seeded random ConvLSTM configuration: (spec, input shape, call options)."""
    rng = np.random.default_rng([seed, 0 if dialect == "keras3" else 1])
    rank = int(rng.integers(1, 4))
    kernel = tuple(int(k) for k in rng.integers(1, 4, rank))
    strided = rng.random() < 0.4
    strides = tuple(int(s) for s in rng.integers(1, 3, rank)) if strided else (1,) * rank
    dilation = (1,) * rank if strided else tuple(int(d) for d in rng.integers(1, 3, rank))
    padding = str(rng.choice(["valid", "same"]))
    first = rng.random() < 0.3 and dialect == "keras2"
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = {1: (5, 7), 2: (4, 6), 3: (3, 5)}[rank]
    spatial = tuple(max(s, int(rng.integers(*sizes))) for s in spans)
    channels, batch, steps = int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(3, 5))
    wrapper = None if rng.random() < 0.6 else {"merge_mode": [None, "concat", "sum", "mul", "ave"][
        int(rng.integers(0, 5))]}
    stateful = wrapper is None and rng.random() < 0.3
    config = {
        "filters": int(rng.integers(1, 5)), "kernel_size": kernel, "strides": strides,
        "padding": padding, "dilation_rate": dilation,
        "data_format": "channels_first" if first else "channels_last",
        "activation": str(rng.choice(ACTIVATIONS)),
        "recurrent_activation": str(rng.choice(["sigmoid", "hard_sigmoid", "tanh"])),
        "use_bias": bool(rng.random() < 0.8), "unit_forget_bias": bool(rng.random() < 0.5),
        "dropout": 0.25 if rng.random() < 0.2 else 0.0,
        "recurrent_dropout": 0.25 if rng.random() < 0.2 else 0.0,
        "return_sequences": bool(rng.random() < 0.5), "return_state": bool(rng.random() < 0.5),
        "go_backwards": bool(rng.random() < 0.4) and not (wrapper and dialect == "keras3"),
        "stateful": stateful, "dtype": str(rng.choice(["float32", "float64"])),
    }
    if stateful and dialect == "keras2":  # tf_keras' float64 stateful ConvLSTM fails: see below
        config["dtype"] = "float32"
    shape = ((batch, steps, channels, *spatial) if first else (batch, steps, *spatial, channels))
    # tf_keras ignores the zero_output_for_mask that Bidirectional(return_sequences=True) sets: a
    # registered divergence (tf_keras-conv-lstm-ignores-zero-output-for-mask), checked by the matrix
    ignored = dialect == "keras2" and wrapper is not None and config["return_sequences"]
    options = {"mask": rng.random() < 0.4 and not stateful and not ignored,
               "initial_state": rng.random() < 0.35 and not stateful}
    spec = {"class": f"ConvLSTM{rank}D", "config": config, "wrapper": wrapper}
    if wrapper is not None:
        spec["wrapper"]["dtype"] = config["dtype"]
    return spec, shape, options


def seeded_layer(dialect, spec, shape, seed):
    """The live layer, built, with seeded random weights different for every gate and filter."""
    layer = _adapter(dialect).build(spec, shape)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, np.shape(w)).astype(np.asarray(w).dtype)
                       for w in layer.get_weights()])
    return layer


def call_inputs(spec, shape, options, seed):
    rng = np.random.default_rng([seed, 7])
    dtype = spec["config"]["dtype"]
    x = rng.standard_normal(shape).astype(dtype)
    mask = None
    if options["mask"]:
        mask = rng.random(shape[:2]) < 0.7
        mask[0, :] = True  # one full row; the others have holes (and maybe a fully masked row)
    states = None
    if options["initial_state"]:
        one_step = {"class": spec["class"], "config": {**spec["config"], "return_sequences": False}}
        step = rp.explain(one_step, shape).outputs[0].shape  # (batch, *out, filters): h's shape
        n = 4 if spec["wrapper"] is not None else 2
        states = [rng.uniform(-1, 1, step).astype(dtype) for _ in range(n)]
    return x, mask, states


def as_list(out):
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else [np.asarray(out)]


def assert_agree(expected, actual, dtype, where):
    expected, actual = as_list(expected), as_list(actual)
    assert [e.shape for e in expected] == [a.shape for a in actual], where
    for k, (e, a) in enumerate(zip(expected, actual)):
        np.testing.assert_allclose(a, e, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype],
                                   err_msg=f"{where}: output [{k}]")


def config_id(seed, dialect):
    spec, shape, options = random_config(seed, dialect)
    c = spec["config"]
    words = [f"{c['filters']}f", "k" + "x".join(map(str, c["kernel_size"]))]
    words += ["s" + "x".join(map(str, c["strides"]))] if max(c["strides"]) > 1 else []
    words += ["d" + "x".join(map(str, c["dilation_rate"]))] if max(c["dilation_rate"]) > 1 else []
    words += [c["padding"], "cf" if c["data_format"] == "channels_first" else "cl"]
    words += [k for k, w in (("seq", "return_sequences"), ("state", "return_state"),
                             ("bwd", "go_backwards"), ("stateful", "stateful")) if c[w]]
    words += [f"bidi_{str(spec['wrapper']['merge_mode']).lower()}"] if spec["wrapper"] else []
    words += [k for k in ("mask", "initial_state") if options[k]]
    return "-".join([spec["class"].lower(), *words, c["dtype"].replace("float", "f"), dialect])


CASES = [(seed, dialect) for dialect in ("keras3", "keras2") for seed in range(N_CONFIGS)]


@pytest.mark.parametrize("seed,dialect", CASES, ids=[config_id(s, d) for s, d in CASES])
def test_random_configuration(seed, dialect):
    spec, shape, options = random_config(seed, dialect)
    dtype = spec["config"]["dtype"]
    layer = seeded_layer(dialect, spec, shape, seed)
    adapter = _adapter(dialect)
    reference = rp.from_keras(layer)
    x, mask, states = call_inputs(spec, shape, options, seed)
    expected = adapter.call(layer, x, mask, states)
    actual = reference(x, mask=mask, initial_state=states)
    assert_agree(expected, actual, dtype, "first call")
    assert [tuple(o.shape) for o in rp.explain(layer, shape).outputs] == [e.shape for e in as_list(expected)]
    if spec["config"]["stateful"]:  # a second call carries the states on, a reset zeroes them
        x2 = np.flip(x, axis=1).copy()
        assert_agree(adapter.call(layer, x2), reference(x2), dtype, "second call (states carried)")
        adapter.reset(layer)
        reference.reset_states()
        assert_agree(adapter.call(layer, x), reference(x), dtype, "after reset_states")
    assert_parity(layer, x, mask=mask, initial_state=states)


IGNORES_ZERO_OUTPUT = pytest.mark.xfail(strict=True, reason="registered divergence "
                                        "tf_keras-conv-lstm-ignores-zero-output-for-mask")


@pytest.mark.parametrize("dialect", ["keras3", pytest.param("keras2", marks=IGNORES_ZERO_OUTPUT)])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_every_merge_mode(merge_mode, dialect):
    """With a mask and return_sequences: Keras 3 zeroes the masked outputs (zero_output_for_mask, which
    Bidirectional forces), as the reference does; tf_keras' ConvLSTM repeats the previous output (it
    ignores the flag): a strict xfail until tf_keras honours it."""
    spec = {"class": "ConvLSTM1D", "config": {"filters": 2, "kernel_size": 2, "padding": "same",
                                              "return_sequences": True, "return_state": True},
            "wrapper": {"merge_mode": merge_mode}}
    shape = (2, 4, 5, 2)
    layer = seeded_layer(dialect, spec, shape, 3)
    x = np.random.default_rng(3).standard_normal(shape).astype("float32")
    mask = np.array([[True, False, True, True], [True, True, False, False]])
    assert_agree(_adapter(dialect).call(layer, x, mask), rp.from_keras(layer)(x, mask=mask), "float32",
                 f"Bidirectional(merge_mode={merge_mode!r})")
    assert_parity(layer, x, mask=mask)


def test_tf_keras_bidirectional_mul_agrees_where_no_masked_step_lies_between_valid_ones():
    """merge_mode='mul': each direction's output before its first valid step is 0 whether or not the
    layer zeroes masked steps, so the ignored flag shows only where a masked step has valid steps on
    both sides (the registry's predicate for tf_keras-conv-lstm-ignores-zero-output-for-mask)."""
    spec = {"class": "ConvLSTM1D", "config": {"filters": 2, "kernel_size": 2, "padding": "same",
                                              "return_sequences": True},
            "wrapper": {"merge_mode": "mul"}}
    shape = (2, 4, 5, 2)
    layer = seeded_layer("keras2", spec, shape, 3)
    x = np.random.default_rng(3).standard_normal(shape).astype("float32")
    mask = np.array([[False, True, True, True], [True, True, False, False]])  # leading, trailing gaps
    assert_agree(_adapter("keras2").call(layer, x, mask), rp.from_keras(layer)(x, mask=mask), "float32",
                 "Bidirectional(merge_mode='mul'), no interior hole")


def test_keras3_channels_first_conv_lstm3d():
    spec = {"class": "ConvLSTM3D", "config": {"filters": 2, "kernel_size": (2, 3, 1), "padding": "same",
                                              "data_format": "channels_first", "return_sequences": True,
                                              "return_state": True}}
    shape = (2, 2, 2, 3, 4, 2)  # (batch, time, channels, depth, height, width)
    layer = seeded_layer("keras3", spec, shape, 0)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    outputs = assert_parity(layer, x)
    assert [o.shape for o in outputs] == [(2, 2, 2, 3, 4, 2), (2, 2, 3, 4, 2), (2, 2, 3, 4, 2)]


@pytest.mark.parametrize("dialect, cls, shape, activations", [
    ("keras2", "ConvLSTM1D", (2, 3, 2, 5), {"activation": "softmax"}),
    ("keras2", "ConvLSTM2D", (2, 3, 2, 4, 5), {"recurrent_activation": "softmax"}),
    # Keras 3 runs a channels_first ConvLSTM on CPU only at rank 3 (keras3-conv-lstm-channels-first-cpu)
    ("keras3", "ConvLSTM3D", (2, 2, 2, 3, 4, 2), {"activation": "log_softmax", "recurrent_activation": "softmax"}),
])
def test_row_wise_activations_act_in_the_channels_first_layout(dialect, cls, shape, activations):
    """Keras applies a ConvLSTM's activations to its channels_first arrays, so softmax & co. normalise
    along the last spatial axis, not the filters (found by rnnparity explore)."""
    spec = {"class": cls, "config": {"filters": 3, "kernel_size": 2, "padding": "same",
                                     "data_format": "channels_first", "return_sequences": True,
                                     "return_state": True, **activations}}
    layer = seeded_layer(dialect, spec, shape, 5)
    x = np.random.default_rng(5).standard_normal(shape).astype("float32")
    assert_parity(layer, x)


# -- configurations the framework refuses --------------------------------------------------------
REFUSED = {
    "strides_and_dilation": {"strides": 2, "dilation_rate": 2},
    "strides_and_dilation_per_axis": {"strides": (2, 1), "dilation_rate": (1, 2)},
    "causal_padding": {"padding": "causal"},
    "zero_strides": {"strides": 0},
    "valid_window_too_large": {"kernel_size": 4, "dilation_rate": 2},
    "kernel_size_of_rank_3": {"kernel_size": (3, 3, 3)},
    "strides_of_rank_1": {"strides": (1,)},
    "unknown_data_format": {"data_format": "nchw"},
}


def _refuses(make, run):
    """Whether building (make) or the first call (run) raises."""
    try:
        built = make()
    except (ValueError, TypeError):
        return True
    try:
        run(built)
    except Exception:  # noqa: BLE001 - the framework raises its own types (InvalidArgumentError, ...)
        return True
    return False


@pytest.mark.parametrize("dialect", ["keras3", "keras2"])
@pytest.mark.parametrize("name", sorted(REFUSED) + ["unroll"])
def test_refused_configurations(name, dialect):
    config = {"filters": 2, "kernel_size": 3, **REFUSED.get(name, {"unroll": True})}
    x = np.random.default_rng(0).standard_normal((1, 3, 5, 6, 2)).astype("float32")
    layers = _adapter(dialect).K.layers
    framework = _refuses(lambda: layers.ConvLSTM2D(**config), lambda layer: layer(x))
    ours = _refuses(lambda: rp.ConvLSTM2D(**config, dialect=dialect),
                    lambda ref: (ref.set_weights([np.zeros(s) for _, s in ref.cell.weight_specs(2)]), ref(x)))
    assert ours == framework, f"{dialect} {'refuses' if framework else 'accepts'} {config}; the reference does not"
    explained = _refuses(lambda: rp.explain({"class": "ConvLSTM2D", "config": config}, x.shape, dialect=dialect),
                         lambda _: None)
    assert explained == framework, f"{dialect} {'refuses' if framework else 'accepts'} {config}; explain does not"


@pytest.mark.parametrize("dialect", ["keras3", "keras2"])
def test_wrong_initial_state_shape_is_refused_alike(dialect):
    """Neither framework broadcasts a ConvLSTM state: (filters,) or a spatial-less state fails."""
    layer = seeded_layer(dialect, {"class": "ConvLSTM2D", "config": {"filters": 3, "kernel_size": 3,
                                                                    "padding": "same"}}, (2, 3, 5, 6, 2), 0)
    x = np.zeros((2, 3, 5, 6, 2), "float32")
    bad = [np.zeros((5, 6, 3), "float32")] * 2
    with pytest.raises(Exception):
        _adapter(dialect).call(layer, x, None, bad)
    with pytest.raises(ValueError, match="state 'h' must have shape"):
        rp.from_keras(layer)(x, initial_state=bad)


# -- framework bugs found here (to register in rnnparity.check.divergences) ----------------------
TF_KERAS_STATEFUL_FLOAT64 = """\
import numpy as np, tf_keras
layer = tf_keras.layers.ConvLSTM1D(2, 3, stateful=True, dtype="float64")
layer.build((2, 4, 6, 2))
print([s.dtype for s in layer.states])  # [tf.float32, tf.float32]: ConvRNN.reset_states uses backend.zeros
layer(np.zeros((2, 4, 6, 2)))           # ValueError: Tensor conversion requested dtype float32 for ... float64
"""


@pytest.mark.xfail(strict=True, raises=ValueError,
                   reason="tf_keras: a stateful ConvLSTM with dtype float64 fails on its first call (its "
                          "state variables are float32); repro:\n" + TF_KERAS_STATEFUL_FLOAT64)
def test_tf_keras_stateful_float64_conv_lstm():
    spec = {"class": "ConvLSTM1D", "config": {"filters": 2, "kernel_size": 3, "stateful": True,
                                              "dtype": "float64"}}
    layer = seeded_layer("keras2", spec, (2, 4, 6, 2), 0)
    assert_parity(layer, np.random.default_rng(0).standard_normal((2, 4, 6, 2)))


@pytest.mark.parametrize("dialect", ["keras3", "keras2"])
def test_check_model_on_a_nowcasting_model(dialect):
    """Stacked ConvLSTM2D + BatchNormalization + Conv3D: every ConvLSTM row passes."""
    K = _adapter(dialect).K
    inputs = K.Input((4, 8, 8, 1))
    h = K.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)(inputs)
    h = K.layers.BatchNormalization()(h)
    h = K.layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)(h)
    model = K.Model(inputs, K.layers.Conv3D(1, 3, padding="same")(h))
    report = rp.check_model(model, np.random.default_rng(0).standard_normal((2, 4, 8, 8, 1)).astype("float32"))
    assert [(row.cls, row.status) for row in report.layers] == [("ConvLSTM2D", "pass")] * 2 and report.passed
