"""The benchmark script runs on a tiny configuration and writes valid JSON. Not a timed test: no
assertion here is about speed, only about the script working and reporting what it claims."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.reference import activations

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench.py"


def _run(tmp_path, *args):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--tiny", "--json", str(out), *args],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(out.read_text()), proc.stdout


def test_scaling_section_writes_json(tmp_path):
    results, stdout = _run(tmp_path, "--section", "scaling")
    rows = results["scaling"]
    assert {(r["time"], r["batch"]) for r in rows} == {(2, 1), (2, 2), (4, 1), (4, 2)}
    for r in rows:
        assert r["reference_s"] > 0
        assert r["per_step_vs_smallest_T"] > 0 and r["per_sample_vs_smallest_batch"] > 0
    assert "| time | batch |" in stdout
    assert "forward" not in results and "suite" not in results


def test_replay_section_writes_json(tmp_path):
    results, stdout = _run(tmp_path, "--section", "replay")
    replay = results["replay"]
    assert replay["cases"] == 20 and replay["load_s"] > 0 and replay["reference_and_compare_s"] > 0
    assert replay["total_s"] == pytest.approx(replay["load_s"] + replay["reference_and_compare_s"])
    assert "openblas_core" in results["meta"]  # which BLAS kernels the timings were taken with
    assert isinstance(results["meta"]["blas"], list) and isinstance(results["meta"]["blas_env"], dict)
    assert "Replay in one process: 20 recorded cases" in stdout


@pytest.mark.live
def test_all_sections_write_json(tmp_path):
    if not registry.availability("keras3")[0]:
        pytest.skip("keras3 is not installed")
    results, stdout = _run(tmp_path)
    assert {r["layer"] for r in results["forward"]} == {"lstm", "gru", "gru_reset_before", "simple_rnn"}
    assert [r["layer"] for r in results["loaded"]] == [r["layer"] for r in results["forward"]]
    assert results["meta"]["loaded_busy_processes"] == 1
    assert "| layer | shape | quiet | loaded |" in stdout
    for r in results["forward"] + results["loaded"]:
        assert r["ratio"] == pytest.approx(r["reference_s"] / r["tf_function_s"])
        assert r["max_abs_err"] <= 1e-6  # the benchmarked reference computes the same numbers
    assert [r["layer"] for r in results["breakdown"]] == [r["layer"] for r in results["forward"]]
    for r in results["breakdown"]:
        assert r["rest_s"] == pytest.approx(r["reference_s"] - r["products_s"] - r["projection_s"])
    assert "| layer | shape | reference_ms | products_ms |" in stdout
    suite = results["suite"]
    assert suite["cases"] == 4 and suite["framework_s"] > 0
    assert suite["total_s"] == pytest.approx(suite["framework_s"] + suite["harness_s"])
    assert "| layer | shape |" in stdout
    assert results["replay"]["cases"] == 20


def test_fast_sigmoid_matches_the_exact_formula():
    # The reference's sigmoid runs in place and without overflow warnings; it must agree with the
    # exact 1 / (1 + exp(-x)) to float32 rounding, which is what keeps the 1e-6 tolerance against TF,
    # down its tail too (the 0.5 * tanh(0.5 x) + 0.5 form it replaced was 0 below x ~ -17).
    x = np.linspace(-100, 100, 200_001).astype(np.float32)
    exact = (1 / (1 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    got = activations.sigmoid(x)
    assert got.dtype == np.float32
    assert np.max(np.abs(got - exact)) <= 1.2e-7
    tail = (x < -17.5) & (x > -87)  # e^x normal in float32 (below, TF's sigmoid is 0 too)
    assert np.max(np.abs(got[tail] / exact[tail].astype(np.float64) - 1)) < 1e-6  # measured 2.1e-7
    buf = x.copy()
    assert activations.sigmoid(buf, out=buf) is buf and np.array_equal(buf, got)
    x64 = np.linspace(-40, 40, 10_001)
    assert np.max(np.abs(activations.sigmoid(x64) - 1 / (1 + np.exp(-x64)))) <= 1e-15
