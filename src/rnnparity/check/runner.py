"""Run a case: the same plan on the live framework and on the reference, then compare.

`record(case)` runs the framework and returns a `Recording` (everything needed to replay with no
framework: spec, plan, weights, outputs or the error). `verify(recording, reference_factory)` runs
the reference through the same plan and returns the mismatches. `check_live(case)` does both, with
the reference built by `from_keras` from the live layer, and when a float16/float32 comparison fails
on values only it re-runs the case in float64 for the rounding verdict (rnnparity.check.rounding).
"""
from __future__ import annotations

import copy

import numpy as np

from ..targets import registry
from . import rounding
from ..matrix.cases import Case
from .compare import Mismatch, Stats, as_list, compare_array, compare_outputs
from .diagnose import diagnosis_mismatch
from .tf1_diagnose import recording_mismatch as tf1_diagnosis_mismatch
from ..keras_to_reference import from_keras, from_spec
from ..matrix import conv_lstm_cases, tf1_cases
from ..matrix.data import make_plan
from ..plan import LayerSpec, Outcome, Plan, Recording, Tf1Spec, spec_from_dict
from ..reference.tf1_call import Tf1Call
from ..targets.base import execute
from ..output_structure import explain


def expected_reference_error(framework_error_type: str) -> str:
    """The exception type the reference must raise where the framework raised this one.

    ValueError and TypeError must match exactly; framework-internal errors (e.g. TensorFlow's
    InvalidArgumentError from a kernel) map to ValueError, raised before any computation.
    """
    return framework_error_type if framework_error_type in ("ValueError", "TypeError") else "ValueError"


def case_run(case) -> tuple:
    """(spec, plan, weights) of a matrix case, Keras or tf1 (weights None: the seeded default)."""
    if isinstance(case, tf1_cases.Tf1Case):
        return case.layer_spec(), tf1_cases.make_plan(case), tf1_cases.case_weights(case)
    if isinstance(case, conv_lstm_cases.ConvLstmCase):
        return case.layer_spec(), conv_lstm_cases.make_plan(case), None
    return case.layer_spec(), make_plan(case), None


def record(case: Case, on_built=None) -> Recording:
    """Run the framework through the case's plan. ``on_built(layer)`` runs once the live layer has its
    weights and before its first call (that is where the reference is copied from it)."""
    spec, plan, weights = case_run(case)
    return record_spec(case.target, spec, plan, case.seed, case.id, case.input_shape,
                       time_axis=0 if case.time_major else 1, on_built=on_built, weights=weights)


def record_spec(target, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
                weights=None) -> Recording:
    """`record` for any layer spec (used by the case matrix and by sweeps outside it), on any target
    (targets/base.py: the protocol).

    ``weights``: None for the seeded uniform(-0.6, 0.6) weights; a list of arrays; or a callable
    ``weights(shapes) -> arrays`` (e.g. seeded weights scaled up to saturate the gates). They are
    cast to the spec's dtype. ``spec``: a LayerSpec or Tf1Spec, or its JSON form."""
    spec = spec_from_dict(spec)
    return registry.get(target).record(spec, plan, seed, case_id, input_shape, time_axis=time_axis,
                                       on_built=on_built, weights=weights)


def output_names(rec: Recording, x_shape):
    try:
        if isinstance(rec.spec, Tf1Spec):
            return Tf1Call.from_spec(rec.spec).output_names(x_shape[rec.time_axis])
        return explain(rec.spec, x_shape, rec.dialect).names()
    except Exception:  # noqa: BLE001 - names are a courtesy; a bad spec is reported elsewhere
        return None


def verify(rec: Recording, reference_factory, stats: Stats | None = None, atol=None,
           rtol=None) -> list[Mismatch]:
    """Run the reference through the recording's plan; return every mismatch. ``atol``/``rtol``
    override the tolerance table. This is the plain verdict: replaying a recording has no
    framework to re-run in float64, so there is no rounding verdict here (see check_live)."""
    return verify_recording(rec, reference_factory, stats, atol, rtol)[0]


def verify_recording(rec: Recording, reference_factory, stats, atol, rtol):
    """(mismatches, the reference's Outcome or None when it was not run)."""
    fw = rec.outcome
    if fw.error is not None and fw.error[0] == -1:
        want = expected_reference_error(fw.error[1])
        try:
            reference_factory()
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == want:
                return [], None
            return [Mismatch("error", f"the framework rejected this configuration with {fw.error[1]}: "
                                      f"{fw.error[2]}\n  the reference raised {type(exc).__name__} "
                                      f"(expected {want}): {exc}")], None
        return [Mismatch("error", f"the framework rejected this configuration with {fw.error[1]}: "
                                  f"{fw.error[2]}\n  but the reference accepted it")], None
    try:
        ref = reference_factory()
    except Exception as exc:  # noqa: BLE001
        return [Mismatch("error", f"the framework accepted this configuration but building the "
                                  f"reference raised {type(exc).__name__}: {exc}")], None
    ours = execute(lambda s: ref(s.x, **s.arguments()),
                   ref.reset_states if getattr(ref, "stateful", False) else _no_reset, rec.plan)
    problems = []
    calls = rec.plan.calls
    for k, (e, a) in enumerate(zip(fw.outputs, ours.outputs)):
        names = output_names(rec, calls[k].x.shape)
        label = f"call {k + 1} of {len(calls)} ({calls[k].label}): " if len(calls) > 1 else ""
        steps = calls[k].x.shape[rec.time_axis]
        for p in compare_outputs(e, a, names, time_axis=rec.time_axis, stats=stats, prefix=label,
                                 steps=steps, precision=rec.spec.precision,
                                 atol=atol, rtol=rtol):
            p.call = k
            problems.append(p)
    problems += _compare_errors(fw, ours, rec.plan)
    if rec.plan.chunk_check and fw.error is None and ours.error is None:
        problems += chunk_consistency(fw.outputs, rec.plan, rec.time_axis, "framework")
        problems += chunk_consistency(ours.outputs, rec.plan, rec.time_axis, "reference")
    return problems, ours


def _no_reset():
    raise AttributeError("reset_states() on a non-stateful layer")


def _compare_errors(fw: Outcome, ours: Outcome, plan: Plan):
    def where(err):
        step = plan.steps[err[0]]
        return getattr(step, "label", "reset")
    if fw.error is None and ours.error is None:
        return []
    if fw.error is not None and ours.error is not None:
        want = expected_reference_error(fw.error[1])
        if fw.error[0] == ours.error[0] and ours.error[1] == want:
            return []
        return [Mismatch("error", f"the framework raised {fw.error[1]} at step '{where(fw.error)}': "
                                  f"{fw.error[2]}\n  the reference raised {ours.error[1]} at step "
                                  f"'{where(ours.error)}': {ours.error[2]}")]
    if fw.error is not None:
        return [Mismatch("error", f"the framework raised {fw.error[1]} at step '{where(fw.error)}': "
                                  f"{fw.error[2]}\n  but the reference ran through")]
    return [Mismatch("error", f"the reference raised {ours.error[1]} at step '{where(ours.error)}': "
                              f"{ours.error[2]}\n  but the framework ran through")]


def chunk_consistency(outputs, plan: Plan, time_axis, who):
    """Stateful: outputs of two chunks must equal the outputs of the whole sequence."""
    c1, c2, whole = (as_list(outputs[i]) for i in plan.chunk_check)
    problems = []
    for i, (a, b, w) in enumerate(zip(c1, c2, whole)):
        a, b, w = np.asarray(a), np.asarray(b), np.asarray(w)
        got = np.concatenate([a, b], axis=time_axis) if w.ndim == 3 else b
        p = compare_array(w, got, f"{who}: stateful chunking, output [{i}] (chunk 1 + chunk 2 vs whole)",
                          time_axis=time_axis if w.ndim == 3 else None)
        if p:
            problems.append(p)
    return problems


def check_live(case: Case, stats: Stats | None = None, atol=None, rtol=None, rounding=True):
    """(recording, mismatches) for a live case; the reference is built from the live layer.

    A float16/float32 values-only mismatch gets the rounding verdict (unless ``rounding=False``):
    on a pass within rounding the mismatches are empty and ``recording.rounding`` holds the
    verdict; otherwise the verdict is the last mismatch. ``atol``/``rtol`` override the tolerance
    table for the comparison in the case's own precision (the float64 re-run keeps the table).
    A tf1 case keeps its plain verdict: no float64 re-run is modelled for TF1 calls (as before)."""
    def run(spec, plan, weights, on_built):
        return record_spec(case.target, spec, plan, case.seed, case.id, case.input_shape,
                           time_axis=0 if case.time_major else 1, on_built=on_built, weights=weights)
    spec, plan, weights = case_run(case)
    return _check(run, spec, plan, weights, stats, atol, rtol, rounding and isinstance(spec, LayerSpec))


def check_spec_live(target, spec, plan, seed, case_id, input_shape, stats: Stats | None = None,
                    atol=None, rtol=None, weights=None, rounding=True):
    """`check_live` for any layer spec (``weights`` as in `record_spec`)."""
    spec = spec_from_dict(spec)
    def run(spec, plan, weights, on_built):
        return record_spec(target, spec, plan, seed, case_id, input_shape, on_built=on_built,
                           weights=weights)
    return _check(run, spec, plan, weights, stats, atol, rtol, rounding)


def _check(run, spec, plan, weights, stats, atol, rtol, with_rounding):
    """Record and verify; on an eligible failure, re-run in float64 for the rounding verdict.

    Errors go into ``stats`` only for a case that passes outright: one that passes within rounding
    exceeds the table by definition and is only counted."""
    seen, kept = Stats(), {}
    rec, ours, problems = _record_and_verify(run, spec, plan, weights, seen, atol, rtol, kept)
    if with_rounding and rounding.eligible(problems):
        rec.rounding = rounding_verdict(run, rec, ours, problems)
        if rec.rounding.passed:
            seen = Stats(within_rounding=1)
            problems = []
        else:
            problems.append(rec.rounding.mismatch())
    line = None
    if any(p.kind == "values" for p in problems) and isinstance(spec, Tf1Spec):
        line = tf1_diagnosis_mismatch(rec, rec.outcome.outputs[0], "tf1's output")
    elif any(p.kind == "values" for p in problems) and "pristine" in kept:
        line = diagnosis_mismatch(kept["pristine"], plan.steps, rec.outcome.outputs,
                                  f"{registry.target_of(rec.case_id) or 'the target'}'s output")
    if line is not None:
        problems.append(line)
    if stats is not None and not problems:
        stats.merge(seen)
    return rec, problems


def rounding_verdict(run, rec, ours, problems):
    spec64, plan64 = rounding.float64_spec(rec.spec), rounding.float64_plan(rec.plan)
    rec64, ours64, problems64 = _record_and_verify(run, spec64, plan64, rounding.upcast(rec.weights),
                                                   None, None, None)
    calls = rec.plan.calls
    return rounding.judge(
        problems, (rec.outcome.outputs, ours.outputs),
        (rec64.outcome.outputs, ours64.outputs if ours64 is not None else []),
        steps=[c.x.shape[rec.time_axis] for c in calls],
        names=[output_names(rec, c.x.shape) for c in calls], time_axis=rec.time_axis,
        rerun_problems=[p for p in problems64 if p.kind != "values"])


def _record_and_verify(run, spec, plan, weights, stats, atol, rtol, kept=None):
    """(recording, the reference's Outcome or None, mismatches). ``kept["pristine"]``: a copy of
    the reference before its first call (for the diagnosis of a failure)."""
    copied = {}

    def copy_reference(layer):
        try:
            copied["ref"] = from_keras(layer)
            if kept is not None:
                kept["pristine"] = copy.deepcopy(copied["ref"])
        except Exception as exc:  # noqa: BLE001 - reported by verify, as for any reference error
            copied["error"] = exc

    def reference():
        if "error" in copied:
            raise copied["error"]
        return copied["ref"]

    rec = run(spec, plan, weights, copy_reference)
    # no live layer here: a rejected configuration, or a target that ran in another process
    factory = reference_factory(rec) if rec.layer is None else reference
    problems, ours = verify_recording(rec, factory, stats, atol, rtol)
    return rec, ours, problems


def reference_factory(rec: Recording):
    """A reference built from the recorded spec, with the recorded weights (when there are any)."""
    def build():
        ref = Tf1Call.from_spec(rec.spec) if isinstance(rec.spec, Tf1Spec) else from_spec(rec.spec, rec.dialect)
        if rec.weights is not None:
            ref.set_weights(list(rec.weights))
        return ref
    return build


def pytest_repro(selector: str) -> str:
    """The pytest command line that selects one test of the shipped suite by its id. -k matches
    substrings, so an id ending in `keras3` would also select its `keras3-numpy` twin: those are
    excluded by name."""
    from ..targets import registry

    target = registry.target_of(selector)
    longer = target is not None and any(t.startswith(target + "-") for t in registry.TARGETS)
    return f'pytest --pyargs rnnparity -k "{selector}' + (f' and not {selector}-"' if longer else '"')


def repro_command(case_id: str) -> str:
    return f'rnnparity check --case {case_id}    (or: {pytest_repro(case_id)})'


_DEFAULT = object()


def failure_report(case_id: str, problems, repro=_DEFAULT) -> str:
    """The report of a failed check. ``repro``: the command line that reruns it (default: the
    matrix case's `rnnparity check --case`); None for none (a user's own layer)."""
    # the rounding verdict (the last mismatch, when reached) and the diagnosis (which known porting
    # mistake explains the difference) explain the others: not counted, always shown
    verdict = [p for p in problems if p.kind in ("rounding", "diagnosis")]
    problems = [p for p in problems if p.kind not in ("rounding", "diagnosis")]
    head = f"[{case_id}] the reference and the framework disagree ({len(problems)} problem(s))"
    body = [p.message for p in problems[:6]]
    if len(problems) > 6:
        body.append(f"  ... and {len(problems) - 6} more")
    body += [p.message for p in verdict]
    if repro is _DEFAULT:
        repro = repro_command(case_id)
    return f"{head}\n" + "\n".join(body) + (f"\nrepro: {repro}" if repro else "")
