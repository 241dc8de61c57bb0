"""Bad input, table-driven: every row either gets a clear ValueError/TypeError naming the problem, or
behaves exactly as the live framework does.

Where a row's expectation comes from a framework, the framework runs here (keras3 and tf_keras, each
row on each target, skipped with the reason when it is not installed): the same bad call goes to the
live layer and to the reference copied from it by `from_keras`. If the framework raises, the reference
must raise at the same call, with the exception type `runner.expected_reference_error` maps the
framework's to (or the row's own, for dtype problems), and a message matching the row's pattern. If
the framework runs through, the reference must give the same outputs (`compare_outputs`).
Rows with no framework counterpart (calling a reference before its weights are set...) only check
the reference's error.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.targets import registry
from rnnparity.check.compare import compare_outputs
from rnnparity.keras_to_reference import from_spec
from rnnparity.plan import Call, Plan, Reset, seeded_weights
from rnnparity.check.divergences import INPUT_BUGS, input_divergence
from rnnparity.targets.keras_adapter import to_numpy
from rnnparity.check.runner import expected_reference_error
from rnnparity.targets.base import execute

TARGETS = ("keras3", "tf_keras")
UNITS, FEATURES = 2, 3
RAW_NUMPY = re.compile(r"operands could not be broadcast|cannot reshape|index \d+ is out of bounds|"
                       r"matmul: Input operand")
@dataclass
class TCall(Call):
    training: bool = False


@dataclass
class Row:
    id: str
    kind: str  # "call" | "construct" | "set_weights"
    layer: str = "LSTM"
    config: dict = field(default_factory=dict)
    wrapper: str | None = "-"  # "-" = no wrapper, else the Bidirectional merge_mode (None allowed)
    build: tuple = (None, None, FEATURES)
    steps: Callable | None = None  # rng -> [TCall | Reset]   (kind "call")
    bad_weights: Callable | None = None  # good weights -> bad weights   (kind "set_weights")
    match: str = ""  # the reference's message must match this when it raises
    ref_error: type | None = None  # overrides the type mapped from the framework's error

    def spec(self):
        config = {"units": UNITS, **self.config}
        wrapper = None if self.wrapper == "-" else {"merge_mode": self.wrapper}
        return {"class": self.layer, "config": config, "wrapper": wrapper}


def _x(rng, b=2, t=4, f=FEATURES, dtype="float32"):
    return rng.normal(size=(b, t, f)).astype(dtype)


def _with_values(rng, value, where=(0, 1)):
    x = _x(rng)
    x[where] = value
    return x


MASK = np.array([[1, 1, 0, 1], [1, 0, 0, 1]])
# fmt: off
CALL_ROWS = [
    Row("rank2_input", "call", steps=lambda r: [TCall(r.normal(size=(2, 3)).astype("float32"))], match="rank 3"),
    Row("rank4_input", "call", steps=lambda r: [TCall(_x(r)[..., None])], match="rank 3"),
    Row("wrong_feature_size", "call", steps=lambda r: [TCall(_x(r, f=5))], match="5 features .*expects 3"),
    Row("wrong_feature_size_bidi", "call", wrapper="concat", steps=lambda r: [TCall(_x(r, f=1))],
        match="1 features .*expects 3"),
    Row("zero_timesteps", "call", steps=lambda r: [TCall(_x(r, t=0))], match="0 timesteps"),
    Row("zero_timesteps_bidi", "call", layer="GRU", wrapper="sum", config={"return_sequences": True},
        steps=lambda r: [TCall(_x(r, t=0))], match="0 timesteps"),
    Row("empty_batch_lstm", "call", config={"return_sequences": True, "return_state": True},
        steps=lambda r: [TCall(_x(r, b=0))]),
    Row("empty_batch_gru", "call", layer="GRU", config={"return_state": True},
        steps=lambda r: [TCall(_x(r, b=0))]),
    Row("empty_batch_simple_rnn_bidi", "call", layer="SimpleRNN", wrapper="concat",
        config={"return_sequences": True}, steps=lambda r: [TCall(_x(r, b=0))]),
    Row("nan_input", "call", config={"return_sequences": True, "return_state": True},
        steps=lambda r: [TCall(_with_values(r, np.nan))]),
    Row("inf_input", "call", layer="GRU", config={"return_sequences": True},
        steps=lambda r: [TCall(_with_values(r, np.inf))]),
    Row("neg_inf_input_simple_rnn", "call", layer="SimpleRNN", config={"return_sequences": True},
        steps=lambda r: [TCall(_with_values(r, -np.inf, (1, 2)))]),
    Row("nan_at_masked_step", "call", config={"return_sequences": True},
        steps=lambda r: [TCall(_with_values(r, np.nan, (0, 2)), MASK.astype(bool))]),
    Row("nan_input_bidi", "call", layer="GRU", wrapper="ave", config={"return_sequences": True},
        steps=lambda r: [TCall(_with_values(r, np.nan, (1, 3)), MASK.astype(bool))]),
    Row("mask_wrong_time", "call", steps=lambda r: [TCall(_x(r), np.ones((2, 3), bool))], match="mask must have shape"),
    Row("mask_wrong_batch", "call", steps=lambda r: [TCall(_x(r), np.ones((3, 4), bool))], match="mask must have shape"),
    Row("mask_transposed", "call", steps=lambda r: [TCall(_x(r), np.ones((4, 2), bool))], match="mask must have shape"),
    Row("mask_float", "call", steps=lambda r: [TCall(_x(r), MASK * 0.5)]),
    Row("mask_int", "call", layer="GRU", steps=lambda r: [TCall(_x(r), MASK.astype("int32"))]),
    Row("mask_trailing_axis", "call", layer="SimpleRNN", config={"return_sequences": True},
        steps=lambda r: [TCall(_x(r), MASK.astype(bool)[:, :, None])]),
    Row("mask_strings", "call", steps=lambda r: [TCall(_x(r), np.full((2, 4), "a"))],
        match="mask must be boolean", ref_error=TypeError),
    Row("initial_state_too_few", "call", steps=lambda r: [TCall(_x(r), None, [np.zeros((2, UNITS), "float32")])],
        match="expects 2 state"),
    Row("initial_state_too_many", "call", layer="SimpleRNN",
        steps=lambda r: [TCall(_x(r), None, [np.zeros((2, UNITS), "float32")] * 2)], match="expects 1 state"),
    Row("initial_state_too_many_gru", "call", layer="GRU", config={"return_state": True},
        steps=lambda r: [TCall(_x(r), None, [r.uniform(size=(2, UNITS)).astype("float32") for _ in "ab"])],
        match="expects 1 state"),
    Row("initial_state_wrong_units", "call",
        steps=lambda r: [TCall(_x(r), None, [np.zeros((2, UNITS + 1), "float32")] * 2)], match="must have shape"),
    Row("initial_state_wrong_batch", "call",
        steps=lambda r: [TCall(_x(r), None, [np.zeros((3, UNITS), "float32")] * 2)], match="must have shape"),
    Row("initial_state_rank1", "call",
        steps=lambda r: [TCall(_x(r), None, [r.uniform(size=UNITS).astype("float32") for _ in "hc"])],
        match="must have shape"),
    Row("initial_state_batch_of_1", "call", layer="GRU",
        steps=lambda r: [TCall(_x(r), None, [r.uniform(size=(1, UNITS)).astype("float32")])],
        match="must have shape"),
    Row("initial_state_bidi_odd_count", "call", layer="LSTM", wrapper="concat",
        steps=lambda r: [TCall(_x(r), None, [np.zeros((2, UNITS), "float32")] * 3)], match="initial_state"),
    Row("stateful_batch_change", "call", config={"stateful": True}, build=(2, None, FEATURES),
        steps=lambda r: [TCall(_x(r)), TCall(_x(r, b=3))], match="batch size"),
    Row("stateful_batch_change_after_reset", "call", layer="GRU", config={"stateful": True},
        build=(2, None, FEATURES), steps=lambda r: [TCall(_x(r)), Reset(), TCall(_x(r, b=1))], match="batch size"),
    Row("stateful_first_call_other_batch", "call", layer="SimpleRNN", config={"stateful": True},
        build=(2, None, FEATURES), steps=lambda r: [TCall(_x(r, b=3))], match="batch size"),
    Row("stateful_batch_change_bidi", "call", layer="GRU", wrapper="concat", config={"stateful": True},
        build=(2, None, FEATURES), steps=lambda r: [TCall(_x(r)), TCall(_x(r, b=4))], match="batch size"),
    Row("integer_input", "call", steps=lambda r: [TCall(r.randint(-2, 3, size=(2, 4, FEATURES)))],
        match="input must be floating point", ref_error=TypeError),
    Row("boolean_input", "call", layer="GRU", steps=lambda r: [TCall(r.uniform(size=(2, 4, FEATURES)) > .5)],
        match="input must be floating point", ref_error=TypeError),
    Row("float64_input_float32_layer", "call", steps=lambda r: [TCall(_x(r, dtype="float64"))]),
    Row("training_without_dropout", "call", layer="GRU", steps=lambda r: [TCall(_x(r), training=True)]),
]

CONSTRUCT_ROWS = [
    Row("units_zero", "construct", config={"units": 0}, match="units must be a positive integer"),
    Row("units_negative", "construct", layer="GRU", config={"units": -3}, match="units must be a positive integer"),
    Row("units_string", "construct", config={"units": "3"}, match="units must be a positive integer"),
    Row("merge_mode_invalid", "construct", wrapper="max", match="merge mode"),
    Row("activation_unknown", "construct", layer="SimpleRNN", config={"activation": "nope"}, match="activation='nope'"),
    Row("recurrent_activation_unknown", "construct", config={"recurrent_activation": "nope"},
        match="recurrent_activation='nope'"),
    Row("dropout_above_one_is_clipped", "construct", config={"dropout": 1.5, "recurrent_dropout": -0.5}),
]

def _drop_last(w):
    return w[:-1]


def _flat_bias(w):
    return w[:-1] + [w[-1].reshape(-1)]


def _bias_rows(w):
    return w[:-1] + [np.stack([w[-1], w[-1]])]


SET_WEIGHT_ROWS = [
    Row("weights_too_few", "set_weights", bad_weights=_drop_last, match="expected 3 weight arrays"),
    Row("weights_too_many", "set_weights", layer="SimpleRNN", bad_weights=lambda w: w + [w[-1]],
        match="expected 3 weight arrays"),
    Row("weights_nobias_given_bias", "set_weights", layer="GRU", config={"use_bias": False},
        bad_weights=lambda w: w + [np.zeros((2, 3 * UNITS), "float32")], match="expected 2 weight arrays"),
    Row("kernel_transposed", "set_weights", bad_weights=lambda w: [w[0].T] + w[1:], match="kernel"),
    Row("recurrent_kernel_wrong_shape", "set_weights", layer="GRU",
        bad_weights=lambda w: [w[0], w[1][:, :-1], w[2]], match="recurrent_kernel"),
    Row("bias_wrong_length", "set_weights", bad_weights=lambda w: w[:-1] + [w[-1][:-1]], match="bias"),
    Row("gru_reset_after_true_given_1d_bias", "set_weights", layer="GRU", config={"reset_after": True},
        bad_weights=_flat_bias, match=r"bias.*\(2, 6\).*reset_after=True"),
    Row("gru_reset_after_false_given_2d_bias", "set_weights", layer="GRU", config={"reset_after": False},
        bad_weights=_bias_rows, match=r"bias.*\(6,\).*reset_after=False"),
    Row("bidi_weights_too_few", "set_weights", layer="GRU", wrapper="concat", bad_weights=_drop_last,
        match="expected 6 weight arrays"),
]
# fmt: on
LIVE_ROWS = CALL_ROWS + CONSTRUCT_ROWS + SET_WEIGHT_ROWS


# -- running a row on a live framework and on the reference -------------------------------------
def _adapter(target):
    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)
    return registry.get(target)


def _seed(row):
    return zlib.crc32(row.id.encode())


def _built(adapter, row):
    layer = adapter.build(row.spec(), row.build)
    weights = seeded_weights([w.shape for w in adapter.get_weights(layer)], _seed(row))
    adapter.set_weights(layer, weights)
    return layer


def _fw_call(adapter, layer):
    tf = adapter.tf

    def call(step):
        kwargs = {"training": step.training}
        if step.mask is not None:
            kwargs["mask"] = tf.convert_to_tensor(step.mask)  # no cast: the dtype is the point
        if step.initial_state is not None:
            kwargs["initial_state"] = [tf.convert_to_tensor(s) for s in step.initial_state]
        return to_numpy(layer(tf.convert_to_tensor(step.x), **kwargs))

    return call


def _reset(layer):
    return (getattr(layer, "reset_states", None) or layer.reset_state)


def _check_reference_error(row, fw_error, exc, where=""):
    __tracebackhide__ = True
    want = row.ref_error.__name__ if row.ref_error else expected_reference_error(fw_error)
    msg = str(exc)
    assert type(exc).__name__ == want, (
        f"{where}the framework raised {fw_error}, so the reference must raise {want}; it raised "
        f"{type(exc).__name__}: {msg}")
    assert not RAW_NUMPY.search(msg), f"{where}raw NumPy error leaked out: {msg}"
    assert re.search(row.match, msg), f"{where}message {msg!r} does not name the problem /{row.match}/"


def _run_call_row(row, target):
    adapter = _adapter(target)
    layer = _built(adapter, row)
    ref = rp.from_keras(layer)
    plan = Plan(row.steps(np.random.RandomState(_seed(row))))
    fw = execute(_fw_call(adapter, layer), _reset(layer), plan)
    ours = execute(lambda s: ref(s.x, mask=s.mask, initial_state=s.initial_state, training=s.training),
                   ref.reset_states if getattr(ref, "stateful", False) else None, plan)
    for k, (e, a) in enumerate(zip(fw.outputs, ours.outputs)):
        problems = compare_outputs(e, a, prefix=f"call {k}: ")
        assert not problems, "\n".join(p.message for p in problems)
    if fw.error is None:
        assert ours.error is None, f"the framework ran through; the reference raised {ours.error}"
        assert len(ours.outputs) == len(fw.outputs)
        return
    assert ours.error is not None, f"the framework raised {fw.error[1]}: {fw.error[2]}; the reference ran"
    assert ours.error[0] == fw.error[0], (f"the framework raised at step {fw.error[0]}, the reference "
                                          f"at step {ours.error[0]}: {ours.error}")
    # execute keeps only the first line of the message: re-run the failing step for the exception
    _check_reference_error(row, fw.error[1], _reraise(ref, plan, ours.error[0]))


def _reraise(ref, plan, index):
    # the reference's state at the failing step is what execute left: run that step again
    step = plan.steps[index]
    try:
        if isinstance(step, Reset):
            ref.reset_states()
        else:
            ref(step.x, mask=step.mask, initial_state=step.initial_state, training=step.training)
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("re-running the failing step did not raise again")


def _run_construct_row(row, target):
    adapter = _adapter(target)
    try:
        live = adapter.build(row.spec(), row.build)
        fw_error = None
    except Exception as exc:  # noqa: BLE001
        fw_error = type(exc).__name__
    try:
        ref = from_spec(row.spec(), adapter.dialect)
        ref_exc = None
    except Exception as exc:  # noqa: BLE001
        ref_exc = exc
    if fw_error is None:
        assert ref_exc is None, f"the framework accepts this configuration; the reference raised {ref_exc!r}"
        live_config, ref_config = live.get_config(), ref.get_config()
        for key in row.config:
            assert ref_config[key] == live_config[key], (key, ref_config[key], live_config[key])
        return
    assert ref_exc is not None, f"the framework raised {fw_error}; the reference accepted the configuration"
    _check_reference_error(row, fw_error, ref_exc)


def _run_set_weights_row(row, target):
    adapter = _adapter(target)
    layer = _built(adapter, row)
    ref = rp.from_keras(layer)
    bad = row.bad_weights([np.asarray(w) for w in layer.get_weights()])
    with pytest.raises(Exception) as fw:  # the framework refuses too
        layer.set_weights(bad)
    with pytest.raises(Exception) as ours:
        ref.set_weights(bad)
    _check_reference_error(row, fw.type.__name__, ours.value)


RUNNERS = {"call": _run_call_row, "construct": _run_construct_row, "set_weights": _run_set_weights_row}


def _params():
    for row in LIVE_ROWS:
        for target in TARGETS:
            marks = [pytest.mark.live]
            bug = input_divergence(target, row.id)  # registered framework bugs: strict xfails
            if bug is not None:
                marks.append(pytest.mark.xfail(strict=True, reason=bug.xfail_reason()))
            yield pytest.param(row, target, id=f"{row.id}-{target}", marks=marks)


@pytest.mark.parametrize("row,target", list(_params()))
def test_bad_input_matches_framework(row, target):
    RUNNERS[row.kind](row, target)


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("kind", ["int64", "bool"])
@pytest.mark.parametrize("layer_name", ["GRU", "LSTM"])
def test_integer_and_bool_weights_are_cast_like_the_framework(layer_name, kind, target):
    adapter = _adapter(target)
    row = Row(f"cast_{layer_name}_{kind}", "call", layer=layer_name, config={"return_sequences": True})
    layer = adapter.build(row.spec(), row.build)
    rng = np.random.default_rng(_seed(row))
    weights = [rng.integers(-1, 2, size=np.shape(w)).astype(kind) for w in layer.get_weights()]
    layer.set_weights(weights)
    ref = from_spec(row.spec(), adapter.dialect)
    ref.set_weights(weights)
    x = _x(rng)
    problems = compare_outputs(_fw_call(adapter, layer)(TCall(x)), ref(x))  # framework = expected
    assert not problems, "\n".join(p.message for p in problems)


def test_registered_input_bugs_name_live_rows():
    # a renamed row would silently drop its strict xfail and leave a stale registry entry
    live = {(target, row.id) for row in LIVE_ROWS for target in TARGETS}
    assert set(INPUT_BUGS) <= live, sorted(set(INPUT_BUGS) - live)


# -- rows with no framework counterpart: the reference's own error ------------------------------
def _lstm(**kw):
    return rp.LSTM(UNITS, **kw)


def _weighted(layer, input_dim=FEATURES):
    layer.set_weights(seeded_weights([s for _, s in layer.cell.weight_specs(input_dim)], 7))
    return layer


X = np.zeros((2, 4, FEATURES), "float32")
REFERENCE_ROWS = [
    ("call_before_weights_set", lambda: _lstm()(X), ValueError, "weights are not set"),
    ("bidi_call_before_weights_set", lambda: rp.Bidirectional(rp.GRU(2))(X), ValueError, "weights are not set"),
    ("set_weights_empty", lambda: _lstm().set_weights([]), ValueError, "empty list"),
    ("set_weights_complex_arrays", lambda: rp.SimpleRNN(2).set_weights(
        [np.ones((3, 2), complex), np.ones((2, 2)), np.ones(2)]), TypeError, "'kernel' must hold real numbers"),
    ("set_weights_string_arrays", lambda: rp.GRU(2).set_weights(
        [np.ones((3, 6)), np.full((2, 6), "1"), np.ones((2, 6))]), TypeError,
     "'recurrent_kernel' must hold real numbers"),
    ("units_float", lambda: rp.GRU(2.5), TypeError, "units must be a positive integer"),
    ("units_bool", lambda: rp.SimpleRNN(True), TypeError, "units must be a positive integer"),
    ("dropout_string", lambda: _lstm(dropout="0.2"), TypeError, "dropout must be a number"),
    ("dtype_not_modelled", lambda: _lstm(dtype="int32"), ValueError, "dtype='int32' is not modelled"),
    ("merge_mode_invalid", lambda: rp.Bidirectional(_lstm(), merge_mode="max"), ValueError, "merge mode"),
    ("bidi_of_non_layer", lambda: rp.Bidirectional(object()), ValueError, "must be a rnnparity"),
    ("custom_activation_callable", lambda: _lstm(activation=np.tanh), ValueError,
     "activation=.*custom activation callables"),
    ("unknown_activation", lambda: rp.GRU(2, recurrent_activation="swishy"), ValueError,
     "recurrent_activation='swishy' is not a built-in"),
    ("unknown_option", lambda: _lstm(peepholes=True), ValueError, "peepholes"),
    ("time_major_keras3", lambda: _lstm(time_major=True), ValueError, "time_major"),
    ("training_with_dropout", lambda: _weighted(_lstm(dropout=0.2))(X, training=True), ValueError,
     "training=True with dropout=0.2"),
    ("bidi_training_with_recurrent_dropout", lambda: rp.Bidirectional(
        _weighted(rp.GRU(2, recurrent_dropout=0.5)), weights=None)(X, training=True), ValueError,
     "recurrent_dropout=0.5"),
    ("mask_per_unit", lambda: _weighted(_lstm())(X, mask=np.ones((2, 4, 2), bool)), ValueError,
     "mask must have shape"),
    ("mask_object_dtype", lambda: _weighted(_lstm())(X, mask=np.array([[None] * 4] * 2)), TypeError,
     "mask must be boolean"),
    ("string_input", lambda: _weighted(_lstm())(np.full((2, 4, 3), "x")), TypeError, "input must be"),
    ("initial_state_not_a_list", lambda: _weighted(_lstm())(X, initial_state=3.0), ValueError,
     "expects 2 state"),
    ("reset_states_not_stateful", lambda: _lstm().reset_states(), AttributeError, "stateful=True"),
    ("reset_states_wrong_shape", lambda: _lstm(stateful=True).reset_states([np.zeros((2, 3))] * 2),
     ValueError, "reset_states state 'h' must have shape"),
]


@pytest.mark.parametrize("make,error,match", [pytest.param(*r[1:], id=r[0]) for r in REFERENCE_ROWS])
def test_bad_input_reference_only(make, error, match):
    with pytest.raises(error, match=match) as info:
        make()
    assert not RAW_NUMPY.search(str(info.value))


# -- from_keras: what it refuses, named -------------------------------------------------------
def my_activation(x):  # a plain user function (not a built-in): from_keras must refuse it
    return x


def my_cell(K):
    """A user's own cell (not a built-in one): from_keras must refuse it, by name."""
    class MyCell(K.layers.Layer):
        state_size = 2
        output_size = 2

        def build(self, input_shape):
            self.built = True

        def call(self, inputs, states):
            return states[0], states

    return MyCell()


FROM_KERAS_ROWS = [
    ("custom_cell", lambda K: K.layers.RNN(my_cell(K)), ValueError, "its cell .*MyCell is a custom cell"),
    ("stacked_with_custom_cell", lambda K: K.layers.RNN([K.layers.GRUCell(2), my_cell(K)]),
     ValueError, "cell 1 of the stack .*MyCell is a custom cell"),
    ("bidi_of_rnn_with_custom_cell", lambda K: K.layers.Bidirectional(K.layers.RNN(my_cell(K))),
     ValueError, "MyCell is a custom cell"),
    ("subclassed_cell", lambda K: K.layers.RNN(type("MyGRUCell", (K.layers.GRUCell,), {})(2)), ValueError,
     "MyGRUCell is a subclass of the built-in GRUCell"),
    ("subclassed_rnn", lambda K: type("MyRNN", (K.layers.RNN,), {})(K.layers.GRUCell(2)), ValueError,
     "MyRNN is a subclass of the built-in RNN"),
    ("subclassed_lstm", lambda K: type("MyLSTM", (K.layers.LSTM,), {})(2), ValueError,
     "MyLSTM is a subclass of the built-in LSTM"),
    ("subclassed_bidirectional", lambda K: type("MyBidi", (K.layers.Bidirectional,), {})(K.layers.GRU(2)),
     ValueError, "MyBidi is a subclass of the built-in Bidirectional"),
    ("bidi_of_subclassed_gru", lambda K: K.layers.Bidirectional(type("MyGRU", (K.layers.GRU,), {})(2)),
     ValueError, "MyGRU is a subclass of the built-in GRU"),
    ("lambda_activation", lambda K: K.layers.SimpleRNN(2, activation=lambda x: x), ValueError,
     "activation is a custom activation"),
    ("user_function_activation", lambda K: K.layers.LSTM(2, recurrent_activation=my_activation), ValueError,
     "recurrent_activation"),
    ("dense_layer", lambda K: K.layers.Dense(2), ValueError, "Dense is not a recurrent layer"),
    ("conv_lstm_subclass", lambda K: type("MyConvLSTM1D", (K.layers.ConvLSTM1D,), {})(2, 3), ValueError,
     "subclass of the built-in ConvLSTM1D"),
    ("rnn_policy_differs_from_its_cell", lambda K: K.layers.RNN(K.layers.LSTMCell(2), dtype="mixed_float16"),
     ValueError, "dtype policy 'mixed_float16' but its cell .* has 'float32'"),
    ("not_a_layer", lambda K: object(), TypeError, "expects a Keras 3 or tf_keras layer"),
]


@pytest.mark.live
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("make,error,match", [pytest.param(*r[1:], id=r[0]) for r in FROM_KERAS_ROWS])
def test_from_keras_refuses(make, error, match, target):
    K = _adapter(target).K
    try:
        layer = make(K)
    except Exception as exc:  # noqa: BLE001 - e.g. Keras 3 cannot copy an unregistered subclass
        pytest.skip(f"{target} itself refuses to build this layer: {type(exc).__name__}: "
                    f"{str(exc)[:120]}")
    if hasattr(layer, "build") and not getattr(layer, "built", True):
        layer.build((None, None, FEATURES) if "Conv" not in type(layer).__name__ else (None, 4, 5, 1))
    with pytest.raises(error, match=match) as info:
        rp.from_keras(layer)
    assert len(str(info.value)) < 400, "the message must stay short (no serialised bytecode)"
