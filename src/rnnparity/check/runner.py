"""Run a case: the same plan on the live framework and on the reference, then judge.

`record(case)` runs the framework and returns a `Recording` (everything needed to replay with no
framework: spec, plan, weights, outputs or the error). `check_live(case)` records it with the
reference copied from the live layer before its first call, and judges it (check/verdict.py: the
one verdict pipeline: compare, rounding envelope, known bugs, diagnosis). `replay(recording)` judges
a recording with a reference built from its spec and weights, the same way.
"""
from __future__ import annotations

import copy

from ..targets import registry
from ..matrix.cases import Case
from .compare import Mismatch, Stats
from .divergences import divergence_for
from ..keras_to_reference import from_keras, from_spec
from ..matrix import conv_lstm_cases, tf1_cases
from ..matrix.data import make_plan
from ..plan import Recording, Tf1Spec, spec_from_dict
from ..reference.tf1_call import Tf1Call
from . import verdict as verdicts
# the comparison step, used by name elsewhere (check_model, tf1_records, tests)
from .verdict import chunk_consistency, expected_reference_error, output_names, verify_recording  # noqa: F401


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


def verify(rec: Recording, reference_factory, stats: Stats | None = None, atol=None,
           rtol=None) -> list[Mismatch]:
    """Run the reference through the recording's plan; return every mismatch against the tolerance
    table (or ``atol``/``rtol``), with no rounding verdict: `replay` judges."""
    return verify_recording(rec, reference_factory, stats, atol, rtol)[0]


def replay(rec: Recording, stats: Stats | None = None, atol=None, rtol=None, known=None,
           rounding=True) -> verdicts.Verdict:
    """The verdict on a recording, with the reference built from its spec and weights."""
    verdict = verdicts.judge(rec, reference_factory(rec), known=known, atol=atol, rtol=rtol,
                             rounding=rounding, subject=_subject(rec))
    rec.rounding = verdict.rounding
    if stats is not None:
        stats.merge(verdict.stats)
    return verdict


def check_live(case: Case, stats: Stats | None = None, atol=None, rtol=None, rounding=True):
    """(recording, mismatches) for a live case; the reference is copied from the live layer.

    The verdict (check/verdict.py) is ``recording.verdict``; the mismatches are its problems: empty
    for a pass (``recording.rounding`` holds the envelope verdict of a pass within rounding), and
    for an ill-conditioned case the values mismatches and the envelope's figures (the caller's
    `--ill-conditioned` decides). ``rounding=False`` turns the rounding verdict off (a registered
    bug fails on semantics). ``atol``/``rtol`` override the tolerance table."""
    def run(on_built):
        return record(case, on_built=on_built)
    known = divergence_for(case) if isinstance(case, Case) else None
    return _check(run, stats, atol, rtol, rounding, known)


def check_spec_live(target, spec, plan, seed, case_id, input_shape, stats: Stats | None = None,
                    atol=None, rtol=None, weights=None, rounding=True, known=None):
    """`check_live` for any layer spec (``weights`` as in `record_spec`)."""
    def run(on_built):
        return record_spec(target, spec, plan, seed, case_id, input_shape, on_built=on_built,
                           weights=weights)
    return _check(run, stats, atol, rtol, rounding, known)


def _check(run, stats, atol, rtol, rounding, known):
    copied = {}

    def copy_reference(layer):
        try:
            copied["ref"] = from_keras(layer)
            copied["pristine"] = copy.deepcopy(copied["ref"])  # before its first call
        except Exception as exc:  # noqa: BLE001 - judged against the framework, as any reference error
            copied["error"] = exc

    def reference():
        if "error" in copied:
            raise copied["error"]
        return copied["ref"]

    rec = run(copy_reference)
    # no live layer here: a rejected configuration, or a target that ran in another process
    factory = reference_factory(rec) if rec.layer is None else reference
    verdict = verdicts.judge(rec, factory, pristine=copied.get("pristine"), known=known, atol=atol,
                             rtol=rtol, rounding=rounding, subject=_subject(rec))
    rec.rounding, rec.verdict = verdict.rounding, verdict
    if stats is not None:
        stats.merge(verdict.stats)
    return rec, verdict.problems


def _subject(rec):
    return f"{registry.target_of(rec.case_id) or 'the target'}'s output"


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


def failure_report(case_id: str, problems, repro=_DEFAULT, ill_conditioned=False) -> str:
    """The report of a failed check. ``repro``: the command line that reruns it (default: the
    matrix case's `rnnparity check --case`); None for none (a user's own layer).
    ``ill_conditioned``: the report of an ill-conditioned verdict (the same problems, another head)."""
    # the rounding verdict (the last mismatch, when reached) and the diagnosis (which known porting
    # mistake explains the difference) explain the others: not counted, always shown
    verdict = [p for p in problems if p.kind in ("rounding", "diagnosis")]
    problems = [p for p in problems if p.kind not in ("rounding", "diagnosis")]
    what = ("ill-conditioned: not decidable beyond rounding" if ill_conditioned
            else "the reference and the framework disagree")
    head = f"[{case_id}] {what} ({len(problems)} problem(s))"
    body = [p.message for p in problems[:6]]
    if len(problems) > 6:
        body.append(f"  ... and {len(problems) - 6} more")
    body += [p.message for p in verdict]
    if repro is _DEFAULT:
        repro = repro_command(case_id)
    return f"{head}\n" + "\n".join(body) + (f"\nrepro: {repro}" if repro else "")
