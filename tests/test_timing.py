"""RNNPARITY_TIMING (rnnparity.check.timing): per-test framework CPU/wall seconds written by each pytest
process, and the summary (framework-only floor). Off by default: nothing is wrapped."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnparity.check import timing
from rnnparity.targets import registry

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "src" / "rnnparity" / "suite"


def test_off_by_default_nothing_is_wrapped():
    from rnnparity.targets.keras_adapter import KerasAdapter

    assert os.environ.get(timing.ENV) is None or pytest.skip("this run itself is timed")
    assert not hasattr(KerasAdapter.call, "__wrapped__")


@pytest.mark.live
def test_a_timed_run_writes_framework_seconds_per_test(tmp_path):
    if not registry.availability("keras3")[0]:
        pytest.skip("keras3 is not installed")
    out = tmp_path / "timing"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(SUITE / "test_keras.py"),
                           "--rnnparity-targets", "keras3", "--rnnparity-tier", "quick", "-k",
                           "simple_rnn-f32-keras3 or simple_rnn-stateful-f32-keras3"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env={**os.environ, timing.ENV: str(out), "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (written,) = out.glob("timing-*.json")
    tests = json.loads(written.read_text())["tests"]
    ids = sorted(k.split("[")[1][:-1] for k in tests if "[" in k)
    assert ids == ["simple_rnn-f32-keras3", "simple_rnn-stateful-f32-keras3"]
    for nodeid, row in tests.items():
        if "[" in nodeid:  # a build and at least one call ran inside each test, within its own time
            assert 0 < row["framework_cpu"] and 0 < row["framework_wall"] <= row["test_wall"]
    s = timing.summarise(str(out), cores=2)
    assert s["tests"] >= 2 and s["floor_s"] == pytest.approx(s["framework_cpu_s"] / 2)
    assert timing.main([str(out), "2", "10"]) == 0


def test_summary_of_written_files(tmp_path):
    for pid, tests in ((1, {"a.py::t[x-t100-k]": {"framework_cpu": 3.0, "test_cpu": 4.0}}),
                       (2, {"a.py::t[y-k]": {"framework_cpu": 1.0, "test_cpu": 1.5}}),
                       (3, {"a.py::t[y-k]": {"test_wall": 0.5}})):  # a row in a second file adds up
        (tmp_path / f"timing-{pid}.json").write_text(json.dumps(
            {"pid": pid, "process_wall": 9.0, "process_cpu": 8.0, "tests": tests}))
    s = timing.summarise(str(tmp_path), cores=2)
    assert (s["framework_cpu_s"], s["floor_s"], s["process_cpu_s"], s["process_wall_s"]) == (4.0, 2.0, 24.0, 9.0)
    assert s["tests"] == 2 and s["test_wall_s"] == 0.5
    assert s["by_file"]["a.py (T=100)"]["framework_cpu_s"] == 3.0 and s["by_file"]["a.py"]["tests"] == 1


def test_a_backend_worker_process_cpu_counts_as_framework_time():
    """The Keras-backend targets compute in a child process: its CPU seconds are framework time."""
    burn = ("import sys, time\nt = time.process_time()\nwhile time.process_time() - t < 0.3:\n    pass\n"
            "print('done', flush=True)\nsys.stdin.read()")
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    class Worker:
        proc = child

    def request(worker):  # what Worker.request does: wait for the child's answer
        return worker.proc.stdout.readline()
    timer = timing.Timer()
    try:
        assert timer.wrap(request, "framework", child=lambda args: args[0].proc.pid)(Worker()) == b"done\n"
    finally:
        child.stdin.close()
        child.wait(10)
    row = timer.per_test["(outside tests)"]
    assert row["framework_cpu"] >= 0.25 and row["framework_wall"] >= 0.25 and row["child_cpu"] >= 0.25
    assert timing._cpu_of(child.pid) == 0.0  # gone: nothing to read


def test_install_wraps_every_framework_facing_entry_point(monkeypatch, tmp_path):
    from rnnparity.targets import keras3_backend, onnx, tflite
    from rnnparity.targets.keras_adapter import KerasAdapter

    class Config:
        workerinput = {}
        pluginmanager = type("PM", (), {"register": lambda self, plugin, name: None})()

        def add_cleanup(self, fn):
            pass
    monkeypatch.setenv(timing.ENV, str(tmp_path))
    for cls, names in ((KerasAdapter, timing.METHODS), (tflite.TFLiteTarget, ("convert",)),
                       (tflite.Converted, ("interpreter", "run")), (onnx.OnnxTarget, ("_convert",)),
                       (onnx.Converted, ("__init__", "run")), (keras3_backend.Worker, ("request",))):
        for name in names:
            monkeypatch.setattr(cls, name, getattr(cls, name))  # undone after the test
    from rnnparity.targets import tf1

    monkeypatch.setattr(tf1.Tf1Target, "record", tf1.Tf1Target.record)
    timing.install(Config())
    assert hasattr(keras3_backend.Worker.request, "__wrapped__")
    assert hasattr(tflite.TFLiteTarget.convert, "__wrapped__") and hasattr(onnx.Converted.run, "__wrapped__")
