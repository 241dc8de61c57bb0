"""The two OpenVINO targets, end to end on a few cases: `openvino` (the Keras 3 layer exported as a
SavedModel, converted by openvino.convert_model, run by the CPU plugin) and `keras3-openvino` (Keras 3
on its openvino backend, in a worker process).

Needs the `openvino` extra (and TensorFlow for the `openvino` target): without it the live tests are
visible skips naming the install command."""
from __future__ import annotations

import os
import re

import numpy as np
import pytest

from rnnparity.check import runner
from rnnparity.check.divergences import divergence_for
from rnnparity.matrix import cases as cases_module, tiers
from rnnparity.matrix.cases import case_from_id
from rnnparity.matrix.data import make_plan
from rnnparity.targets import registry

_OV, _OV_WHY = registry.availability("openvino")
_K3OV, _K3OV_WHY = registry.availability("keras3-openvino")


def _check(case_id):
    rec, problems = runner.check_live(case_from_id(case_id))
    assert not problems, runner.failure_report(case_id, problems)
    return rec


# -- without a framework ----------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["openvino", "keras3-openvino"])
def test_both_parse_from_ids_run_the_keras3_dialect_and_name_the_extra(target):
    case = case_from_id(f"lstm-bidi_concat-seq-mask_left-f32-{target}")
    assert case.target == target and case.stem == "lstm-bidi_concat-seq-mask_left-f32"
    assert registry.target_of(case.id) == target and registry.dialect(target) == "keras3"
    assert 'rnnparity[openvino]' in registry.info(target).install


def test_the_converted_runtime_runs_the_runtime_grid_and_only_it_is_selected_by_default():
    assert registry.info("openvino").default_tier == "runtime" and registry.info("openvino").auto
    assert registry.info("keras3-openvino").default_tier == "default_no_stateful_t100"
    assert not registry.info("keras3-openvino").auto  # T=100 cases take minutes on the backend


def test_keras3_openvino_default_tier_leaves_out_only_the_stateful_t100_cases_and_full_keeps_them():
    # the recurrent layers' grid (the ConvLSTM runtime cases come on top, in every tier)
    grid = {c.id for c in tiers.cases("default", ("keras3-openvino",)) if not c.layer.startswith("conv_lstm")}
    default = {c.id: c for c in cases_module.default_cases(("keras3-openvino",))}
    left_out = {i for i in default if i not in grid}
    assert grid <= set(default) and left_out  # the same cases, fewer
    assert all(default[i].stateful and default[i].steps == "t100" for i in left_out)
    assert not any(default[i].stateful and default[i].steps == "t100" for i in grid)
    assert any(default[i].steps == "t100" for i in grid)  # T=100 without state stays
    assert left_out <= {c.id for c in tiers.cases("full", ("keras3-openvino",))}


def test_keras3_openvino_waits_longer_for_its_worker_than_the_other_backends():
    from rnnparity.targets import keras3_numpy, keras3_openvino

    assert keras3_openvino.ADAPTER.timeout == 1200 and keras3_numpy.ADAPTER.timeout == 300


# -- openvino: the converted layer on the CPU plugin -------------------------------------------------
@pytest.mark.parametrize("case_id, ops", [
    ("lstm-seq-state-f32-openvino", ["Loop"]),  # Keras' while loop stays a Loop (no LSTMSequence)
    ("gru-bidi_concat-seq-mask_right-init-f32-openvino", ["Loop"]),
    ("simple_rnn-seq-bwd-mask_holes-unroll-f32-openvino", ["unrolled"]),
])
@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_a_converted_layer_agrees_and_says_what_it_became(case_id, ops):
    rec = _check(case_id)
    assert rec.info["ops"] == ops and rec.info["converter"].endswith("openvino.convert_model")
    assert rec.info["runtime"].startswith("OpenVINO 2") and rec.info["runtime"].endswith(" CPU")
    if ops == ["Loop"]:  # the CPU plugin runs the Loop as a TensorIterator; its body is the cell's maths
        assert rec.info["runtime_ops"] == ["TensorIterator"]
        assert {"MatMul", "Sigmoid" if "simple_rnn" not in case_id else "Tanh"} <= set(rec.info["loop_ops"])
    else:
        assert rec.info["runtime_ops"] == ["unrolled"] and "loop_ops" not in rec.info


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_a_stateful_layer_carries_its_state_in_the_infer_request():
    """ReadValue/Assign: batch 2 starts from batch 1's state, a reset starts from zeros, and the
    chunked sequence equals the whole one (all in the plan); one conversion for chunks of 4 and 3."""
    case = case_from_id("lstm-seq-stateful-f32-openvino")
    assert divergence_for(case) is None and len(make_plan(case).calls) == 6
    rec = _check(case.id)
    assert rec.info["conversions"] == 1 and rec.info["state"].startswith("ReadValue/Assign")


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_initial_states_given_to_a_stateful_layer_are_written_into_its_state():
    _check("gru_reset_before-bidi_sum-stateful-mask_left-init-f32-openvino")


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_float64_is_computed_in_float32_and_registered():
    case = case_from_id("gru-seq-f64-openvino")
    assert divergence_for(case).key == "openvino-cpu-float64-computed-in-float32"
    rec, problems = runner.check_live(case)
    (out,) = rec.outcome.outputs
    assert out.dtype == np.float64  # float64 comes back...
    worst = max(p.curve["per_step"][-1] for p in problems if p.kind == "values")
    assert 1e-9 < worst < 1e-6  # ...with float32 rounding in it


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_mixed_bfloat16_is_named_and_still_fails_when_forced():
    """The rejection is measured: forced through, the converter still fails that way (the day it
    converts, this fails and the rejection is removed)."""
    case = case_from_id("gru-mixed_bf16-openvino")
    assert "mixed_bfloat16" in registry.cannot_express(case)
    rec = runner.record(case)
    assert rec.outcome.error is not None and re.search("bf16", rec.outcome.error[2]), rec.outcome.error


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_a_planted_runtime_bug_is_caught(monkeypatch):
    """The go_backwards report (outputs in the other time order): planted into what OpenVINO returns."""
    from rnnparity.targets import openvino_model as target

    real = target.Converted.run

    def reversed_in_time(self, inputs):
        out = real(self, inputs)
        return out[:, ::-1] if isinstance(out, np.ndarray) and out.ndim == 3 else out
    monkeypatch.setattr(target.Converted, "run", reversed_in_time)
    rec, problems = runner.check_live(case_from_id("gru-seq-bwd-f32-openvino"))
    assert problems and problems[0].kind == "values" and "whole sequence output" in problems[0].message


@pytest.mark.live
@pytest.mark.skipif(not _OV, reason=_OV_WHY)
def test_conversions_leave_the_environment_as_they_found_it():
    """Telemetry is declined for the conversion's duration only (CI=true), and set back."""
    before = os.environ.get("CI")
    runner.record(case_from_id("simple_rnn-f32-openvino"))
    assert os.environ.get("CI") == before


# -- keras3-openvino: Keras 3 on its openvino backend, in a worker process --------------------------
@pytest.mark.live
@pytest.mark.skipif(not _K3OV, reason=_K3OV_WHY)
def test_keras3_openvino_runs_on_openvino_in_its_worker():
    v = registry.get("keras3-openvino").versions()
    assert v["backend"] == "openvino" and v["openvino"].startswith("20") and v["keras"].startswith("3.")
    _check("lstm-seq-state-mask_right-f32-keras3-openvino")
    _check("gru-bidi_concat-stateful-f32-keras3-openvino")


_ONE_COMPILE = """
import json, os
os.environ["KERAS_BACKEND"] = "openvino"
import numpy as np, keras, openvino
from rnnparity.targets.keras3_openvino_eval import evaluate

compiles = []
real = openvino.compile_model
openvino.compile_model = lambda *a, **k: compiles.append(1) or real(*a, **k)

def layer():
    gru = keras.layers.GRU(5, return_sequences=True, return_state=True, stateful=True, reset_after=False)
    gru.build((3, 6, 2))
    rng = np.random.default_rng(0)
    gru.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in gru.get_weights()])
    return gru

lazy, read = layer(), layer()
x = keras.ops.convert_to_tensor(np.random.default_rng(1).uniform(-1, 1, (3, 6, 2)).astype("float32"))
out = {"same": [], "compiles": [], "lazy_state": [], "read_state": []}
for _ in range(3):
    expected = [keras.ops.convert_to_numpy(o) for o in lazy(x)]
    before = len(compiles)
    got = evaluate(read, read(x))
    out["compiles"].append(len(compiles) - before)
    out["same"].append(all(np.array_equal(a, b) for a, b in zip(expected, got)))
    out["lazy_state"].append(lazy.states[0].value.output.get_node().get_type_name())
    out["read_state"].append(read.states[0].value.output.get_node().get_type_name())
print(json.dumps(out))
"""


@pytest.mark.live
@pytest.mark.skipif(not _K3OV, reason=_K3OV_WHY)
def test_keras3_openvino_reads_each_call_in_one_compile_and_carries_states_as_values():
    """Keras' own reading (convert_to_numpy per output, states left as graph nodes that the next call
    builds on) and the worker's (targets/keras3_openvino_eval.py) give the same bits, call after call."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import rnnparity

    package_root = str(Path(rnnparity.__file__).resolve().parents[1])  # this rnnparity, in the child too
    env = {**os.environ, "KERAS_BACKEND": "openvino", "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": package_root}
    done = subprocess.run([sys.executable, "-c", _ONE_COMPILE], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["same"] == [True] * 3 and out["compiles"] == [1] * 3
    assert out["read_state"] == ["Constant"] * 3  # the next call starts from values
    assert all(kind != "Constant" for kind in out["lazy_state"])  # Keras' own: the graph so far


@pytest.mark.live
@pytest.mark.skipif(not _K3OV, reason=_K3OV_WHY)
@pytest.mark.parametrize("stem, kind", [
    ("conv_lstm1d-seq-cf-mask_right-f32", "values"),  # runs, no error: each row's mask on a filter
    ("conv_lstm3d-seq-k3-s2-valid-cf-mask_right-f32", "shape"),  # the state broadcasts to a new shape
])
def test_a_masked_conv_lstm_goes_wrong_without_an_error_and_is_registered(stem, kind):
    """keras3-openvino-conv-lstm-mask-broadcast where nothing raises: the registered bug is seen in
    the values or shapes (its raising cases are the matrix's); batch 1 agrees."""
    from rnnparity.matrix.tiers import case_of

    case = case_of(f"{stem}-keras3-openvino")
    assert divergence_for(case).key == "keras3-openvino-conv-lstm-mask-broadcast"
    rec, problems = runner.check_live(case)
    assert rec.outcome.error is None and problems and problems[0].kind == kind, problems
    single = case_of(f"{stem}-b1-keras3-openvino")
    assert divergence_for(single) is None and not runner.check_live(single)[1]
