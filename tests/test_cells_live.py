"""RNN(cell) and stacked cells against the live frameworks, beyond the case matrix: the exact nested
structure of the returned states (containers, shapes, dtypes) for every way of passing initial
states, stacks of one and of three different cells, stateful stacks, the tf_keras stateful rule for
initial states, and what explain says. The framework is the oracle for every structure and value."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.targets import registry
from rnnparity.matrix.cases import FLAGS, TARGETS, Case
from rnnparity.check.divergences import REGISTRY, STACKED_STATE_BUGS, divergence_for, stacked_state_divergence
from rnnparity.output_structure import _BROKEN_BY_BUG, Rejected, explain
from tests.tf_platform import expect_bfloat16_platform_bug

pytestmark = pytest.mark.live
B, T, F = 2, 5, 3


def _adapter(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    return registry.get(target)


def shape_of(out):
    """(container, ...) tree of an output: list subclasses (tf_keras' ListWrapper) count as list."""
    if isinstance(out, tuple):
        return ("tuple", *(shape_of(o) for o in out))
    if isinstance(out, list):
        return ("list", *(shape_of(o) for o in out))
    a = np.asarray(out)
    return (tuple(a.shape), a.dtype.name)


def assert_same(expected, actual, where=""):
    assert shape_of(actual) == shape_of(expected), f"{where}: structure differs"
    if isinstance(expected, (list, tuple)):
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_same(e, a, f"{where}[{i}]")
        return
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64),
                               rtol=1e-6, atol=1e-6, err_msg=where)


def _seeded(layer, seed=0):
    rng = np.random.RandomState(seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(w.dtype) for w in layer.get_weights()])
    return layer


def _states(rng, *units):
    return [rng.uniform(-0.5, 0.5, (B, u)).astype("float32") for u in units]


def _run_both(adapter, layer, x, **kwargs):
    """(framework outputs or its exception, reference outputs or its exception)."""
    ref = rp.from_keras(layer)
    results = []
    for run in (lambda: adapter.call(layer, x, **kwargs), lambda: ref(x, **kwargs)):
        try:
            results.append(run())
        except Exception as exc:  # noqa: BLE001 - raising is an answer too
            results.append(exc)
    return results


# (id, cells, initial state maker(rng) or None); cells are (class, units)
STRUCTURES = [
    ("two_one_state_cells", [("SimpleRNNCell", 4), ("GRUCell", 5)], None),
    ("two_one_state_cells_bare_init", [("SimpleRNNCell", 4), ("GRUCell", 5)], lambda r: _states(r, 4, 5)),
    ("two_one_state_cells_list_init", [("SimpleRNNCell", 4), ("GRUCell", 5)],
     lambda r: [_states(r, 4), _states(r, 5)]),
    ("two_one_state_cells_tuple_init", [("SimpleRNNCell", 4), ("GRUCell", 5)],
     lambda r: [tuple(_states(r, 4)), tuple(_states(r, 5))]),
    ("three_cells", [("LSTMCell", 3), ("GRUCell", 4), ("SimpleRNNCell", 5)], None),
    ("three_cells_init", [("LSTMCell", 3), ("GRUCell", 4), ("SimpleRNNCell", 5)],
     lambda r: [_states(r, 3, 3), tuple(_states(r, 4)), _states(r, 5)[0]]),
    ("lstm_stack_flat_init", [("LSTMCell", 4), ("LSTMCell", 5)], lambda r: _states(r, 4, 4, 5, 5)),
    ("lstm_stack_too_few_entries", [("LSTMCell", 4), ("LSTMCell", 5)], lambda r: [_states(r, 4, 4)]),
    ("stack_of_one_lstm", [("LSTMCell", 5)], None),
    ("stack_of_one_lstm_init", [("LSTMCell", 5)], lambda r: [_states(r, 5, 5)]),
    ("stack_of_one_gru", [("GRUCell", 5)], None),
    ("stack_of_one_gru_bare_init", [("GRUCell", 5)], lambda r: _states(r, 5)),
]


def _structure_params():
    for target in TARGETS:
        for name, cells, init in STRUCTURES:
            known = stacked_state_divergence(target, name)
            marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
            yield pytest.param(target, cells, init, id=f"{name}-{target}", marks=marks)


def test_registered_stacked_state_bugs_name_rows():
    rows = {(target, name) for target in TARGETS for name, _, _ in STRUCTURES}
    assert set(STACKED_STATE_BUGS) <= rows, sorted(set(STACKED_STATE_BUGS) - rows)


@pytest.mark.parametrize("target,cells,init", list(_structure_params()))
def test_stacked_states_come_back_as_the_framework_returns_them(target, cells, init):
    adapter = _adapter(target)
    L = adapter.K.layers
    layer = L.RNN([getattr(L, cls)(units) for cls, units in cells], return_state=True,
                  return_sequences=True)
    layer.build((None, None, F))
    _seeded(layer)
    rng = np.random.RandomState(1)
    x = rng.normal(size=(B, T, F)).astype("float32")
    expected, actual = _run_both(adapter, layer, x, initial_state=None if init is None else init(rng))
    if isinstance(expected, Exception):
        assert isinstance(actual, ValueError), (
            f"the framework raised {type(expected).__name__}: {expected}; the reference returned "
            f"{shape_of(actual) if not isinstance(actual, Exception) else repr(actual)}")
        return
    assert not isinstance(actual, Exception), f"the framework ran; the reference raised {actual!r}"
    assert_same(expected, actual)


def _bidi_params():
    bug = next(d for d in REGISTRY if d.key == "tf_keras-stacked-cells-masked-state-lists")
    for target, merge_mode, init in itertools.product(TARGETS, ("concat", None), (None, "bare", "lists")):
        marks = ([pytest.mark.xfail(strict=True, reason=bug.xfail_reason())]
                 if target in bug.targets and init == "lists" else [])
        yield pytest.param(target, merge_mode, init, id=f"{target}-{merge_mode}-init_{init}", marks=marks)


@pytest.mark.parametrize("target,merge_mode,init", list(_bidi_params()))
def test_bidirectional_stack_states(target, merge_mode, init):
    """Masked, with the GRU cell's initial state bare (h) or in a list ([h])."""
    adapter = _adapter(target)
    L = adapter.K.layers
    layer = L.Bidirectional(L.RNN([L.LSTMCell(4), L.GRUCell(5)], return_state=True, return_sequences=True),
                            merge_mode=merge_mode)
    layer.build((None, None, F))
    _seeded(layer)
    rng = np.random.RandomState(2)
    x = rng.normal(size=(B, T, F)).astype("float32")
    mask = np.ones((B, T), bool)
    mask[1, 3:] = False
    if init is not None:
        gru = (lambda: _states(rng, 5)) if init == "lists" else (lambda: _states(rng, 5)[0])
        init = [_states(rng, 4, 4), gru(), _states(rng, 4, 4), gru()]
    expected, actual = _run_both(adapter, layer, x, mask=mask, initial_state=init)
    assert not isinstance(expected, Exception) and not isinstance(actual, Exception), (expected, actual)
    assert_same(expected, actual)


@pytest.mark.parametrize("target", TARGETS)
def test_stateful_stack_carries_every_cells_states(target):
    """Three consecutive calls through one stateful stack (no reset: Keras 3's reset of stacked
    states is a registered bug, keras3-stacked-stateful-reset)."""
    adapter = _adapter(target)
    L = adapter.K.layers
    layer = L.RNN([L.GRUCell(4), L.LSTMCell(5)], stateful=True, return_state=True)
    layer.build((B, None, F))
    _seeded(layer)
    ref = rp.from_keras(layer)
    rng = np.random.RandomState(3)
    for call in range(3):
        x = rng.normal(size=(B, T, F)).astype("float32")
        assert_same(adapter.call(layer, x), ref(x), f"call {call + 1}")


@pytest.mark.parametrize("target", TARGETS)
def test_stateful_layer_given_initial_state_after_a_call(target):
    """tf_keras ignores an initial_state once a stateful layer's states are not all zero (it carries
    on from them); Keras 3 always starts from the initial_state it is given."""
    adapter = _adapter(target)
    layer = adapter.K.layers.LSTM(5, stateful=True, return_state=True)
    layer.build((B, None, F))
    _seeded(layer)
    ref = rp.from_keras(layer)
    rng = np.random.RandomState(4)
    x1, x2 = (rng.normal(size=(B, T, F)).astype("float32") for _ in "12")
    init = _states(rng, 5, 5)
    assert_same(adapter.call(layer, x1, initial_state=init), ref(x1, initial_state=init), "first call")
    expected, actual = adapter.call(layer, x2, initial_state=init), ref(x2, initial_state=init)
    assert_same(expected, actual, "second call")
    carried = adapter.call(layer, x2) if target == "keras3" else None
    if carried is not None:  # Keras 3 used the initial state: the same call without it differs
        assert not np.allclose(carried[0], expected[0])


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("stateful", [False, True])
def test_initial_state_dtype_under_a_policy(target, policy, stateful, request):
    """Keras 3 casts initial states to the compute dtype; tf_keras does not (TensorFlow then refuses
    a float32 state with a float16 kernel, or a float64 state on a float32 layer), unless the layer
    is stateful. The reference raises where the framework does and agrees where it runs."""
    adapter = _adapter(target)
    if "bfloat16" in policy and (target == "keras3" or stateful):  # (else tf_keras refuses the call)
        expect_bfloat16_platform_bug(request, adapter.tf)
    L = adapter.K.layers
    layer = L.RNN(L.GRUCell(5, dtype=policy), dtype=policy, return_state=True, stateful=stateful)
    layer.build((B, None, F))
    _seeded(layer)
    rng = np.random.RandomState(5)
    x = rng.normal(size=(B, T, F)).astype("float32")
    init_dtype = "float64" if policy == "float32" else "float32"
    init = [s.astype(init_dtype) for s in _states(rng, 5)]
    expected, actual = _run_both(adapter, layer, x, initial_state=init)
    if isinstance(expected, Exception):
        assert target == "tf_keras" and not stateful, expected
        assert isinstance(actual, ValueError) and "does not cast initial states" in str(actual), actual
        return
    assert not isinstance(actual, Exception), actual
    assert_same(expected, actual)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_global_policy_model_with_a_masked_stack(target, policy, request):
    """With a global policy the StackedRNNCells gets the policy too (Keras 3 then masks a stack
    without the registered keras3-stacked-cells-mixed-precision-mask failure)."""
    adapter = _adapter(target)
    if "bfloat16" in policy:
        expect_bfloat16_platform_bug(request, adapter.tf)
    K = adapter.K
    before = K.mixed_precision.global_policy().name
    K.mixed_precision.set_global_policy(policy)
    try:
        L = K.layers
        layer = L.Bidirectional(L.RNN([L.GRUCell(4), L.LSTMCell(5)], return_sequences=True,
                                      return_state=True))
        layer.build((None, None, F))
    finally:
        K.mixed_precision.set_global_policy(before)
    _seeded(layer)
    rng = np.random.RandomState(6)
    x = rng.normal(size=(B, T, F)).astype("float32")
    mask = np.ones((B, T), bool)
    mask[0, :2] = False
    expected, actual = _run_both(adapter, layer, x, mask=mask)
    assert not isinstance(expected, Exception) and not isinstance(actual, Exception), (expected, actual)
    assert_same(expected, actual)  # mixed precision agrees exactly; 1e-6 is far tighter than a ULP


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_explicit_stacked_rnn_cells(target, policy):
    """RNN(StackedRNNCells([...], dtype=policy)): the same computation as a list of cells (masked, it
    also avoids keras3-stacked-cells-mixed-precision-mask, the stack having the cells' policy)."""
    adapter = _adapter(target)
    L = adapter.K.layers
    stack = L.StackedRNNCells([L.SimpleRNNCell(4, dtype=policy), L.LSTMCell(5, dtype=policy)], dtype=policy)
    layer = L.RNN(stack, return_sequences=True, return_state=True, go_backwards=True, dtype=policy)
    layer.build((None, None, F))
    _seeded(layer)
    rng = np.random.RandomState(8)
    x = rng.normal(size=(B, T, F)).astype("float32")
    mask = np.ones((B, T), bool)
    mask[1, 1:3] = False
    expected, actual = _run_both(adapter, layer, x, mask=mask)
    assert not isinstance(expected, Exception) and not isinstance(actual, Exception), (expected, actual)
    assert_same(expected, actual)


@pytest.mark.parametrize("target", TARGETS)
def test_pure_bfloat16_layer(target, request):
    adapter = _adapter(target)
    expect_bfloat16_platform_bug(request, adapter.tf)
    # (TF has no bfloat16 QR: the default orthogonal recurrent initializer cannot build it)
    layer = adapter.K.layers.LSTM(5, dtype="bfloat16", return_sequences=True, return_state=True,
                                  recurrent_initializer="zeros")
    layer.build((None, None, F))
    _seeded(layer)
    x = np.random.RandomState(7).normal(size=(B, T, F)).astype("float32")
    expected, actual = _run_both(adapter, layer, x)
    assert not isinstance(actual, Exception), actual
    assert_same(expected, actual)


# -- explain ---------------------------------------------------------------------------------------
def _explain_cases():
    # a one-state and a two-state cell (SimpleRNN and GRU return the same structure)
    for target, cell, layer, wrapper, flags in itertools.product(
            TARGETS, ("rnn_cell", "stacked"), ("gru", "lstm"), ("none", "bidi_concat", "bidi_none"),
            itertools.product((False, True), repeat=4)):
        yield Case(layer=layer, cell=cell, wrapper=wrapper, target=target, **dict(zip(FLAGS, flags)))
    for target, dtype in itertools.product(TARGETS, ("mixed_f16", "mixed_bf16")):
        yield Case(layer="lstm", cell="stacked", wrapper="bidi_concat", return_sequences=True,
                   return_state=True, dtype=dtype, target=target)


def _explain_param(case):
    known = divergence_for(case)
    if known is not None and (known.key in _BROKEN_BY_BUG or "reset" in known.key):
        known = None  # explain runs no reset; a bug breaking the first call is a rejection
    marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
    return pytest.param(case, id=case.id, marks=marks)


def _named_shapes(expl):
    """explain's outputs as shape_of trees (a group of states is a list in every dialect)."""
    return [("list", *((s, o.dtype) for s in o.shape)) if o.parts else (o.shape, o.dtype)
            for o in expl.outputs]


@pytest.mark.parametrize("case", [_explain_param(c) for c in _explain_cases()])
def test_explain_matches_the_framework_for_rnn_of_cells(case):
    adapter = _adapter(case.target)
    spec = case.layer_spec()
    try:
        layer = adapter.build(spec, case.input_shape)
        _seeded(layer, case.seed)
        out, error = adapter.call(layer, np.zeros(case.input_shape, "float32")), None
    except Exception as exc:  # noqa: BLE001 - the framework refusing is an answer too
        out, error = None, exc
    try:
        expl, rejected = explain(spec, case.input_shape, dialect=case.dialect), None
    except Rejected as exc:
        expl, rejected = None, str(exc)
    if error is not None:
        assert rejected and type(error).__name__ in rejected, (case.id, error, expl)
        return
    assert not rejected, f"{case.id}: explain says {rejected!r}, but the framework returned outputs"
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    container = type(out).__name__ if isinstance(out, (list, tuple)) else "array"
    assert (container, len(outputs)) == (expl.container, len(expl.outputs)), (case.id, str(expl))
    assert [shape_of(o) for o in outputs] == _named_shapes(expl), f"{case.id}: explain says\n{expl}"
