"""A tf1 case's run as plain named arrays (a *record*), for code that reads TF1 calls by TF's names.

    record = run_live(case)                # runner.record on the tf1 target, as a record
    arrays = run_reference(case, record)   # the reference on the record's inputs and weights
    problems = compare_to_reference(case, record)   # runner.verify on the record

A record is ``{"inputs": {"x", "sequence_length", "initial_state.c", "initial_state_fw.h", ...},
"weights": [arrays], "outputs": [arrays], "output_names": [str]}``: every value NumPy, npz-safe.
It is a view of a `Recording` (`record_of` / `recording_of`): both run on the common path
(rnnparity.check.runner), the same as `rnnparity check --case tf1-...` and the shipped suite.
"""
from __future__ import annotations

import numpy as np

from ..matrix.tf1_cases import Tf1Case, reference_cell
from ..plan import Call, Outcome, Plan, Recording
from . import runner
from .tf1_diagnose import recording_mismatch, recording_problem


def state_keys(case: Tf1Case) -> tuple:
    return ("initial_state_fw", "initial_state_bw") if case.bidirectional else ("initial_state",)


def record_of(case: Tf1Case, rec: Recording) -> dict:
    """The record of a tf1 case's Recording; ValueError when TF raised (nothing was recorded)."""
    if rec.outcome.error is not None:
        step, kind, message = rec.outcome.error
        raise ValueError(f"case {case.id}: TF raised {kind}: {message}")
    (call,) = rec.plan.calls
    inputs = {"x": call.x}
    if call.sequence_length is not None:
        inputs["sequence_length"] = call.sequence_length
    parts = list(reference_cell(case).state_sizes)  # TF's order: (c, h) or (h,)
    for key, states in zip(state_keys(case), call.initial_state or ()):
        inputs.update({f"{key}.{part}": state for part, state in zip(parts, states)})
    (outputs,) = rec.outcome.outputs
    return {"inputs": inputs, "weights": list(rec.weights), "outputs": list(outputs),
            "output_names": runner.output_names(rec, call.x.shape)}


def recording_of(case: Tf1Case, record: dict) -> Recording:
    """The Recording a record is a view of (its outputs those of the record)."""
    inputs = record["inputs"]
    init = None
    if case.init:
        parts = list(reference_cell(case).state_sizes)
        init = [[inputs[f"{key}.{part}"] for part in parts] for key in state_keys(case)]
    call = Call(inputs["x"], None, init, "call", inputs.get("sequence_length"))
    return Recording(case.id, case.layer_spec(), Plan([call]), list(record["weights"]),
                     Outcome([list(record.get("outputs", ()))]), "keras2", 0 if case.time_major else 1)


def run_live(case: Tf1Case) -> dict:
    """Run the case on real TF (the tf1 target); its record."""
    return record_of(case, runner.record(case))


def run_reference(case: Tf1Case, record: dict) -> list:
    """The reference's outputs in the record's flattened order; raises if the structure differs."""
    rec = recording_of(case, record)
    names = runner.output_names(rec, rec.plan.calls[0].x.shape)
    expected = list(record["output_names"])
    if names != expected:
        raise AssertionError(f"{case.id}: output structure differs from TF's.\n  TF:        {expected}\n"
                             f"  reference: {names}")
    (call,) = rec.plan.calls
    return runner.reference_factory(rec)()(call.x, **call.arguments())


def compare_to_reference(case: Tf1Case, record: dict, stats=None, atol=None, rtol=None) -> list:
    """Mismatches between a record's outputs (live or replayed TF) and the reference on its inputs
    and weights; [] when they agree. `stats` (a compare.Stats) collects the errors seen;
    ``atol``/``rtol`` override the tolerance table."""
    rec = recording_of(case, record)
    return runner.verify(rec, runner.reference_factory(rec), stats, atol, rtol)


def case_problem(case: Tf1Case, record: dict):
    """The diagnosis Problem (rnnparity.check.tf1_mistakes) of a record."""
    return recording_problem(recording_of(case, record))


def diagnosis_mismatch(case: Tf1Case, record: dict, outputs, subject="tf1's output"):
    """check.tf1_diagnose.recording_mismatch for a record."""
    return recording_mismatch(recording_of(case, record), [np.asarray(a) for a in outputs], subject)
