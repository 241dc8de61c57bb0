"""The one verdict pipeline: a run of a plan on a target, judged against the reference.

    verdict = judge(recording, reference_factory, pristine=..., known=...)

Every way of checking goes through `judge`: the shipped suite (Keras and TF1 cases, live and
replayed; check/runner.py), `assert_parity` (testing.py), `check_model` / `check-model`
(model/check_model.py) and `rnnparity explore`. In order:

1. **compare** (runner.verify_recording): the reference runs the recording's plan (calls, masks,
   initial states, resets, state carried between calls) and the outputs are compared: structure ->
   shape -> dtype -> values against the tolerance table (tolerances.py), or a user's atol/rtol;
2. **rounding** (envelope.py, envelope_verdict.py): when only values differ, between framework and
   reference, the rounding envelope of the case decides whether the difference is rounding. It is
   computed from the *pristine* reference (a copy taken before its first call, warm states
   included) run through the same plan: a value passes within K x the spread of randomly rounded
   runs around a higher-precision centre; where that spread is as large as the values (chaotic or
   exploding dynamics, overflow on both sides) the case is `ill-conditioned`, with the figures:
   agreement proven up to step t, not decidable beyond. float16, float32 and float64 are judged
   alike (float64 around a long-double centre). A float64 case that fails is judged once more as a
   float32 computation (`computed_in`): "float32 rounding inside a float64 run" names the cause.
3. **known bugs**: a failure that meets a registered divergence (divergences.py) is an `xfail`
   naming the entry;
4. **diagnosis** (diagnose.py, tf1_diagnose.py): a values failure gets the porting mistake that
   explains the framework's outputs, when one does.

No framework is re-run: the verdict needs only the recording and the reference, so a replayed
recording gets the same verdict as the live run it was recorded from.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .compare import Mismatch, Stats, as_list, compare_array, compare_outputs
from .envelope import rounding_envelope
from .envelope_verdict import FAIL as ENVELOPE_FAIL, ILL, PASS as ENVELOPE_PASS, computed_in, judge_envelope
from ..output_structure import explain
from ..plan import Outcome, Plan, Recording, Tf1Spec
from ..reference.tf1_call import Tf1Call
from ..targets.base import execute

PASS, FAIL, XFAIL = "pass", "fail", "xfail"
ILL_CONDITIONED = ILL
STATUSES = (PASS, FAIL, XFAIL, ILL_CONDITIONED)
# what `--ill-conditioned` may say: warn (the default: the gate does not fail, the report shows it)
ILL_CONDITIONED_MODES = ("warn", "fail")
# the precisions whose rounding the envelope models (bfloat16 rounds through float32 in every op)
JUDGED_PRECISIONS = ("float16", "float32", "float64")


# -- 1. compare --------------------------------------------------------------------------------
def expected_reference_error(framework_error_type: str) -> str:
    """The exception type the reference must raise where the framework raised this one.

    ValueError and TypeError must match exactly; framework-internal errors (e.g. TensorFlow's
    InvalidArgumentError from a kernel) map to ValueError, raised before any computation.
    """
    return framework_error_type if framework_error_type in ("ValueError", "TypeError") else "ValueError"


def output_names(rec: Recording, x_shape):
    try:
        if isinstance(rec.spec, Tf1Spec):
            return Tf1Call.from_spec(rec.spec).output_names(x_shape[rec.time_axis])
        return explain(rec.spec, x_shape, rec.dialect).names()
    except Exception:  # noqa: BLE001 - names are a courtesy; a bad spec is reported elsewhere
        return None


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


# -- the verdict --------------------------------------------------------------------------------
@dataclass
class Verdict:
    """The outcome of one check. ``problems``: what differs (the values mismatches stay in an
    ill-conditioned verdict: the report shows them); ``rounding``: the envelope verdict when one
    was needed; ``known``: the registered divergence a failure meets; ``reference``: the
    reference's Outcome (None when it was not run)."""
    status: str
    problems: list = field(default_factory=list)
    rounding: object = None
    known: object = None
    reference: object = None
    stats: Stats = field(default_factory=Stats)  # what the run's summary takes (see judge)
    compared: Stats = field(default_factory=Stats)  # the errors of the comparison itself, always

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def fails(self, ill_conditioned="warn") -> bool:
        """Whether a gate fails on this verdict: a failure or a known bug (a strict xfail fails
        until the bug is fixed), and an ill-conditioned case under ``ill_conditioned="fail"``."""
        check_mode(ill_conditioned)
        return self.status in (FAIL, XFAIL) or (self.status == ILL and ill_conditioned == "fail")

    @property
    def within_rounding(self) -> bool:
        return self.status == PASS and self.rounding is not None

    def summary(self) -> str:
        """One line: the status and why."""
        if self.status == PASS:
            return ("agrees within rounding: " + self.rounding.headline().split(": ", 1)[-1]
                    if self.rounding is not None else "agrees within the tolerance table")
        if self.status == ILL:
            return self.rounding.headline().split(": ", 1)[-1]
        first = next((p for p in self.problems if p.kind not in ("rounding", "diagnosis")), None)
        head = first.message.splitlines()[0] if first else "differs"
        return (f"known framework bug [{self.known.key}]: {head}" if self.status == XFAIL else head)


def check_mode(mode):
    if mode not in ILL_CONDITIONED_MODES:
        raise ValueError(f"ill_conditioned must be one of {ILL_CONDITIONED_MODES}, got {mode!r}")
    return mode


def eligible(problems) -> bool:
    """Whether a failed comparison can be rounding: value mismatches only, between the framework and
    the reference (not a stateful chunking check), in a precision the envelope models."""
    return bool(problems) and all(p.kind == "values" and p.call is not None and p.output is not None
                                  and p.precision in JUDGED_PRECISIONS for p in problems)


def judge(rec, reference_factory, *, pristine=None, known=None, atol=None, rtol=None, rounding=True,
          subject=None) -> Verdict:
    """The verdict on a Recording (the framework's run of ``rec.plan``). Its ``stats`` feed a run's
    summary: the errors of a case that agrees within the table, a count for one within rounding or
    ill-conditioned (their errors exceed the table by definition), nothing for a failure;
    ``compared`` always holds the comparison's errors (a report's row).

    ``reference_factory()`` returns the reference to run (called once; it may raise, which is
    judged against the framework's own error). ``pristine``: the reference as it was before its
    first call, for the rounding envelope and the diagnosis (default: a second
    ``reference_factory()``). ``known``: the registered divergence the case meets, or None.
    ``atol``/``rtol`` override the tolerance table (the envelope judges what they reject).
    ``rounding=False`` turns the rounding verdict off (a registered bug fails on semantics).
    ``subject``: how a diagnosis names the framework's output ("keras3's output")."""
    seen = Stats()
    problems, ours = verify_recording(rec, reference_factory, seen, atol, rtol)
    verdict = Verdict(PASS if not problems else FAIL, problems, reference=ours, compared=seen)
    if not problems:
        verdict.stats = seen
        return verdict
    if rounding and eligible(problems) and not _is_tf1(rec):
        if pristine is None:
            pristine = _fresh(reference_factory)
        envelope = rounding_verdict(rec, pristine, atol, rtol)
        if isinstance(envelope, Mismatch):  # the envelope cannot model this case: the plain verdict
            problems.append(envelope)
        else:
            verdict.rounding = envelope
            if envelope.status == ENVELOPE_PASS:
                verdict.status, verdict.problems = PASS, []
                verdict.stats = Stats(within_rounding=1)
                return verdict
            problems.append(Mismatch("rounding", envelope.report()))
            if envelope.status == ILL:
                verdict.status = ILL
                verdict.stats = Stats(ill_conditioned=1)
                return verdict
            if envelope.status == ENVELOPE_FAIL and envelope.envelope.dtype == np.float64:
                named = lower_precision_inside(rec, pristine)
                if named is not None:
                    problems.append(named)
    if any(p.kind == "values" for p in problems):
        line = diagnosis(rec, pristine if pristine is not None else _fresh(reference_factory), subject)
        if line is not None:
            problems.append(line)
    if known is not None:
        verdict.status, verdict.known = XFAIL, known
    return verdict


def _is_tf1(rec) -> bool:
    return isinstance(rec.spec, Tf1Spec)


def _fresh(reference_factory):
    try:
        return reference_factory()
    except Exception:  # noqa: BLE001 - a reference that cannot be built was reported by the comparison
        return None


def rounding_verdict(rec, pristine, atol=None, rtol=None):
    """The envelope verdict on a recording (an EnvelopeVerdict), or a Mismatch saying why the
    envelope cannot judge this case (a reference it does not model, e.g. bfloat16 cells)."""
    names = [output_names(rec, call.x.shape) for call in rec.plan.calls]
    try:
        envelope = rounding_envelope(copy.deepcopy(pristine), rec.plan, names=names)
        return judge_envelope(envelope, rec.outcome.outputs, atol=atol, rtol=rtol)
    except (TypeError, ValueError) as exc:
        return Mismatch("rounding", f"rounding verdict not available for this case: {exc}")


def lower_precision_inside(rec, pristine):
    """A Mismatch naming "float32 rounding inside a float64 run" when the framework's float64
    outputs are a valid float32 computation of the layer, else None."""
    try:
        as32 = computed_in("float32", copy.deepcopy(pristine), rec.plan, rec.outcome.outputs)
    except (TypeError, ValueError):
        return None
    if as32.status != ENVELOPE_PASS:
        return None
    return Mismatch("rounding", (
        "float32 rounding inside a float64 run: the differences have the size of float32 rounding "
        f"(the framework's outputs lie within {as32.k:g} x the envelope of float32 runs of this "
        "layer): one side computes in float32. Look at the dtype policies of the layer, of its "
        "cells and of the wrapper around them (RNN([cells]) builds a StackedRNNCells with the "
        "default float32 policy), and at inputs or initial states cast to float32"))


def diagnosis(rec, pristine, subject=None):
    """The diagnosis line of a values failure (a Mismatch of kind "diagnosis"), or None."""
    if pristine is None:
        return None
    if _is_tf1(rec):
        from .tf1_diagnose import recording_mismatch

        return recording_mismatch(rec, rec.outcome.outputs[0], subject or "tf1's output")
    from .diagnose import diagnosis_mismatch

    try:
        return diagnosis_mismatch(copy.deepcopy(pristine), rec.plan.steps, rec.outcome.outputs,
                                  subject or "the framework's output")
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy on a failure already reported
        return None
