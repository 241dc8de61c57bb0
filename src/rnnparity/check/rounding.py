"""The rounding-aware verdict: is a low-precision mismatch rounding, or a difference in the maths?

Over a long sequence a saturated recurrence can amplify one rounding difference far beyond the
tolerance table (seen: float32 GRU, T=2000, 2e-4 from t=836 on) although the framework and the
reference are both valid float32 computations of the same maths. So when a float32/float16
comparison fails on values only, the same case runs again with both sides in float64 (weights,
inputs and initial states upcast exactly, masks unchanged), and the mismatch is a *pass within
rounding* only if

  (a) the float64 runs agree to the float64 tolerance (`float64_bound`), and
  (b) for every failing output, the reference's low-precision result is no further from the
      reference's float64 result than FACTOR times the framework's low-precision result is from the
      framework's float64 result: the reference is as accurate as the framework, and one that
      computes in too low a precision still fails.

Otherwise it fails as before, with the errors behind the verdict added to the report.
Replay of a recording has no framework to re-run in float64: it keeps the plain verdict.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .compare import Mismatch, as_list, compare_outputs
from ..plan import Call, LayerSpec, Plan
from .tolerances import tolerance

LOW_PRECISIONS = ("float16", "float32")
FACTOR = 2.0
# The distance in (b) is the median element |low - float64| of the output: the typical rounding
# error, set by the precision a side computes in. The max (and the RMS) are set by the few steps
# where the recurrence amplifies one rounding, which differ between any two valid computations.
# Measured on the seeds that fail the table but agree in float64, over 10 saturated T=2000 float32
# settings (GRU both layouts, LSTM, SimpleRNN, Bidirectional GRU and LSTM; 12 or 40 seeds each),
# the reference/framework ratio reached 7.2 for the max and 2.8 for the RMS, but at most 1.11 for
# the median; a reference carrying a float32 GRU in float16 gives a median ratio of 2600-6000.
# (a) allows the float64 disagreement that the same amplification gives float64 rounding: the growth
# g = max |fw_low - fw64| / eps(low) seen in the low-precision run, times eps(float64), times
# GROWTH_SLACK. A difference in the maths of size d shows as about d * g in float64, so this admits
# only d < GROWTH_SLACK * eps(float64) ~ 2e-14, well inside the float64 table itself.
GROWTH_SLACK = 100.0


def eligible(problems) -> bool:
    """Whether a failed comparison can be rounding: value mismatches only, between the framework
    and the reference (not a stateful chunking check), in float16/float32."""
    return bool(problems) and all(p.kind == "values" and p.call is not None and p.output is not None
                                  and p.precision in LOW_PRECISIONS for p in problems)


# -- the float64 re-run ------------------------------------------------------------------------
def float64_spec(spec: LayerSpec) -> LayerSpec:
    """The layer spec with every dtype float64: the layer, the Bidirectional wrapper (whose own
    policy is float32 unless given) and an explicit backward layer."""
    wrapper = copy.deepcopy(spec.wrapper)
    if wrapper is not None:
        wrapper["dtype"] = "float64"
        if wrapper.get("backward_config") is not None:
            wrapper["backward_config"]["dtype"] = "float64"
    return spec.replace(config={**spec.config, "dtype": "float64"}, wrapper=wrapper)


def upcast(arrays):
    """Floating arrays as float64 (exactly: every float16/float32 value is a float64 value)."""
    if arrays is None:
        return None
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(a.astype(np.float64) if np.issubdtype(a.dtype, np.floating) else a)
    return out


def float64_plan(plan: Plan) -> Plan:
    steps = [Call(upcast([s.x])[0], s.mask, upcast(s.initial_state), s.label) if isinstance(s, Call)
             else s for s in plan.steps]
    return Plan(steps, plan.chunk_check)


# -- the verdict -------------------------------------------------------------------------------
@dataclass
class OutputErrors:
    """The errors behind the verdict for one failing output."""
    label: str
    fw: tuple  # (max, median) of |framework low - framework float64|
    ref: tuple  # (max, median) of |reference low - reference float64|
    high: float  # max |framework float64 - reference float64|


@dataclass
class Verdict:
    passed: bool
    precision: str  # the low precision compared
    rows: list = field(default_factory=list)
    bound64: dict = field(default_factory=dict)  # the atol/rtol condition (a) applied
    reasons: list = field(default_factory=list)  # why it is not rounding (empty when passed)

    def report(self) -> str:
        low = {"float32": "32", "float16": "16"}[self.precision]
        lines = [f"rounding verdict: PASS within rounding: the {self.precision} differences are "
                 f"rounding (re-run with both sides in float64)" if self.passed else
                 "rounding verdict: FAIL, not rounding (re-run with both sides in float64):"]
        lines += [f"  {reason}" for reason in self.reasons]
        if self.bound64:
            lines.append(f"  needs (a) fw64 vs ref64 within atol={self.bound64['atol']:.3g}, "
                         f"rtol={self.bound64['rtol']:.3g}; (b) median |ref{low} - ref64| <= "
                         f"{FACTOR:g} x median |fw{low} - fw64|")
        for r in self.rows:
            lines.append(f"  {r.label}: fw{low} vs fw64 max {r.fw[0]:.3g} (median {r.fw[1]:.3g}); "
                         f"ref{low} vs ref64 max {r.ref[0]:.3g} (median {r.ref[1]:.3g}); "
                         f"fw64 vs ref64 max {r.high:.3g}")
        return "\n".join(lines)

    def mismatch(self) -> Mismatch:
        return Mismatch("rounding", self.report())


def _leaves_flat(value):
    """One output as one flat array of its values, in its own dtype: an array, or a nested list of
    arrays (stacked cells return one state list per cell, of different widths)."""
    if isinstance(value, (list, tuple)):
        parts = [_leaves_flat(v) for v in value]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(value))


def _distance(low, high):
    err = np.abs(np.asarray(low, np.float64) - np.asarray(high, np.float64))
    return float(err.max()), float(np.median(err))


def float64_bound(growth: float, steps) -> dict:
    """The float64 tolerance row for condition (a), its atol widened by the observed growth."""
    row = tolerance("float64", steps)
    return {"atol": max(row["atol"], GROWTH_SLACK * growth * np.finfo(np.float64).eps),
            "rtol": row["rtol"]}


def judge(problems, low, high, steps, names=None, time_axis=1, rerun_problems=()) -> Verdict:
    """The verdict on a low-precision comparison that failed with ``problems`` (all `eligible`).

    ``low`` and ``high`` are (framework outputs, reference outputs), one output structure per call,
    from the low-precision run and from the float64 re-run; ``steps`` the time steps of each call,
    ``names`` the output names of each call (or None). ``rerun_problems``: what went wrong in the
    float64 re-run itself (an error, a structure mismatch), each a reason to fail.
    """
    precision = max((p.precision for p in problems), key=lambda d: np.finfo(d).eps)
    verdict = Verdict(False, precision)
    verdict.reasons += [p.message.splitlines()[0] for p in rerun_problems]
    (fw_low, ref_low), (fw_high, ref_high) = low, high
    if len(fw_high) != len(fw_low) or len(ref_high) != len(ref_low):
        verdict.reasons.append("the float64 re-run did not complete every call")
        return verdict
    growth, failing = 0.0, sorted({(p.call, p.output): p for p in problems}.items())
    for (k, i), p in failing:
        arrays = [_leaves_flat(as_list(side[k])[i]) for side in (fw_low, ref_low, fw_high, ref_high)]
        if not all(np.isfinite(np.asarray(a, np.float64)).all() for a in arrays):
            verdict.reasons.append(f"{p.label}: non-finite values, which rounding does not explain")
            return verdict
        if any(np.asarray(a).dtype != np.float64 for a in arrays[2:]):
            verdict.reasons.append(f"{p.label}: the float64 re-run did not return float64")
            return verdict
        fw, ref = _distance(arrays[0], arrays[2]), _distance(arrays[1], arrays[3])
        high_err = float(np.max(np.abs(arrays[2] - arrays[3])))
        verdict.rows.append(OutputErrors(p.label, fw, ref, high_err))
        growth = max(growth, fw[0] / np.finfo(precision).eps)
        if not ref[1] <= FACTOR * fw[1]:
            verdict.reasons.append(f"(b) {p.label}: the reference's {precision} result is "
                                   f"{ref[1] / fw[1] if fw[1] else np.inf:.3g} x as far from its "
                                   f"float64 result as the framework's (median error), more than "
                                   f"{FACTOR:g} x: the reference is less accurate than the framework")
    verdict.bound64 = float64_bound(growth, max(steps))
    for k, (e, a) in enumerate(zip(fw_high, ref_high)):
        bound = float64_bound(growth, steps[k])
        row = "widened for the growth" if bound["atol"] > tolerance("float64", steps[k])["atol"] else "table"
        for p in compare_outputs(e, a, names[k] if names else None, time_axis=time_axis,
                                 steps=steps[k], precision="float64", **bound):
            message = p.message.replace(", as given)", f", {row})", 1)
            verdict.reasons.append(f"(a) the float64 runs disagree too (call {k + 1}): "
                                   + message.replace("\n", "\n    "))
    verdict.passed = not verdict.reasons
    return verdict
