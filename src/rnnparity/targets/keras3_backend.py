"""Keras 3 on another backend (numpy, jax, torch): targets keras3-numpy, keras3-jax, keras3-torch.

Keras fixes its backend when it is first imported, and the process that runs the suite has Keras on
TensorFlow (the keras3 target). So each backend target runs in a child process of its own
(targets/backend_worker.py, started with KERAS_BACKEND=<backend>) that runs the ordinary keras3
adapter: one child per backend per process (an xdist worker has its own), started at the first
case, kept for the next ones, gone when this process exits (or dies: the child watches its parent).

A record returns the Recording without a live layer, so the checker builds the reference from the
recorded spec and weights (check/runner.py, reference_factory) and ``on_built`` is not called.
Weights given as a callable are evaluated here, from the shapes the child reports. A child that
dies or does not answer within RNNPARITY_WORKER_TIMEOUT seconds (default: the target's own, 300 s
unless it says otherwise: keras3-openvino) raises WorkerError naming the case and showing the end of
the child's log (targets/worker_pipe.py); the next record starts a fresh child.
"""
from __future__ import annotations

import atexit
import os
import sys

from .backend_worker import HEADER, write_frame
from .base import Target
from .worker_pipe import TIMEOUT_S, PerProcess, WorkerError, WorkerProcess
from ..plan import Recording

class Worker(WorkerProcess):
    """One child process on one backend, spoken to with length-prefixed pickles."""

    def __init__(self, target: str, backend: str, python: str | None = None, timeout: float = TIMEOUT_S):
        self.backend = backend
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "KERAS_BACKEND": backend, "RNNPARITY_TARGET": target,
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
               # the child imports the same rnnparity as this process (a checkout on PYTHONPATH, or installed)
               "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        super().__init__([python or sys.executable, "-m", "rnnparity.targets.backend_worker"], env, target,
                         "the worker process", f"KERAS_BACKEND={backend}", timeout)

    def request(self, kind, payload, what: str, weights=None):
        """Send one request and return its result; ``weights``: the callable the child may ask to
        evaluate. Raises WorkerError when the child dies or hangs, or the request failed there."""
        with self.lock:
            try:
                write_frame(self.proc.stdin, (kind, payload))
                while True:
                    reply, value = self._read(what)
                    if reply != "weights?":
                        break
                    try:
                        answer = ("weights", weights(value))
                    except Exception as exc:  # noqa: BLE001 - raised in the child, where it is recorded
                        answer = ("weights-error", exc)
                    write_frame(self.proc.stdin, answer)
            except (BrokenPipeError, OSError) as exc:
                self.stop()
                raise WorkerError(self.died(what, exc)) from None
            except BaseException:  # e.g. Ctrl-C mid-request: a reply may be pending, never reuse it
                self.stop(kill=True)
                raise
        if reply == "error":
            raise WorkerError(f"{self.target}: {what} failed in the worker process:\n{value}")
        return value

    def _read(self, what):
        import pickle

        head = self.read_exactly(HEADER.size, what)
        return pickle.loads(self.read_exactly(HEADER.unpack(head)[0], what))

    def say_goodbye(self):
        write_frame(self.proc.stdin, ("exit", None))
        self.proc.stdin.close()


_WORKERS = PerProcess()  # (pid, target) -> Worker


def worker(target: str, backend: str, timeout: float = TIMEOUT_S) -> Worker:
    return _WORKERS.get(target, lambda: Worker(target, backend, timeout=timeout))


@atexit.register
def stop_all():
    _WORKERS.stop_all()


class BackendTarget(Target):
    dialect = "keras3"

    def __init__(self, backend: str, cannot=None, timeout: float = TIMEOUT_S):
        self.backend, self.timeout = backend, timeout
        self.name = f"keras3-{backend}"
        self._cannot = cannot

    def worker(self) -> Worker:
        return worker(self.name, self.backend, self.timeout)

    def versions(self) -> dict:
        return self.worker().request("versions", None, "versions")

    def cannot_express(self, case) -> str | None:
        return self._cannot(case) if self._cannot else None

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        payload = {"spec": spec, "plan": plan, "seed": seed, "case_id": case_id,
                   "input_shape": tuple(input_shape), "time_axis": time_axis,
                   "weights": "callable" if callable(weights) else weights}
        return self.worker().request(
            "record", payload, f"case {case_id}", weights=weights if callable(weights) else None)
