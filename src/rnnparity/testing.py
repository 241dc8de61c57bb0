"""`assert_parity`: check one of your own live Keras layers against the reference.

    from rnnparity.testing import assert_parity
    assert_parity(my_lstm_layer, x, mask=m)   # raises AssertionError explaining any difference

- Bad input (x's rank or feature size, the mask's shape, the number or shapes of initial states)
  raises ValueError naming the argument, the shape expected and the shape given, before either side
  runs.
- A mismatch that is rounding passes (the one verdict pipeline, rnnparity.check.verdict: the
  framework's values lie within the rounding envelope of the call, estimated from randomly rounded
  runs of the reference). Where valid low-precision runs scatter as widely as the values, the call
  is ill-conditioned: an IllConditionedWarning (or, with ill_conditioned="fail", AssertionError)
  with the step up to which agreement is proven.
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

import warnings

from .targets import registry
from .check import verdict as verdicts
from .keras_to_reference import dialect_of, from_keras
from .check.divergences import call_view, divergence_for_call
from .check.runner import failure_report
from .layer_spec import layer_spec
from .plan import Call, LayerSpec, Outcome, Plan, Recording
from .check.tolerances import tolerance

_TARGET_OF_DIALECT = {"keras3": "keras3", "keras2": "tf_keras"}


class KnownFrameworkBug(AssertionError):
    """The call met a framework bug registered in rnnparity.check.divergences (``.divergence``)."""

    def __init__(self, divergence, detail):
        self.divergence = divergence
        super().__init__(f"known framework bug [{divergence.key}] ({', '.join(divergence.targets)}): "
                         f"{divergence.reason}\n{detail}\nrepro:\n{divergence.repro}")


def assert_parity(framework_layer, x, mask=None, initial_state=None, *, atol=None, rtol=None,
                  rounding=True, ill_conditioned="warn"):
    """Run the live layer and the reference copied from it on the same input; raise on mismatch.

    Returns the framework's outputs (NumPy, the framework's structure) when they agree, exactly or
    within rounding. For a stateful layer both sides start from the layer's current states and the
    layer advances. ``initial_state``: one array, a list of arrays, or (stacked cells) one list per
    cell. ``atol``/``rtol`` override the tolerance table (rnnparity.check.tolerances) in the layer's
    precision; None keeps the table's value. ``rounding=False`` turns the rounding verdict off (a
    tighter atol still passes a mismatch shown to be rounding unless it is off).
    ``ill_conditioned``: what a call whose valid low-precision computations scatter as widely as its
    values (not decidable beyond some step) does: "warn" (an IllConditionedWarning, the outputs
    returned) or "fail" (AssertionError).
    """
    __tracebackhide__ = True
    tolerance("float32", atol=atol, rtol=rtol)  # a bad override fails before anything runs
    verdicts.check_mode(ill_conditioned)
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
    check_inputs(reference, x, mask, flat_states(states), dialect)
    pristine = copy.deepcopy(reference)  # before its call: the rounding envelope and the diagnosis
    # The reference first: it refuses what it does not model before the framework sees the input.
    reference(x, mask=mask, initial_state=states)
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
    rec = Recording(f"{type(framework_layer).__name__} {framework_layer.name}", _spec_of(framework_layer),
                    Plan([Call(x, mask, states)]), None, Outcome([expected]), dialect,
                    0 if time_major else 1, layer=framework_layer)
    verdict = verdicts.judge(rec, lambda: copy.deepcopy(pristine), pristine=pristine, atol=atol,
                             rtol=rtol, rounding=rounding, known=divergence_for_call(view),
                             subject=f"{target}'s output")
    if verdict.status == verdicts.PASS:
        return expected
    ill = verdict.status == verdicts.ILL_CONDITIONED
    report = failure_report(rec.case_id, verdict.problems, repro=None, ill_conditioned=ill)
    if ill:
        if ill_conditioned == "fail":
            raise AssertionError(report)
        warnings.warn(IllConditionedWarning(report), stacklevel=2)
        return expected
    if verdict.known is not None:
        raise KnownFrameworkBug(verdict.known, report)
    raise AssertionError(report)


class IllConditionedWarning(UserWarning):
    """assert_parity on a call whose valid low-precision computations scatter as widely as its
    values: agreement is proven up to a step, not decidable beyond (the message has the figures)."""


def _spec_of(layer):
    """The layer's LayerSpec, or a minimal one naming its class and dtype (a layer the spec format
    cannot describe is still checked against its from_keras copy)."""
    try:
        return layer_spec(layer)
    except ValueError:
        return LayerSpec(type(layer).__name__, {"dtype": str(getattr(layer, "compute_dtype", None) or "float32")})


# -- input checks ------------------------------------------------------------------------------
def _inner(layer):
    return getattr(layer, "forward_layer", layer)


def _conv_rank(layer):
    """The convolution rank of a (wrapped) ConvLSTM layer, None for the other recurrent layers."""
    inner = _inner(layer)
    return getattr(getattr(inner, "cell", None), "rank", None) if hasattr(inner, "filters") else None


def _state_list(initial_state):
    """initial_state as a list: one array (Keras accepts it) becomes a list of one; nested lists
    (stacked cells: one list of states per cell, as tf_keras accepts) keep their nesting."""
    if initial_state is None:
        return None
    if isinstance(initial_state, (list, tuple)):
        return [_state_list(s) if isinstance(s, (list, tuple)) else np.asarray(s) for s in initial_state]
    return [np.asarray(initial_state)]


def flat_states(states):
    """The arrays of a (nested) list of states, in order."""
    if states is None:
        return None
    return [a for s in states for a in (flat_states(s) if isinstance(s, list) else [s])]


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
    # the width of each state from the cell itself (stacked cells: each cell's own units)
    expected = [(f"{side}{name}", zero.shape[-1]) for side, sub in sublayers
                for name, zero in zip(sub.state_names, sub.cell.zero_states(1))]
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
