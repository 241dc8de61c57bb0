"""The Keras 3 backend targets (keras3-numpy, keras3-jax, keras3-torch): the worker protocol with a
fake adapter (no framework: round trip, callable weights, a dead or hung child, noise kept off the
terminal, the child leaving with its parent), then, where Keras and jax are installed, live cases on
the numpy backend."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from rnnparity.matrix.cases import case_from_id
from rnnparity.plan import Call, Outcome, Plan, Recording
from rnnparity.targets import registry
from rnnparity.targets.keras3_backend import Worker, WorkerError

ROOT = Path(__file__).resolve().parents[1]


class FakeAdapter:
    """Stands in for the keras3 adapter in the worker: its behaviour is chosen by the case id."""

    def __init__(self, target):
        self.target = target

    def versions(self):
        return {"target": self.target, "backend": os.environ["KERAS_BACKEND"], "pid": os.getpid()}

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, weights=None):
        if case_id == "die":
            sys.stderr.write("about to die\n")
            sys.stderr.flush()
            os._exit(7)
        if case_id == "hang":
            time.sleep(60)
        if case_id == "noisy":  # what TensorFlow/absl do: straight to the fds, and print()
            os.write(1, b"NOISE ON FD 1\n")
            os.write(2, b"NOISE ON FD 2\n")
            print("NOISE FROM PRINT")
        if callable(weights):
            weights = weights([(2, 3), (3,)])
        outputs = [np.asarray(c.x) * 2 for c in plan.calls]
        return Recording(case_id, spec, plan, weights, Outcome(outputs), "keras3", time_axis,
                         layer=object())


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setenv("RNNPARITY_WORKER_ADAPTER", "tests.test_target_backends:FakeAdapter")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    workers = []

    def start():
        workers.append(Worker("keras3-fake", "numpy"))
        return workers[-1]
    yield start
    for w in workers:
        w.stop()


def _record(w, case_id, weights=None):
    plan = Plan([Call(np.arange(6.0).reshape(1, 2, 3), None, None, "call")])
    payload = {"spec": {"class": "LSTM", "config": {}}, "plan": plan, "seed": 1, "case_id": case_id,
               "input_shape": (1, 2, 3), "time_axis": 1,
               "weights": "callable" if callable(weights) else weights}
    return w.request("record", payload, f"case {case_id}", weights=weights if callable(weights) else None)


def test_round_trip_sends_plan_and_returns_the_recording_without_its_layer(fake):
    w = fake()
    assert w.request("versions", None, "versions")["backend"] == "numpy"
    rec = _record(w, "plain", weights=[np.ones(2)])
    assert rec.layer is None  # the live layer stays in the child: the reference comes from spec + weights
    np.testing.assert_array_equal(rec.outcome.outputs[0], np.arange(6.0).reshape(1, 2, 3) * 2)
    np.testing.assert_array_equal(rec.weights[0], np.ones(2))
    assert _record(w, "again").case_id == "again"  # the same child serves the next request


def test_weights_callable_is_evaluated_in_the_parent_from_the_shapes_the_child_reports(fake):
    asked = []

    def weights(shapes):
        asked.append(shapes)
        return [np.full(s, 0.5) for s in shapes]
    rec = _record(fake(), "callable", weights=weights)
    assert asked == [[(2, 3), (3,)]]
    assert [w.shape for w in rec.weights] == [(2, 3), (3,)] and rec.weights[0][0, 0] == 0.5


def test_a_dead_child_is_a_clear_error_and_the_next_request_needs_a_new_child(fake):
    w = fake()
    with pytest.raises(WorkerError, match=r"exited with code 7 \(case die\)(.|\n)*about to die"):
        _record(w, "die")
    assert not w.alive()


def test_a_hung_child_is_stopped_after_the_timeout(fake, monkeypatch):
    monkeypatch.setenv("RNNPARITY_WORKER_TIMEOUT", "3")
    w = fake()
    w.request("versions", None, "versions")  # started (imports done) before the clock matters
    start = time.monotonic()
    with pytest.raises(WorkerError, match=r"did not answer within 3 s \(case hang\)"):
        _record(w, "hang")
    assert time.monotonic() - start < 20 and not w.alive()


def test_bad_timeout_names_the_variable(fake, monkeypatch):
    monkeypatch.setenv("RNNPARITY_WORKER_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="RNNPARITY_WORKER_TIMEOUT: expected a positive number"):
        _record(fake(), "plain")


def test_child_noise_stays_in_its_log(fake, capfd):
    w = fake()
    rec = _record(w, "noisy")  # the protocol survives bytes written to the child's fd 1
    assert rec.case_id == "noisy"
    out, err = capfd.readouterr()
    assert "NOISE" not in out + err
    assert "NOISE ON FD 1" in w.tail() and "NOISE ON FD 2" in w.tail()


def test_the_child_exits_when_its_parent_dies():
    script = textwrap.dedent("""
        import os, sys
        from rnnparity.targets.keras3_backend import Worker
        w = Worker("keras3-fake", "numpy")
        w.request("versions", None, "versions")
        print(w.proc.pid, flush=True)
        os._exit(0)  # no atexit: the child must notice by itself
    """)
    env = {**os.environ, "RNNPARITY_WORKER_ADAPTER": "tests.test_target_backends:FakeAdapter",
           "PYTHONPATH": str(ROOT) + os.pathsep + str(ROOT / "src")}
    pid = int(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                             timeout=60, check=True).stdout.split()[0])
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the worker {pid} outlived its parent by 10 s")


@pytest.mark.parametrize("target", ["keras3-numpy", "keras3-jax", "keras3-torch"])
def test_backend_targets_parse_from_ids_and_run_the_keras3_dialect(target):
    case = case_from_id(f"lstm-bidi_concat-seq-mask_left-f32-{target}")
    assert case.target == target and case.stem == "lstm-bidi_concat-seq-mask_left-f32"
    assert registry.target_of(case.id) == target and registry.dialect(target) == "keras3"
    from rnnparity.golden.upgrade import _key
    assert _key(case.id) == _key("lstm-bidi_concat-seq-mask_left-f32-keras3") == case.stem


def test_numpy_and_torch_are_selected_when_installed_and_a_missing_library_is_named():
    assert registry.info("keras3-numpy").auto and registry.info("keras3-torch").auto
    assert not registry.info("keras3-jax").auto
    assert ("keras3-torch" in registry.default_targets()) == registry.availability("keras3-torch")[0]
    ok, reason = registry.availability("keras3-torch")
    assert ok or ("torch not installed" in reason and "pip install" in reason)


# -- live, on the numpy backend (Keras 3.15's numpy backend imports jax) ----------------------------
needs_numpy_backend = pytest.mark.skipif(not registry.availability("keras3-numpy")[0],
                                         reason=registry.availability("keras3-numpy")[1])


@needs_numpy_backend
@pytest.mark.live
def test_keras3_numpy_runs_on_numpy_in_its_worker():
    v = registry.get("keras3-numpy").versions()
    assert v["backend"] == "numpy" and v["numpy"] == np.__version__ and v["keras"].startswith("3.")


@needs_numpy_backend
@pytest.mark.live
def test_a_case_and_callable_weights_agree_with_the_reference():
    from rnnparity.check import runner
    from rnnparity.matrix.data import make_plan

    case = case_from_id("gru-seq-state-mask_right-f32-keras3-numpy")
    rec, problems = runner.check_live(case)
    assert problems == [] and rec.layer is None and rec.outcome.outputs
    big = lambda shapes: [np.full(s, 0.9, "float32") for s in shapes]  # noqa: E731
    rec, problems = runner.check_spec_live("keras3-numpy", case.layer_spec(), make_plan(case), case.seed,
                                           case.id, case.input_shape, weights=big)
    assert problems == [] and all((w == np.float32(0.9)).all() for w in rec.weights)


@needs_numpy_backend
@pytest.mark.live
def test_the_rounding_verdict_of_a_worker_target_runs_it_once(monkeypatch):
    """The verdict needs only the recording and the reference (the rounding envelope): the worker
    runs the case once, and a comparison beyond a tolerance of 1e-15 passes within rounding."""
    from rnnparity.check import runner

    target, dtypes = registry.get("keras3-numpy"), []
    record = target.record

    def spy(spec, *args, **kwargs):
        rec = record(spec, *args, **kwargs)
        dtypes.append((spec.config["dtype"], rec.outcome.outputs[0].dtype.name))
        return rec
    monkeypatch.setattr(target, "record", spy)
    case = case_from_id("lstm-seq-f32-keras3-numpy")
    rec, problems = runner.check_live(case, atol=1e-15, rtol=0.0)  # beyond the table: a verdict is due
    assert rec.rounding is not None and rec.rounding.status == "pass" and problems == []
    assert dtypes == [("float32", "float32")]


# one case per registered backend divergence: it fails on the numpy backend (so its strict xfail can
# XPASS the day Keras fixes it) and its stem passes on the TensorFlow backend
DIVERGENT = {
    "keras3-backend-masked-output-from-state": "simple_rnn-seq-mask_left-init-f32",
    "keras3-backend-unroll-mask-output-not-zeroed": "simple_rnn-bidi_sum-seq-state-mask_left-unroll-f32",
    "keras3-backend-float64-computed-in-float32": "lstm-f64",
}


@needs_numpy_backend
@pytest.mark.live
@pytest.mark.parametrize("key", sorted(DIVERGENT))
def test_registered_backend_divergences_are_real(key):
    from rnnparity.check import runner
    from rnnparity.check.divergences import divergence_for

    case = case_from_id(f"{DIVERGENT[key]}-keras3-numpy")
    assert divergence_for(case).key == key
    assert runner.check_live(case, rounding=False)[1], f"{case.id} agrees: {key} is fixed or wrongly scoped"
    tf_case = case_from_id(f"{DIVERGENT[key]}-keras3")
    tf_bug = divergence_for(tf_case)
    if tf_bug is None:
        assert runner.check_live(tf_case)[1] == []
    else:  # unrolled masks: the TensorFlow backend has a bug of its own there (it zeroes the wrong steps)
        assert tf_bug.key == "unroll-mask-go-backwards-zero-output" != key


def test_a_target_may_wait_longer_than_the_default_and_the_variable_still_wins(monkeypatch):
    monkeypatch.setenv("RNNPARITY_WORKER_ADAPTER", "tests.test_target_backends:FakeAdapter")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("RNNPARITY_WORKER_TIMEOUT", raising=False)
    w = Worker("keras3-fake", "numpy", timeout=600)  # the target's own limit (keras3-openvino: 1200 s)
    try:
        w.request("versions", None, "versions")  # started (imports done) before the clock matters
        w.default_timeout = 2
        with pytest.raises(WorkerError, match=r"did not answer within 2 s \(case hang\)"):
            _record(w, "hang")
        w = Worker("keras3-fake", "numpy", timeout=600)
        w.request("versions", None, "versions")
        monkeypatch.setenv("RNNPARITY_WORKER_TIMEOUT", "1")
        with pytest.raises(WorkerError, match=r"did not answer within 1 s \(case hang\)"):
            _record(w, "hang")
    finally:
        w.stop()
