"""`assert_parity`: check one of your own live Keras layers against the reference.

    from rnnparity.testing import assert_parity
    assert_parity(my_lstm_layer, x, mask=m)   # raises AssertionError explaining any difference

- Bad input (x's rank or feature size, the mask's shape, the number or shapes of initial states)
  raises ValueError naming the argument, the shape expected and the shape given, before either side
  runs.
- A float16/float32 mismatch that is rounding passes (the rounding verdict, rnnparity.check.rounding:
  the call is repeated on a float64 twin of the layer and on its float64 reference).
- A framework bug registered in rnnparity.check.divergences raises `KnownFrameworkBug` (an
  AssertionError) naming the entry and its repro, whether the framework raised or returned wrong
  values. Catch it to turn it into an xfail: ``except KnownFrameworkBug as e: pytest.xfail(str(e))``.

A whole model, one test id per recurrent layer (see `model_layer_params`):

    @pytest.mark.parametrize("layer", model_layer_params("model.keras"))
    def test_model_layer(layer):
        assert_layer(layer)
"""
from __future__ import annotations

import copy

import numpy as np

from .targets import registry
from .check import rounding as _rounding
from .check.compare import Mismatch, compare_outputs
from .keras_to_reference import dialect_of, from_keras
from .check.divergences import call_view, divergence_for_call
from .check.diagnose import diagnosis_mismatch
from .check.runner import failure_report
from .plan import Call
from .output_structure import explain
from .check.tolerances import tolerance

_TARGET_OF_DIALECT = {"keras3": "keras3", "keras2": "tf_keras"}


class KnownFrameworkBug(AssertionError):
    """The call met a framework bug registered in rnnparity.check.divergences (``.divergence``)."""

    def __init__(self, divergence, detail):
        self.divergence = divergence
        super().__init__(f"known framework bug [{divergence.key}] ({', '.join(divergence.targets)}): "
                         f"{divergence.reason}\n{detail}\nrepro:\n{divergence.repro}")


def assert_parity(framework_layer, x, mask=None, initial_state=None, *, atol=None, rtol=None,
                  rounding=True):
    """Run the live layer and the reference copied from it on the same input; raise on mismatch.

    Returns the framework's outputs (NumPy, the framework's structure) when they agree, exactly or
    within rounding. For a stateful layer both sides start from the layer's current states and the
    layer advances. ``initial_state``: one array or a list of arrays. ``atol``/``rtol`` override
    the tolerance table (rnnparity.check.tolerances) in the layer's precision; None keeps the table's
    value. ``rounding=False`` turns the rounding verdict off (a tighter atol still passes a mismatch
    shown to be rounding unless it is off).
    """
    __tracebackhide__ = True
    tolerance("float32", atol=atol, rtol=rtol)  # a bad override fails before anything runs
    dialect = dialect_of(framework_layer)
    target = _TARGET_OF_DIALECT[dialect]
    x = np.asarray(x)
    time_major = bool(getattr(_inner(framework_layer), "time_major", False))
    layout = "(time, batch, features)" if time_major else "(batch, time, features)"
    rank = _conv_rank(framework_layer)
    if rank is not None:  # ConvLSTM1D/2D/3D: (batch, time, *spatial, channels) or channels first
        time_major, layout = False, f"(batch, time, ...) of rank {rank + 3}"
    ndim = 3 if rank is None else rank + 3
    if x.ndim != ndim:
        raise ValueError(f"assert_parity: x must have rank {ndim} {layout}, got shape {x.shape}")
    if not framework_layer.built:
        framework_layer.build(x.shape)
    reference = from_keras(framework_layer)
    states = _state_list(initial_state)
    check_inputs(reference, x, mask, states, dialect)
    pristine = copy.deepcopy(reference)  # before its call: what a failure's diagnosis starts from
    saved = _snapshot(framework_layer)
    # The reference first: it refuses what it does not model before the framework sees the input.
    actual = reference(x, mask=mask, initial_state=states)
    view = call_view(target, framework_layer, x, mask, states)
    adapter = registry.get(target)
    try:
        expected = adapter.call(framework_layer, x, mask, states)
    except Exception as exc:
        known = divergence_for_call(view)
        if known is not None:
            raise KnownFrameworkBug(known, f"the framework raised {type(exc).__name__}: "
                                           f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                                    ) from exc
        raise
    time_axis, steps = (0, x.shape[0]) if time_major else (1, x.shape[1])
    try:
        names = explain(framework_layer, x.shape, dialect).names()
    except ValueError:
        names = None
    problems = compare_outputs(expected, actual, names, time_axis=time_axis, steps=steps,
                               atol=atol, rtol=rtol)
    for p in problems:
        p.call = 0
    if rounding and _rounding.eligible(problems):
        verdict = _rounding_verdict(adapter, framework_layer, saved, x, mask, states,
                                    (expected, actual), problems, names, steps, time_axis)
        if verdict.passed:
            return expected
        problems.append(verdict.mismatch())
    if problems:
        if any(p.kind == "values" for p in problems):
            line = diagnosis_mismatch(pristine, [Call(x, mask, states)], [expected],
                                      f"{target}'s output")
            problems += [line] if line is not None else []
        report = failure_report(f"{type(framework_layer).__name__} {framework_layer.name}", problems,
                                repro=None)
        known = divergence_for_call(view)
        if known is not None:
            raise KnownFrameworkBug(known, report)
        raise AssertionError(report)
    return expected


# -- input checks ------------------------------------------------------------------------------
def _inner(layer):
    return getattr(layer, "forward_layer", layer)


def _conv_rank(layer):
    """The convolution rank of a (wrapped) ConvLSTM layer, None for the other recurrent layers."""
    inner = _inner(layer)
    return getattr(getattr(inner, "cell", None), "rank", None) if hasattr(inner, "filters") else None


def _state_list(initial_state):
    """initial_state as a list of arrays: one array (Keras accepts it) becomes a list of one."""
    if initial_state is None:
        return None
    if isinstance(initial_state, (list, tuple)):
        return [np.asarray(s) for s in initial_state]
    return [np.asarray(initial_state)]


def _broadcasts(shape, target):
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def check_inputs(reference, x, mask, states, dialect):
    """ValueError naming the argument, the shape expected and the shape given, for an input the
    layer cannot take. ``reference``: the layer's reference copy (its units, states, kernel)."""
    inner = getattr(reference, "forward_layer", reference)
    if hasattr(inner, "filters"):
        return _check_conv_inputs(reference, x, mask, states)
    time_major = inner.time_major
    layout = "(time, batch, features)" if time_major else "(batch, time, features)"
    features = inner.cell.input_dim
    if x.shape[2] != features:
        raise ValueError(f"assert_parity: x must have shape {layout} with features={features} (the "
                         f"layer's kernel is {inner.cell.kernel.shape}), got shape {x.shape}")
    steps, batch = (x.shape[0], x.shape[1]) if time_major else (x.shape[1], x.shape[0])
    if mask is not None:
        want = (steps, batch) if time_major else (batch, steps)
        axes = "(time, batch)" if time_major else "(batch, time)"
        if np.shape(mask) not in (want, want + (1,)):
            raise ValueError(f"assert_parity: mask must have shape {axes} = {want} (or {want + (1,)}), "
                             f"got {np.shape(mask)}")
    if states is None:
        return
    sublayers = ([("forward ", reference.forward_layer), ("backward ", reference.backward_layer)]
                 if inner is not reference else [("", reference)])
    expected = [(f"{side}{name}", sub.units) for side, sub in sublayers for name in sub.state_names]
    if len(states) != len(expected):
        what = (f"Bidirectional({type(inner).__name__})" if inner is not reference
                else type(reference).__name__)
        raise ValueError(f"assert_parity: initial_state must hold {len(expected)} array(s) for {what} "
                         f"({', '.join(n for n, _ in expected)}), got {len(states)}")
    for i, (s, (name, units)) in enumerate(zip(states, expected)):
        want = (batch, units)
        # Keras 3 adds an initial state into the step's arithmetic as is, so a broadcasting shape
        # ((units,), (1, units)) works there; Keras 2 checks it (as the reference does).
        if s.shape != want and not (dialect == "keras3" and s.ndim <= 2 and _broadcasts(s.shape, want)):
            raise ValueError(f"assert_parity: initial_state[{i}] ({name}) must have shape "
                             f"(batch, units) = {want}, got {s.shape}")


def _check_conv_inputs(reference, x, mask, states):
    """check_inputs for a ConvLSTM: the reference's own checks (rank, channels, spatial fit, mask),
    then states of the shape of one output step."""
    sublayers = ([("forward ", reference.forward_layer), ("backward ", reference.backward_layer)]
                 if hasattr(reference, "forward_layer") else [("", reference)])
    step_shapes = []
    for _, sub in sublayers:
        try:
            step_shapes.append(sub.state_shape_for(x, mask))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"assert_parity: {exc}") from None
    if states is None:
        return
    expected = [(f"{side}{name}", (x.shape[0], *shape))
                for (side, sub), shape in zip(sublayers, step_shapes) for name in sub.state_names]
    if len(states) != len(expected):
        raise ValueError(f"assert_parity: initial_state must hold {len(expected)} array(s) "
                         f"({', '.join(n for n, _ in expected)}), got {len(states)}")
    for i, (s, (name, want)) in enumerate(zip(states, expected)):
        if s.shape != want:
            raise ValueError(f"assert_parity: initial_state[{i}] ({name}) must have the shape of one "
                             f"output step (batch, ...) = {want}, got {s.shape}")


# -- the float64 twin for the rounding verdict -------------------------------------------------
def _sublayers(layer):
    return [layer.forward_layer, layer.backward_layer] if hasattr(layer, "forward_layer") else [layer]


def _snapshot(layer):
    """The layer's weights and (stateful) states before the call, for the float64 twin."""
    states = []
    for sub in _sublayers(layer):
        current = getattr(sub, "states", None) if getattr(sub, "stateful", False) else None
        states.append(None if not current or any(s is None for s in current)
                      else [np.asarray(s).copy() for s in current])
    return {"weights": [np.asarray(w).copy() for w in layer.get_weights()], "states": states}


def _float64_config(config):
    """A layer config with every dtype (the layer's, a wrapper's and its sub-layers') float64."""
    if isinstance(config, dict):
        return {k: "float64" if k == "dtype" else _float64_config(v) for k, v in config.items()}
    if isinstance(config, list):
        return [_float64_config(v) for v in config]
    return config


def _comparable(config):
    """A config without what a twin may change (names, dtypes, build shapes)."""
    if isinstance(config, dict):
        return {k: _comparable(v) for k, v in config.items()
                if k not in ("name", "dtype", "build_config")}
    if isinstance(config, list):
        return [_comparable(v) for v in config]
    return config


def float64_twin(layer, saved, input_shape):
    """A float64 copy of a live layer: same config, its weights and states (as before the call)
    upcast exactly. Raises ValueError when the copy is not faithful."""
    twin = type(layer).from_config(_float64_config(layer.get_config()))
    twin.build(tuple(input_shape))
    twin.set_weights(_rounding.upcast(saved["weights"]))
    for sub, states in zip(_sublayers(twin), saved["states"]):
        if states is not None:
            for variable, value in zip(sub.states, _rounding.upcast(states)):
                variable.assign(value)
    if _comparable(twin.get_config()) != _comparable(layer.get_config()):
        raise ValueError("the float64 twin's config differs from the layer's")
    if not all(np.array_equal(a, b) for a, b in zip(twin.get_weights(), _rounding.upcast(saved["weights"]))):
        raise ValueError("the float64 twin's weights differ from the layer's")
    for got, want in zip(_snapshot(twin)["states"], saved["states"]):
        if (got is None) != (want is None) or (want is not None and not all(
                np.array_equal(g, w) for g, w in zip(got, _rounding.upcast(want)))):
            raise ValueError("the float64 twin's states differ from the layer's")
    return twin


def _rounding_verdict(adapter, layer, saved, x, mask, states, low, problems, names, steps, time_axis):
    """The rounding verdict on a failed comparison: the same call on a float64 twin of the layer
    and on the reference copied from the twin."""
    x64, states64 = _rounding.upcast([x])[0], _rounding.upcast(states)
    try:
        twin = float64_twin(layer, saved, x.shape)
        reference64 = from_keras(twin)
        high = ([adapter.call(twin, x64, mask, states64)],
                [reference64(x64, mask=mask, initial_state=states64)])
        rerun_problems = []
    except Exception as exc:  # noqa: BLE001 - a re-run that fails gives no evidence of rounding
        high, rerun_problems = ([], []), [Mismatch("error", f"the float64 re-run raised "
                                                            f"{type(exc).__name__}: {exc}")]
    return _rounding.judge(problems, ([low[0]], [low[1]]), high, steps=[steps], names=[names],
                          time_axis=time_axis, rerun_problems=rerun_problems)


# -- a user's whole model ------------------------------------------------------------------------
def model_layer_params(model_or_path, inputs=None, **kwargs):
    """One pytest param per recurrent layer of a model, with the layer's name as its test id: gate
    CI on a model (a live Keras model or a .keras/.h5 path) with

        from rnnparity.testing import assert_layer, model_layer_params

        @pytest.mark.parametrize("layer", model_layer_params("model.keras"))
        def test_model_layer(layer):
            assert_layer(layer)

    Each param holds the layer's row of `rp.check_model(model_or_path, inputs, **kwargs)` (inputs
    None: synthesised from the model's input specs); a registered framework bug is a strict xfail;
    a layer the reference cannot model (a custom cell) is skipped by assert_layer, with the reason."""
    import pytest

    from .model.check_model import check_model

    report = check_model(model_or_path, inputs, **kwargs)
    params = []
    for row in report.layers:
        marks = ([pytest.mark.xfail(strict=True, reason=row.message.splitlines()[0])]
                 if row.status == "xfail" else [])
        params.append(pytest.param(row, id=row.name, marks=marks))
    return params


def assert_layer(row, unsupported="skip"):
    """Raise AssertionError with the row's report unless the layer passed (see model_layer_params).
    A layer the reference cannot model (status "unsupported": a custom cell...) is skipped with the
    reason (pytest.skip), or fails with unsupported="fail"."""
    from .model.statuses import outcome

    __tracebackhide__ = True
    if outcome(row.status, unsupported) == "skipped":
        import pytest

        pytest.skip(f"{row.name} ({row.cls}) is unsupported: {row.message}")
    if row.status != "pass":
        raise AssertionError(f"{row.name} ({row.cls}) [{row.status}]: {row.message}")
