"""Compare framework outputs with reference outputs: structure -> shape -> dtype -> values.

A mismatch becomes a `Mismatch` that explains itself: which call, which output (by name), the worst
element, the first diverging timestep and unit for sequence outputs, the case id and a repro command.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tolerances import LONG_SEQUENCE, tolerance

# the record_property key of a failing or known-bug case's error curves (error_curves below)
ERRORS_KEY = "rnnparity_errors"


@dataclass
class Mismatch:
    kind: str  # "structure", "shape", "dtype", "values", "error", "rounding"
    message: str
    # where a framework-vs-reference "values" mismatch is (what the rounding verdict re-checks):
    precision: str | None = None  # the dtype whose tolerance row was applied
    label: str | None = None  # the output's label, e.g. "output [0] = whole sequence output (...)"
    call: int | None = None  # index into the plan's calls
    output: int | None = None  # index into the call's outputs
    # the error over time of a "values" mismatch, for the HTML report (ERRORS_KEY): max abs error per
    # timestep (one value for an output without a time axis), the worst element and the tolerance
    curve: dict | None = None


@dataclass
class Stats:
    """Max errors seen over every compared element (reported in the run summary), overall and per
    precision compared (a float64 layer whose output Keras casts to float32 counts as float32).

    A case that passes only within rounding (rnnparity.check.verdict: the rounding envelope) adds no
    errors, which would exceed the table by definition; it is counted in ``within_rounding``, and an
    ill-conditioned case in ``ill_conditioned``."""
    max_abs: float = 0.0
    max_rel: float = 0.0
    elements: int = 0
    by_precision: dict = field(default_factory=dict)
    within_rounding: int = 0
    ill_conditioned: int = 0

    def merge(self, other: "Stats"):
        self.max_abs, self.max_rel = max(self.max_abs, other.max_abs), max(self.max_rel, other.max_rel)
        self.elements += other.elements
        self.within_rounding += other.within_rounding
        self.ill_conditioned += other.ill_conditioned
        for precision, (mabs, mrel) in other.by_precision.items():
            seen = self.by_precision.setdefault(precision, [0.0, 0.0])
            seen[0], seen[1] = max(seen[0], mabs), max(seen[1], mrel)

    def update(self, abs_err, rel_err, n, precision="float32"):
        self.max_abs = max(self.max_abs, abs_err)
        self.max_rel = max(self.max_rel, rel_err)
        self.elements += n
        seen = self.by_precision.setdefault(precision, [0.0, 0.0])
        seen[0], seen[1] = max(seen[0], abs_err), max(seen[1], rel_err)

    def as_property(self, target):
        """The record_property payload the plugin's summary aggregates."""
        return {"target": target, "precisions": {k: list(v) for k, v in self.by_precision.items()},
                "within_rounding": self.within_rounding, "ill_conditioned": self.ill_conditioned}


def _kind(out):
    if isinstance(out, tuple):
        return "tuple"
    if isinstance(out, list):
        return "list"
    return "array"


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def compare_structure(expected, actual, names=None):
    """Mismatch or None: how many outputs, in which container."""
    ek, ak = _kind(expected), _kind(actual)
    ne, na = len(as_list(expected)), len(as_list(actual))
    if ek != ak or ne != na:
        listing = ""
        if names:
            listing = "\n  the framework's outputs are: " + "; ".join(
                f"[{i}] {n}" for i, n in enumerate(names))
        return Mismatch("structure", f"structure: framework returned {_describe(ek, ne)}, reference "
                                     f"returned {_describe(ak, na)}{listing}")
    return None


def _describe(kind, n):
    return "a single array" if kind == "array" else f"a {kind} of {n} arrays"


def coarsest(dtype, precision):
    """The less precise of an output dtype and the dtype the layer computed in (an output cast up,
    e.g. float16 sub-layers under a float32 Bidirectional, keeps the rounding of its computation)."""
    if precision is None:
        return np.dtype(dtype)
    return max(np.dtype(dtype), np.dtype(precision), key=lambda d: np.finfo(d).eps)


def compare_array(expected, actual, label, time_axis=None, stats=None, steps=None, precision=None,
                  atol=None, rtol=None):
    """Mismatch or None for one output array. ``atol``/``rtol`` override the tolerance table."""
    expected, actual = np.asarray(expected), np.asarray(actual)
    if expected.shape != actual.shape:
        return Mismatch("shape", f"{label}: shape differs: framework {expected.shape}, reference {actual.shape}")
    if expected.dtype != actual.dtype:
        return Mismatch("dtype", f"{label}: dtype differs: framework {expected.dtype}, reference {actual.dtype}")
    if expected.size == 0:
        return None
    return _compare_values(expected, actual, label, time_axis, stats, steps,
                           coarsest(expected.dtype, precision), atol, rtol)


def elementwise_errors(expected, actual, tol):
    """(abs error, rel error, beyond-tolerance mask) per element, in float64.

    NaN against NaN and an infinity against the same infinity agree; any other NaN is an infinite
    error. The relative error is against max(|expected|, atol): meaningful where expected is ~0."""
    e64, a64 = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        both_nan = np.isnan(e64) & np.isnan(a64)
        same_inf = np.isinf(e64) & (e64 == a64)
        err = np.where(both_nan | same_inf, 0.0, np.abs(a64 - e64))
        err = np.where(np.isnan(err), np.inf, err)
        bound = tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(e64), e64, 0.0))
        rel = err / np.maximum(np.abs(e64), tol["atol"])
    return err, rel, err > bound


def first_bad_timestep(bad, time_axis):
    """The first index along ``time_axis`` where ``bad`` has a True element (one must exist)."""
    bad_t = np.moveaxis(bad, time_axis, 0)
    return int(np.argmax(bad_t.reshape(bad_t.shape[0], -1).any(axis=1)))


def _compare_values(expected, actual, label, time_axis, stats, steps, precision, atol=None, rtol=None):
    tol = tolerance(precision, steps, atol, rtol)
    err, rel, bad = elementwise_errors(expected, actual, tol)
    finite = np.isfinite(err)
    long = steps is not None and steps > LONG_SEQUENCE
    if stats is not None and finite.any():
        stats.update(float(err[finite].max()), float(np.where(finite, rel, 0).max()), expected.size,
                     precision.name + (f", T > {LONG_SEQUENCE}" if long else ""))
    if not bad.any():
        return None
    worst = np.unravel_index(np.argmax(np.where(bad, err, -1.0)), err.shape)
    lines = [
        f"{label}: {int(bad.sum())} of {bad.size} elements beyond tolerance "
        f"(atol={tol['atol']:g}, rtol={tol['rtol']:g}, {precision.name}"
        f"{', as given' if tol.get('given') else ', long-sequence row' if long else ''})",
        f"  max abs error {err[worst]:.3g} at index {tuple(int(i) for i in worst)}: "
        f"framework {float(expected[worst]):.9g}, reference {float(actual[worst]):.9g}",
        f"  max rel error {float(np.max(np.where(bad, rel, 0))):.3g}",
    ]
    first = None
    if time_axis is not None and expected.ndim == 3:
        t = first = first_bad_timestep(bad, time_axis)
        where = np.argwhere(np.moveaxis(bad, time_axis, 0)[t])[0]
        lines.append(f"  first diverging timestep: t={t} (batch {int(where[0])}, unit {int(where[1])}); "
                     f"steps before t={t} agree")
    curve = {"per_step": per_step_max(err, time_axis if expected.ndim == 3 else None),
             "first_bad": first, "atol": float(tol["atol"]), "rtol": float(tol["rtol"]),
             "worst": {"index": [int(i) for i in worst], "abs": _num(err[worst]),
                       "framework": _num(expected[worst]), "reference": _num(actual[worst])}}
    return Mismatch("values", "\n".join(lines), precision=precision.name, label=label, curve=curve)


def _num(x, digits=4):
    """A float for JSON, to ``digits`` significant digits (inf and NaN as the strings JSON lacks)."""
    x = float(x)
    return float(f"{x:.{digits}g}") if np.isfinite(x) else str(x)


def per_step_max(err, time_axis):
    """The max abs error at each timestep (one value when there is no time axis); inf for NaN."""
    if time_axis is None:
        return [_num(np.max(err))]
    steps = np.moveaxis(err, time_axis, 0)
    return [_num(v) for v in steps.reshape(steps.shape[0], -1).max(axis=1)]


def _headline(message):
    """A problem's first line, with the next one when the first only introduces it ('...:')."""
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()] or [""]
    return " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]


def error_curves(problems) -> dict:
    """The compact record_property(ERRORS_KEY, ...) payload of a failing or known-bug case: for each
    output beyond tolerance its label, precision and curve (Mismatch.curve); the other problems'
    first lines (structure, shape, dtype, error, rounding)."""
    outputs = [{"label": p.label, "precision": p.precision, **p.curve} for p in problems if p.curve]
    others = [_headline(p.message) for p in problems if not p.curve]
    return {"outputs": outputs, "other": others}


def compare_outputs(expected, actual, names=None, time_axis=1, stats=None, prefix="", steps=None,
                    precision=None, atol=None, rtol=None):
    """All mismatches between two output structures (empty list when they agree).

    ``atol``/``rtol`` override the tolerance table (rnnparity.check.tolerances); None keeps its value."""
    problem = compare_structure(expected, actual, names)
    if problem:
        problem.message = prefix + problem.message
        return [problem]
    problems = []
    for i, (e, a) in enumerate(zip(as_list(expected), as_list(actual))):
        name = names[i] if names and i < len(names) else f"output {i}"
        label = f"{prefix}output [{i}] = {name}"
        axis = time_axis if np.ndim(e) == 3 else None
        p = compare_array(e, a, label, time_axis=axis, stats=stats, steps=steps, precision=precision,
                          atol=atol, rtol=rtol)
        if p:
            p.output = i
            problems.append(p)
    return problems
