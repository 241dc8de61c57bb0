"""The rounding verdict from a case's rounding envelope (envelope.py): pass, fail or ill-conditioned.

For every output element, with c the high-precision centre, r the envelope radius (how far the
unperturbed and the randomly rounded low-precision runs land from c) and s the size of the values
(max |c| over the units of the row):
- a batch row is *decidable* at a step while every run is finite and r <= THETA * s for all its
  units: valid computations still agree on the state. From the first step where that fails the row
  is undecidable to the end of the call, in its final states and in the next call that carries the
  state on (the trajectories have separated; a unit where the few runs happen to agree, say all
  saturated at -1, proves nothing);
- at a decidable element the framework's value f passes when |f - c| <= K * max(r, eps * s)
  (eps * s: one rounding of a value of that size, so a radius that happens to be tiny is not taken
  at its word);
- elements within the tolerance table of the unperturbed run pass as in the plain check (the
  verdict judges what the table rejects; ``table=False`` judges every element by the envelope).
The case *fails* if a decidable element lies outside (naming the output, the step and the figures);
it is *ill-conditioned* if none does but an element the table rejects is undecidable ("agreement
proven up to step t, not decidable beyond", with the figures); it *passes* otherwise.

The reference's own unperturbed run is judged against the same envelope by its median distance in
radii over the decidable elements (REFERENCE_MEDIAN): the envelope's runs compute in the high
precision and round at the case's ulp, so a reference whose low-precision code rounds too coarsely
lies outside its own envelope and the verdict fails saying so.

K, THETA and envelope.RUNS come from rates measured by scripts/envelope_rates.py (150 seeded random
configurations outside the grid per dialect, live keras3 and tf_keras; planted bugs on the reference
side), with the virtual-precision runs (session of 2026-12-03):
- honest runs: 269 that both sides compute in the layer's precision, 0 failures for any K >= 2 at
  RUNS=16 (the worst |f - c| / envelope on the values the table rejects: 1.2; with every element
  judged, table=False, its 99th percentile is 2.9 and its max 3.3); 6 ill-conditioned, all float32.
  18 float64 stacked-cell runs fail rightly: the frameworks compute them in float32 (`computed_in`;
  the registered float64-stacked-cells-compute-in-float32). Hence K=8, a margin of 2.4 over the
  worst honest element;
- rounding-sized bugs that fail the table (332: the recurrence one precision down, a bias added
  twice at 1e-6, a sigmoid off by 1e-6, saturated gates losing a 1e-6 term, the state times
  (1 + 1e-6), the state chopped toward zero; float64 variants scaled to the same ulps): 15% pass at
  K=8 (49; 6% at K=2, 23% at K=16), every one of a few ulps per step, and 8 are ill-conditioned; one
  precision down: 0 of 149. (Measured before the virtual precision: 0 false failures, 17% at K=8.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..plan import Call
from .compare import elementwise_errors, first_bad_timestep
from .envelope import Envelope, flatten, rounding_envelope, steps_of
from .mca import cast_tree, recast
from .tolerances import tolerance

K = 8.0  # a framework value passes within K radii of the centre (measured: see the module docstring)
# The reference's own run is judged by its *median* distance in radii over the decidable elements: a
# systematic loss of accuracy (a recurrence one precision down: hundreds to thousands of radii) moves
# the median, while the rare element of an honest run beyond K (measured: 8.9 and 135 x in 2 of 300
# explored configurations, squareplus/swish gates at values up to 5e18) does not.
REFERENCE_MEDIAN = 4.0
THETA = 1e-2  # an envelope wider than THETA x the values decides nothing

PASS, FAIL, ILL = "pass", "fail", "ill-conditioned"


@dataclass
class OutputVerdict:
    label: str
    status: str
    size: int
    worst_ratio: float = 0.0  # max |f - c| / max(r, eps s) over decidable elements beyond the table
    n_outside: int = 0
    n_undecidable: int = 0
    n_beyond_table: int | None = None  # elements the tolerance table rejects (None: no table)
    worst: dict | None = None  # the worst decidable element (outside, or the closest to the bound)
    first_outside: int | None = None  # first time step with an element outside
    first_undecidable: int | None = None  # first undecidable time step (of any batch row)
    undecidable: dict | None = None  # the figures where the earliest undecidable row became so
    steps: int | None = None

    def lines(self, k, dtype, who="framework") -> list:
        """The report lines; ``who``: whose values were judged (the framework, or the reference's
        own run, judged against the exact centre)."""
        w = self.worst
        if self.status == FAIL:
            where = (f"step t={w['step']}, " if w["step"] is not None else "") + f"index {w['index']}"
            first = ("" if self.first_outside is None else
                     f"; first step outside: t={self.first_outside}"
                     + (", the steps before agree" if self.first_outside else ""))
            return [f"{self.label}: {self.n_outside} of {self.size} elements outside {k:g} x the "
                    f"rounding envelope{first}",
                    f"  worst at {where}: {who} {w['framework']:.9g}, reference {w['centre']:.9g} "
                    f"(exact), |difference| {w['diff']:.3g} = {w['ratio']:.3g} x the envelope "
                    f"{w['envelope']:.3g} (how far valid {dtype} runs land)"]
        if self.status == ILL:
            u, t = self.undecidable, self.first_undecidable
            proven = ("final value not decidable" if t is None else
                      "not decidable from the first step" if t == 0 else
                      f"agreement proven up to step t={t - 1} of {self.steps}, not decidable beyond")
            if u["carried"]:
                why = f"the state carried from the previous call is undecidable (batch row {u['row']})"
            else:
                at = (f"t={u['step']}, " if u["step"] is not None else "") + \
                    f"batch row {u['row']}, unit {u['unit']} of {u['label']}"
                why = (f"at {at} the low-precision runs are not finite (overflow or NaN)"
                       if not u["finite"] else
                       f"at {at} the rounding envelope reaches {u['envelope']:.3g} against values of "
                       f"{u['scale']:.3g} ({u['relative']:.0%})")
            which = "elements" if self.n_beyond_table is None else "elements beyond the table"
            return [f"{self.label}: {proven}: {why}; {self.n_undecidable} of {self.size} {which} are "
                    f"undecidable, the decidable ones agree (worst {self.worst_ratio:.2g} x the envelope)"]
        if self.n_beyond_table == 0:
            return [f"{self.label}: within the tolerance table"]
        beyond = "" if self.n_beyond_table is None else \
            f"the {self.n_beyond_table} of {self.size} values beyond the tolerance table lie "
        return [f"{self.label}: {beyond}within {self.worst_ratio:.2g} x the rounding envelope "
                f"(bound {k:g} x)"]


@dataclass
class EnvelopeVerdict:
    status: str
    k: float
    theta: float
    envelope: Envelope
    outputs: list = field(default_factory=list)
    # the reference's own unperturbed run against the envelope: (label, median ratio) per output;
    # a reference that computes less accurately than valid computations of the case lies outside
    reference_outputs: list = field(default_factory=list)

    @property
    def reference_outside(self) -> list:
        return [(label, r) for label, r in self.reference_outputs if r > REFERENCE_MEDIAN]

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def worst_ratio(self) -> float:
        return max((o.worst_ratio for o in self.outputs), default=0.0)

    def headline(self) -> str:
        env = self.envelope
        if self.status == PASS:
            return (f"rounding verdict: PASS within rounding: every value lies within {self.k:g} x "
                    f"the rounding envelope ({env.describe()})")
        if self.status == FAIL and self.reference_outside and all(o.status != FAIL for o in self.outputs):
            return (f"rounding verdict: FAIL, not rounding: the reference's own {env.dtype.name} run lies "
                    f"outside {self.k:g} x the rounding envelope: the reference computes less "
                    f"accurately than valid {env.dtype.name} computations of the case ({env.describe()})")
        if self.status == FAIL:
            return (f"rounding verdict: FAIL, not rounding: values outside {self.k:g} x the rounding "
                    f"envelope ({env.describe()})")
        first = min(((o.first_undecidable, o.label) for o in self.outputs
                     if o.status == ILL and o.first_undecidable is not None), default=None)
        where = f" (from t={first[0]} of {first[1]})" if first else ""
        return (f"rounding verdict: ILL-CONDITIONED: valid {env.dtype.name} runs scatter as widely as "
                f"the values or overflow{where}: agreement is proven up to there, not decidable "
                f"beyond ({env.describe()})")

    def report(self) -> str:
        lines = [self.headline()]
        shown = [o for o in self.outputs if o.status == self.status] or self.outputs
        for o in shown:
            lines += ["  " + line for line in o.lines(self.k, self.envelope.dtype.name)]
        for label, ratio in self.reference_outside:
            lines.append(f"  the reference's own {self.envelope.dtype.name} run, {label}: its median distance "
                         f"from the exact result is {ratio:.3g} x the rounding envelope (valid "
                         f"{self.envelope.dtype.name} computations: at most {REFERENCE_MEDIAN:g} x)")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        """JSON-ready figures (reports)."""
        return {"status": self.status, "k": self.k, "theta": self.theta, "runs": self.envelope.runs,
                "dtype": self.envelope.dtype.name, "worst_ratio": _num(self.worst_ratio),
                "outputs": [{"label": o.label, "status": o.status, "worst_ratio": _num(o.worst_ratio),
                             "outside": o.n_outside, "undecidable": o.n_undecidable,
                             "first_outside": o.first_outside,
                             "first_undecidable": o.first_undecidable} for o in self.outputs]}


def _num(x):
    return float(f"{x:.4g}") if np.isfinite(x) else str(x)


def judge_envelope(envelope: Envelope, framework_outputs, k=K, theta=THETA,
                   table=True, atol=None, rtol=None) -> EnvelopeVerdict:
    """The verdict on the framework's outputs (one output structure per call of the envelope's
    plan) against the case's rounding envelope. ``table``: accept the elements within the tolerance
    table (tolerances.py) of the unperturbed reference run, as the plain check does (the verdict
    judges what the table rejects); False judges every element by the envelope alone. ``atol``/
    ``rtol``: a user's override of the table (the verdict then judges what they reject)."""
    arrays = [(i, path, np.asarray(a)) for i, out in enumerate(framework_outputs)
              for path, a in flatten(out)]
    have = [(i, path) for i, path, _ in arrays]
    want = [(o.call, o.path) for o in envelope.outputs]
    if have != want:
        raise ValueError(f"the framework's outputs {have} do not have the structure of the "
                         f"envelope's {want} (compare the structures first)")
    for o, (_, _, f) in zip(envelope.outputs, arrays):
        if f.shape != o.centre.shape:
            raise ValueError(f"{o.label}: the framework's shape {f.shape} is not the envelope's "
                             f"{o.centre.shape}")
    verdict = EnvelopeVerdict(PASS, k, theta, envelope)
    undecided_rows = None  # the batch rows whose state became undecidable in the previous call
    for call, steps in enumerate(envelope.steps):
        pairs = [(o, f) for o, (_, _, f) in zip(envelope.outputs, arrays) if o.call == call]
        inherited = undecided_rows if envelope.carried[call] else None
        row = tolerance(envelope.dtype, steps, atol, rtol) if table else None
        verdicts, undecided_rows, start = judge_call(pairs, steps, k, theta, inherited, row)
        verdict.outputs += verdicts
        verdict.reference_outputs += [(o.label, median_ratio(o, start, steps)) for o, _ in pairs]
    statuses = {o.status for o in verdict.outputs} | ({FAIL} if verdict.reference_outside else set())
    verdict.status = FAIL if FAIL in statuses else ILL if ILL in statuses else PASS
    return verdict


def _canonical(a, time_axis):
    """(batch, time, units) for a sequence output, (batch, units) otherwise."""
    return np.moveaxis(a, time_axis, 1) if time_axis is not None else a


def judge_call(pairs, steps, k, theta, inherited=None, table=None):
    """The verdicts on one call's outputs, and its undecided batch rows.

    Decidability is a property of the *state*, not of single elements: once any unit of a batch
    row has an envelope as large as the values (or a run that is not finite), the trajectories of
    valid computations have separated, and an element where the few runs happen to agree (a unit
    saturated at -1 in all of them) proves nothing. So a row is undecidable from the first step
    where any of the call's outputs is, to the end of the call, in its final states, and in the next
    call when the state is carried there (``inherited``)."""
    batch = _canonical(pairs[0][0].centre, pairs[0][0].time_axis).shape[0]
    start = np.full(batch, steps)  # first undecidable step of each row (steps: none)
    if inherited is not None:
        start[inherited] = 0
    figures = {}
    for o, f in pairs:
        bad = _canonical(~(np.isfinite(o.radius) & (o.radius <= theta * o.scale)), o.time_axis)
        rows = bad.reshape(bad.shape[:2] + (-1,)).any(axis=2) if o.time_axis is not None else \
            bad.reshape(batch, -1).any(axis=1)[:, None]
        first = np.where(rows.any(axis=1), rows.argmax(axis=1), steps)
        if o.time_axis is None:
            first = np.where(rows[:, 0], steps - 1, steps)  # the final state: the last step
        for b in np.flatnonzero(first < start):
            figures[b] = (o, first[b])
        start = np.minimum(start, first)
    verdicts = [judge_output(o, f, k, start, steps, figures, table) for o, f in pairs]
    return verdicts, start < steps, start


def judge_output(o, f, k, start, steps, figures, table=None) -> OutputVerdict:
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(f.astype(o.centre.dtype) - o.centre).astype(np.float64)
        diff = np.where(np.isnan(diff), np.inf, diff)
        unit = np.maximum(o.radius, o.eps * o.scale)
        ratio = np.where(diff == 0, 0.0, diff / np.where(unit > 0, unit, 0.0))
    if o.time_axis is not None:
        t = np.arange(steps).reshape([-1 if ax == o.time_axis else 1 for ax in range(f.ndim)])
        b = start.reshape([-1 if ax == (1 - o.time_axis) else 1 for ax in range(f.ndim)])
        undecidable = np.broadcast_to(t >= b, f.shape)
    else:
        undecidable = np.broadcast_to((start < steps).reshape((-1,) + (1,) * (f.ndim - 1)), f.shape)
    accepted = np.zeros(f.shape, bool) if table is None else \
        ~elementwise_errors(f, o.low, table)[2]  # within the table: what the plain check passes
    ratio = np.where(undecidable | accepted, 0.0, ratio)
    outside = ratio > k
    undecidable = undecidable & ~accepted
    out = OutputVerdict(o.label, PASS, int(f.size), steps=steps if o.time_axis is not None else None)
    out.n_outside, out.n_undecidable = int(outside.sum()), int(undecidable.sum())
    out.n_beyond_table = None if table is None else int(f.size - accepted.sum())
    if f.size:
        idx = np.unravel_index(np.argmax(ratio), f.shape)
        out.worst_ratio = float(ratio[idx])
        out.worst = _figures(o, f, diff, unit, ratio, idx)
    if outside.any():
        out.status = FAIL
        out.first_outside = _first_step(outside, o.time_axis)
    elif undecidable.any():
        out.status = ILL
        # where the envelope stops deciding (elements after it may still agree within the table)
        out.first_undecidable = int(start.min()) if o.time_axis is not None else None
        out.undecidable = _undecidable_figures(o, start, figures)
    return out


def median_ratio(o, start, steps) -> float:
    """The median of |reference's own run - centre| / max(radius, eps s) over the decidable elements
    of one output (0 when none is decidable)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = np.abs(o.low.astype(o.centre.dtype) - o.centre).astype(np.float64)
        unit = np.maximum(o.radius, o.eps * o.scale)
        ratio = np.where(diff == 0, 0.0, diff / np.where(unit > 0, unit, np.nan))
    if o.time_axis is not None:
        t = np.arange(steps).reshape([-1 if ax == o.time_axis else 1 for ax in range(o.low.ndim)])
        b = start.reshape([-1 if ax == (1 - o.time_axis) else 1 for ax in range(o.low.ndim)])
        decidable = np.broadcast_to(t < b, o.low.shape)
    else:
        decidable = np.broadcast_to((start >= steps).reshape((-1,) + (1,) * (o.low.ndim - 1)), o.low.shape)
    values = ratio[decidable & np.isfinite(ratio)]
    return float(np.median(values)) if values.size else 0.0


def _undecidable_figures(o, start, figures):
    """Where and why the earliest undecidable row became so."""
    b = int(np.argmin(start))
    if b not in figures:
        return {"carried": True, "row": b}
    src, t = figures[b]
    radius, scale = _canonical(src.radius, src.time_axis), _canonical(src.scale, src.time_axis)
    radius, scale = (radius[b, t], scale[b, t]) if src.time_axis is not None else (radius[b], scale[b])
    shape = np.shape(radius)  # (units,); a ConvLSTM's (*spatial, filters) or (filters, *spatial)
    radius, scale = np.ravel(radius), np.ravel(scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(np.isfinite(radius), radius / np.where(scale > 0, scale, np.nan), np.inf)
    j = int(np.nanargmax(np.where(np.isnan(rel), np.inf, rel)))
    unit = j if len(shape) <= 1 else tuple(int(i) for i in np.unravel_index(j, shape))
    return {"carried": False, "row": b, "label": src.label,
            "step": int(t) if src.time_axis is not None else None, "unit": unit,
            "finite": bool(np.isfinite(radius[j])), "envelope": float(radius[j]),
            "scale": float(scale[j]), "relative": float(rel[j])}


def _figures(o, f, diff, unit, ratio, idx):
    return {"index": tuple(int(i) for i in idx), "step": int(idx[o.time_axis]) if o.time_axis is not None
            else None, "framework": float(f[idx]), "centre": float(o.centre[idx]),
            "diff": float(diff[idx]), "envelope": float(unit[idx]), "ratio": float(ratio[idx])}


def _first_step(mask, time_axis):
    return first_bad_timestep(mask, time_axis) if time_axis is not None else None


# -- "float32 rounding inside a float64 run" -----------------------------------------------------
def computed_in(dtype, reference, plan, framework_outputs, k=K, theta=THETA) -> EnvelopeVerdict:
    """The verdict on the hypothesis that the framework computed the case in ``dtype``, a precision
    below the layer's: its outputs, rounded to ``dtype``, against the envelope of the reference
    recast to ``dtype`` (weights, inputs and states rounded to it). When a float64 verdict fails and
    this one passes, the differences have the size of ``dtype`` rounding and the framework's result
    is a valid ``dtype`` computation of the layer: one side computes in ``dtype``."""
    dtype = np.dtype(dtype)
    lower = recast(reference, dtype)
    calls = [Call(np.asarray(s.x).astype(dtype), s.mask, cast_tree(s.initial_state, dtype), s.label)
             if isinstance(s, Call) else s for s in steps_of(plan)]
    return judge_envelope(rounding_envelope(lower, calls), cast_tree(framework_outputs, dtype), k, theta)
