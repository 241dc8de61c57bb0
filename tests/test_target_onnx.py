"""The onnx target (tf2onnx + onnxruntime + the ONNX reference evaluator), end to end on a few cases.

Needs the `onnx` extra (and TensorFlow): without it every test here is one visible skip naming the
install command."""
from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from rnnparity.check import runner
from rnnparity.check.divergences import divergence_for
from rnnparity.matrix.cases import Case, case_from_id
from rnnparity.matrix.data import make_plan
from rnnparity.targets import registry

_OK, _WHY = registry.availability("onnx")
pytestmark = [pytest.mark.live, pytest.mark.skipif(not _OK, reason=_WHY)]


def _case(case_id):
    return case_from_id(case_id)


def _check(case_id):
    rec, problems = runner.check_live(_case(case_id))
    return rec, problems


@pytest.mark.parametrize("case_id, ops", [
    ("lstm-state-f32-onnx", ["LSTM"]),            # tf2onnx rewrites the loop into the ONNX LSTM op
    ("gru-seq-bwd-f32-onnx", ["Loop"]),           # GRU stays a Loop (tensorflow-onnx#1684)
    ("simple_rnn-bidi_concat-seq-mask_right-init-f32-onnx", ["Loop"]),
    # unrolled: the mask's time axis must be static too (a dynamic one failed the trace: ValueError)
    ("gru-seq-bwd-mask_right-unroll-f32-onnx", ["unrolled"]),
])
def test_a_converted_layer_agrees_and_says_what_it_became(case_id, ops):
    rec, problems = _check(case_id)
    assert not problems, runner.failure_report(case_id, problems)
    assert rec.info["ops"] == ops
    import tf2onnx

    assert rec.info["opset"] == tf2onnx.constants.PREFERRED_OPSET  # the default Model.export uses
    assert rec.info["converter"].startswith("tf2onnx ")
    if "LSTM" in ops:  # the ONNX reference evaluator ran too, and agreed with ORT
        assert 0 <= rec.info["ort_vs_evaluator_max_abs"] < 1e-6
    else:
        assert "ort_vs_evaluator_max_abs" not in rec.info and "not run" in rec.info["evaluator"]


def test_outputs_come_back_in_the_keras_structure_and_order():
    rec, problems = _check("lstm-state-f32-onnx")
    (out,) = rec.outcome.outputs
    assert not problems and isinstance(out, tuple) and len(out) == 3  # (output, h, c), as Keras 3
    np.testing.assert_array_equal(out[0], out[1])  # return_sequences=False: output == final h
    assert np.abs(out[1] - out[2]).max() > 1e-3   # h and c not swapped into each other


def test_nested_initial_states_of_stacked_cells_round_trip():
    case = Case(layer="gru", cell="stacked", return_state=True, initial_state=True, target="onnx")
    rec, problems = runner.check_live(case)
    assert not problems, runner.failure_report(case.id, problems)
    (out,) = rec.outcome.outputs
    assert isinstance(out, tuple) and [len(s) for s in out[1:]] == [1, 1]  # (out, [h1], [h2])


@pytest.mark.xfail(strict=True, reason="known runtime bug [onnx-stateful-state-frozen]")
def test_a_stateful_layer_carries_its_state_between_calls():
    rec, problems = _check("lstm-stateful-f32-onnx")
    assert not problems, runner.failure_report("lstm-stateful-f32-onnx", problems)


def test_the_frozen_state_is_registered_and_shows_on_the_carried_call_only():
    case = _case("lstm-seq-stateful-f32-onnx")
    assert divergence_for(case).key == "onnx-stateful-state-frozen"
    rec, problems = runner.check_live(case)
    assert rec.info["removed_by_converter"] == {"AssignVariableOp": 2}  # h and c updates stripped
    calls = {p.call for p in problems if p.kind == "values"}
    assert 1 in calls and 0 not in calls and 2 not in calls  # batch 2 (carried) differs; 1 and 3 agree
    keras = _keras_outputs(case)
    assert np.abs(rec.outcome.outputs[0] - keras[0]).max() < 1e-6  # batch 1: from zeros on both
    assert np.abs(rec.outcome.outputs[1] - keras[1]).max() > 0.05  # batch 2: Keras carried its state


def _keras_outputs(case):
    """The same plan on the keras3 target (the oracle the onnx target is compared through)."""
    k3 = dataclasses.replace(case, target="keras3")
    return runner.record(k3).outcome.outputs


def test_an_error_while_tracing_reads_as_what_failed_not_as_in_user_code():
    case = _case("lstm-stacked-bidi_mul-mask_left-init-mixed_f16-onnx")  # a Keras 3 bug, also on onnx
    assert divergence_for(case).key == "keras3-stacked-cells-mixed-precision-mask"
    (step, kind, message) = runner.record(case).outcome.error
    assert (step, kind) == (0, "TypeError") and "SelectV2" in message and "in user code" not in message


def test_a_planted_runtime_bug_is_caught(monkeypatch):
    """The go_backwards report (outputs in the other time order): planted into what ORT returns."""
    from rnnparity.targets import onnx as target

    real = target.Converted.run

    def reversed_in_time(self, flat):
        out = real(self, flat)
        return out[:, ::-1] if isinstance(out, np.ndarray) and out.ndim == 3 else out
    monkeypatch.setattr(target.Converted, "run", reversed_in_time)
    rec, problems = _check("gru-seq-bwd-f32-onnx")
    assert problems and problems[0].kind == "values" and "whole sequence output" in problems[0].message


def test_ort_and_the_reference_evaluator_disagreeing_is_a_failure_of_its_own(monkeypatch):
    from onnx.reference import ReferenceEvaluator

    real = ReferenceEvaluator.run
    monkeypatch.setattr(ReferenceEvaluator, "run",
                        lambda self, *a, **k: [np.asarray(o) + 0.01 for o in real(self, *a, **k)])
    rec, problems = _check("lstm-f32-onnx")
    assert rec.outcome.error[1] == "RuntimeEvaluatorDisagreement"
    report = runner.failure_report("lstm-f32-onnx", problems)
    assert "onnxruntime and onnx.reference.ReferenceEvaluator disagree" in report and "LSTM" in report


@pytest.mark.parametrize("case_id, reason, error", [
    ("lstm-f64-onnx", "float64 LSTM", "LSTM operator does not support double"),
    ("gru-mixed_bf16-onnx", "mixed_bfloat16", "bfloat16|16 != 10"),  # ORT's wording varies
])
def test_what_it_cannot_express_is_named_and_still_fails_when_forced(case_id, reason, error):
    """The rejection is measured: forced through, the runtime still fails that way (the day it runs,
    this fails and the rejection is removed)."""
    case = _case(case_id)
    assert reason in registry.cannot_express(case)
    rec = runner.record(case)
    assert rec.outcome.error is not None and re.search(error, rec.outcome.error[2]), rec.outcome.error


def test_what_it_can_express_is_not_rejected():
    for case_id in ("gru-f64-onnx", "lstm-mask_right-f64-onnx", "lstm-f16-onnx", "lstm-mixed_f16-onnx",
                    "lstm-stateful-f32-onnx"):
        assert registry.cannot_express(_case(case_id)) is None, case_id


def test_check_case_prints_the_ops(capsys):
    from rnnparity.cli.check import check_one

    assert check_one("lstm-f32-onnx") == 0
    out = capsys.readouterr().out
    assert "ran as: ops LSTM; opset 15;" in out and "PASS" in out
    assert check_one("lstm-mixed_bf16-onnx") == 0
    assert "SKIP: onnx cannot express this case: mixed_bfloat16" in capsys.readouterr().out


def test_a_plan_converts_once_per_input_structure():
    case = _case("lstm-stateful-f32-onnx")  # 6 calls, chunks of 4 and 3 steps: one conversion
    assert len(make_plan(case).calls) == 6
    rec = runner.record(case)
    assert rec.info["conversions"] == 1
