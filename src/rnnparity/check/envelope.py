"""The rounding envelope of a case: how far valid low-precision computations of the same maths
scatter, per output element and time step.

`rounding_envelope(reference, plan)` runs the reference through the plan (calls with their masks and
initial states, resets, state carried between calls)
- once as it is, in the case's precision (the *unperturbed* run: what the plain check compared),
- once in a higher precision (float64 for float32 and float16 cases, long double for float64
  cases): the *centre*, standing for exact arithmetic,
- RUNS times as randomly rounded copies (mca.py: Monte Carlo arithmetic at the granularity of a cell
  step), computed in the higher precision and perturbed by ulps of the case's precision (a virtual
  precision, as in Verificarlo),
and keeps, for every output element, the *radius*: the largest distance from the centre over the
randomly rounded runs (infinite where a run is not finite). A framework's output, and the
reference's own unperturbed run, are valid low-precision computations of the case where they lie
within a few radii of the centre (envelope_verdict.py decides). Nothing here imports a framework.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from ..plan import Call, Reset
from ..reference import Bidirectional
from .mca import PerturbedReference, cast_tree, high_precision, layers_of, recast

RUNS = 16  # randomly rounded runs (plus the unperturbed one): measured in scripts/envelope_rates.py
ULPS = 1.0  # each random rounding moves a value by up to this many units of its last place


@dataclass
class OutputEnvelope:
    """The envelope of one output array of one call (a stacked cell's state is one output)."""
    call: int  # index into the plan's calls
    path: tuple  # where the array sits in the call's (possibly nested) output structure
    label: str
    centre: np.ndarray  # the high-precision run (the unperturbed run where there is none)
    low: np.ndarray  # the unperturbed run, in the case's precision
    radius: np.ndarray  # float64: max over runs of |run - centre|; inf where any of them is not finite
    scale: np.ndarray  # float64: the size of the values, max |centre| over the units of each row
    # (and step; a ConvLSTM's units: every position and filter)
    eps: float  # machine epsilon of the precision compared
    time_axis: int | None  # None for an output without a time axis (a last output, a state)


@dataclass
class Envelope:
    outputs: list
    dtype: np.dtype  # the precision of the case
    high: np.dtype | None  # the precision of the centre
    runs: int
    ulps: float
    seed: int
    call_labels: list = field(default_factory=list)
    steps: list = field(default_factory=list)  # time steps of each call
    carried: list = field(default_factory=list)  # whether each call starts from the previous one's state

    def for_call(self, k):
        return [o for o in self.outputs if o.call == k]

    def describe(self) -> str:
        high = ("the unperturbed run" if self.high is None else
                # NumPy names x86's 80-bit extended precision 'float128' after its storage size
                f"long double (eps {np.finfo(self.high).eps:.2g})" if self.high == np.longdouble else
                self.high.name)
        return (f"{self.runs} randomly rounded {self.dtype.name} runs (up to {self.ulps:g} ulp per "
                f"rounding) around {high}")


# -- running a plan ----------------------------------------------------------------------------
def steps_of(plan):
    """A plan's steps: a Plan (its .steps) or a list of Call and Reset."""
    return list(getattr(plan, "steps", plan))


def run_plan(reference, plan, prepare=None):
    """The reference's outputs for every call of the plan (``prepare(call) -> call`` first)."""
    outputs = []
    for step in steps_of(plan):
        if isinstance(step, Reset):
            reference.reset_states()
        elif isinstance(step, Call):
            call = prepare(step) if prepare is not None else step
            outputs.append(reference(call.x, mask=call.mask, initial_state=call.initial_state))
        else:
            raise TypeError(f"a plan step must be a Call or a Reset, got {type(step).__name__}")
    return outputs


def carried_state(reference, plan):
    """For each call: whether a stateful reference starts it from the state the previous call left
    (warm stateful layers start their first call from their stored state)."""
    stateful = bool(getattr(reference, "stateful", False))
    warm = stateful and getattr(reference, "states", None) is not None
    carried = []
    for step in steps_of(plan):
        if isinstance(step, Reset):
            warm = False
        elif isinstance(step, Call):
            carried.append(warm)
            warm = stateful
    return carried


def flatten(out, path=()):
    """[(path, array)] of a (nested) output structure, in order."""
    if isinstance(out, (list, tuple)):
        return [item for i, o in enumerate(out) for item in flatten(o, path + (i,))]
    return [(path, np.asarray(out))]


def path_label(path, names=None) -> str:
    path = path or (0,)  # a single array is output [0]
    name = names[path[0]] if names and path[0] < len(names) else None
    where = "".join(f"[{i}]" for i in path)
    return f"output {where}" + (f" = {name}" if name else "")


def case_dtype(reference, outputs) -> np.dtype:
    """The coarsest precision the case computes or returns in."""
    dtypes = [layer.compute_dtype for layer in layers_of(reference)]
    dtypes += [a.dtype for out in outputs for _, a in flatten(out) if a.dtype.kind == "f"]
    return max((np.dtype(d) for d in dtypes), key=lambda d: np.finfo(d).eps)


# -- the envelope ------------------------------------------------------------------------------
def rounding_envelope(reference, plan, runs=RUNS, ulps=ULPS, seed=0, weights=False,
                      names=None) -> Envelope:
    """The rounding envelope of ``reference`` (a pristine rnnparity layer: it is not modified) run
    through ``plan``. ``names``: the output names of each call (rnnparity.explain), for labels;
    ``weights``: also perturb the weights once per run (off: measured no better)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow is an observation
        return _envelope(reference, plan, runs, ulps, seed, weights, names)


def _envelope(reference, plan, runs, ulps, seed, weights, names):
    low = run_plan(copy.deepcopy(reference), plan)
    dtype = case_dtype(reference, low)
    high = high_precision(dtype)
    centre = low
    if high is not None:
        def in_high(c):
            c = _wrapper_cast(reference, c)
            return Call(cast_tree(c.x, high), c.mask, cast_tree(c.initial_state, high), c.label)

        centre = run_plan(recast(reference, high), plan, in_high)
    calls = [s for s in steps_of(plan) if isinstance(s, Call)]
    time_axis = 0 if layers_of(reference)[0].time_major else 1
    env = Envelope([], dtype, high, runs, ulps, seed, [c.label for c in calls],
                   [np.shape(c.x)[time_axis] for c in calls], carried_state(reference, plan))
    for k, (lo, hi) in enumerate(zip(low, centre)):
        prefix = f"call {k + 1} of {len(calls)} ({calls[k].label}): " if len(calls) > 1 else ""
        his = dict(flatten(hi))
        # a sequence has the input's rank ((batch, time, units); a ConvLSTM's (batch, time, *spatial,
        # filters) or (batch, time, filters, *spatial)); a last output or a state one axis less
        sequence_ndim = np.ndim(calls[k].x)
        for path, a in flatten(lo):
            c = his[path]
            if high is not None and c.dtype.kind == "f" and c.dtype != high:
                raise AssertionError(f"the {high.name} copy of the reference returned {c.dtype} for "
                                     f"{path_label(path)}: mca.recast missed a cast")
            sequence = a.ndim == sequence_ndim
            units = tuple(range(2 if sequence else 1, a.ndim))  # every axis after batch (and time)
            with np.errstate(invalid="ignore"):
                scale = np.max(np.where(np.isfinite(c), np.abs(c), 0), axis=units, keepdims=True)
            eps = max(float(np.finfo(a.dtype).eps), float(np.finfo(dtype).eps)) \
                if a.dtype.kind == "f" else 0.0
            # the radius: the randomly rounded runs' (below); without a higher precision the
            # unperturbed run is the centre and they scatter around it
            env.outputs.append(OutputEnvelope(
                k, path, prefix + path_label(path, names[k] if names else None), c, a,
                np.zeros(c.shape, np.float64), np.broadcast_to(scale, c.shape).astype(np.float64), eps,
                time_axis if sequence else None))
    batch = np.shape(calls[0].x)[1 - time_axis] if calls else 0
    if runs and batch:
        _perturbed_runs(env, reference, plan, runs, ulps, seed, weights, time_axis, dtype, high)
    return env


def _perturbed_runs(env, reference, plan, runs, ulps, seed, weights, time_axis, dtype, high):
    """The randomly rounded runs, computed in the high precision and perturbed at the case's own
    (a virtual precision, as Verificarlo's MCA): their spread is the propagation of ulp-sized local
    errors by the layer's dynamics, whatever precision the reference's low-precision code computes
    in, so a reference that rounds too coarsely cannot widen its own envelope (its unperturbed run
    is judged against the envelope too: envelope_verdict.py).

    All runs at once: the plan's batch is tiled ``runs`` times (batch rows never interact in a
    recurrent layer, and every rounding is an independent draw per element), so one run of a batch
    of runs x B rows costs little more than one run of B: NumPy's per-step overhead, not the
    arithmetic, dominates the small batches of a check."""
    work = dtype if high is None else high
    base = reference if high is None else recast(reference, high)
    perturbed = PerturbedReference(base, ulps, weights, tile=runs, eps=float(np.finfo(dtype).eps),
                                   limit=float(np.finfo(dtype).max))
    rounding = perturbed.rounding
    ref = perturbed.start_run(np.random.default_rng(seed))
    def prepare(c):
        c = _wrapper_cast(reference, c)
        return Call(rounding(tile(cast_tree(np.asarray(c.x), work), runs, 1 - time_axis)),
                    None if c.mask is None else tile(np.asarray(c.mask), runs, 1 - time_axis),
                    rounding.tree(tile_tree(cast_tree(c.initial_state, work), runs)), c.label)

    outs = run_plan(ref, plan, prepare)
    arrays = [a for out in outs for _, a in flatten(out)]
    for o, a in zip(env.outputs, arrays):
        for run in untile(a, o.low.shape, runs):
            np.maximum(o.radius, _distance(run, o.centre), out=o.radius)


def _wrapper_cast(reference, call):
    """``call`` with its arrays cast as a Bidirectional wrapper casts them before its layers see them:
    the input (and Keras 3's initial states) in the wrapper's own dtype (bidirectional.py). A
    float32 wrapper around float64 layers rounds the input to float32: that is the case's input, not
    a rounding error, so the centre and the randomly rounded runs start from it too (an exploding
    float64 case amplified the difference ~1e4-fold past the envelope: found by rnnparity explore).
    The high-precision copy's wrapper (mca.recast) no longer casts; this does it in its place."""
    if not isinstance(reference, Bidirectional):
        return call
    dtype = reference.compute_dtype
    states = call.initial_state
    if reference.dialect == "keras3":
        states = cast_tree(states, dtype)
    return Call(cast_tree(call.x, dtype), call.mask, states, call.label)


def tile(a, runs, axis):
    """``a`` repeated ``runs`` times along its batch ``axis`` (run r holds rows r*B .. (r+1)*B - 1)."""
    return np.concatenate([a] * runs, axis=axis)


def tile_tree(tree, runs):
    """`tile` along axis 0 (states: (batch, ...)) on every array of nested lists/tuples."""
    if isinstance(tree, (list, tuple)):
        return type(tree)(tile_tree(t, runs) for t in tree)
    return None if tree is None else tile(np.asarray(tree), runs, 0)


def untile(a, shape, runs):
    """The ``runs`` arrays of ``shape`` a tiled run's output holds (its batch axis is the one axis
    ``runs`` times longer)."""
    a = np.asarray(a)
    axes = [i for i, (n, m) in enumerate(zip(a.shape, shape)) if n != m]
    if a.ndim != len(shape) or len(axes) != 1 or a.shape[axes[0]] != runs * shape[axes[0]]:
        raise AssertionError(f"a tiled run returned shape {a.shape} for an output of shape {shape}")
    parts = np.moveaxis(a, axes[0], 0).reshape((runs, shape[axes[0]]) + a.shape[:axes[0]] + a.shape[axes[0] + 1:])
    return [np.moveaxis(p, 0, axes[0]) for p in parts]


def _distance(run, centre):
    """|run - centre| in float64 (computed in the wider of the two); inf where either is not finite."""
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(np.asarray(run).astype(centre.dtype) - centre).astype(np.float64)
    return np.where(np.isfinite(d), d, np.inf)
