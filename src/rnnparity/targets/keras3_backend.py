"""Keras 3 on another backend (numpy, jax, torch): targets keras3-numpy, keras3-jax, keras3-torch.

Keras fixes its backend when it is first imported, and the process that runs the suite has Keras on
TensorFlow (the keras3 target). So each backend target runs in a child process of its own
(targets/backend_worker.py, started with KERAS_BACKEND=<backend>) that runs the ordinary keras3
adapter: one child per backend per process (an xdist worker has its own), started at the first
case, kept for the next ones, gone when this process exits (or dies: the child watches its parent).

A record returns the Recording without a live layer, so the checker builds the reference from the
recorded spec and weights (check/runner.py, reference_factory) and ``on_built`` is not called.
Weights given as a callable are evaluated here, from the shapes the child reports. A child that
dies or does not answer within RNNPARITY_WORKER_TIMEOUT seconds (default 300) raises WorkerError
naming the case and showing the end of the child's log; the next record starts a fresh child.
"""
from __future__ import annotations

import atexit
import os
import select
import subprocess
import sys
import tempfile
import threading

from .backend_worker import HEADER, write_frame
from .base import Target
from ..plan import Recording

TIMEOUT_S = 300.0
LOG_TAIL = 2000  # characters of the child's log shown when it fails


class WorkerError(RuntimeError):
    """The backend's child process died, hung, or could not run a request."""


def _timeout():
    text = os.environ.get("RNNPARITY_WORKER_TIMEOUT")
    if text is None:
        return TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"RNNPARITY_WORKER_TIMEOUT: expected a positive number of seconds, got {text!r}")
    return value


class Worker:
    """One child process on one backend, spoken to with length-prefixed pickles."""

    def __init__(self, target: str, backend: str, python: str | None = None):
        self.target, self.backend = target, backend
        self.log = tempfile.TemporaryFile()
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "KERAS_BACKEND": backend, "RNNPARITY_TARGET": target,
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
               # the child imports the same rnnparity as this process (a checkout on PYTHONPATH, or installed)
               "PYTHONPATH": package_root + (os.pathsep + path if path else "")}
        self.proc = subprocess.Popen([python or sys.executable, "-m", "rnnparity.targets.backend_worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, close_fds=True)
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

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
                raise WorkerError(self._died(what, exc)) from None
            except BaseException:  # e.g. Ctrl-C mid-request: a reply may be pending, never reuse it
                self.stop(kill=True)
                raise
        if reply == "error":
            raise WorkerError(f"{self.target}: {what} failed in the worker process:\n{value}")
        return value

    def _read(self, what):
        import pickle

        head = self._read_exactly(HEADER.size, what)
        return pickle.loads(self._read_exactly(HEADER.unpack(head)[0], what))

    def _read_exactly(self, n, what):
        fd, deadline, chunks, got = self.proc.stdout.fileno(), _timeout(), [], 0
        while got < n:
            ready, _, _ = select.select([fd], [], [], deadline)
            if not ready:
                self.stop(kill=True)
                raise WorkerError(f"{self.target}: the worker process did not answer within {deadline:g} s "
                                  f"({what}); it was stopped (RNNPARITY_WORKER_TIMEOUT sets the limit)"
                                  f"{self._tail()}")
            chunk = os.read(fd, n - got)
            if not chunk:
                self.stop()
                raise WorkerError(self._died(what))
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _died(self, what, exc=None):
        code = self.proc.wait(timeout=10) if self.proc.poll() is None else self.proc.returncode
        return (f"{self.target}: the worker process (KERAS_BACKEND={self.backend}, pid {self.proc.pid}) "
                f"exited with code {code} ({what})" + (f": {exc}" if exc else "") + self._tail())

    def _tail(self):
        fd = self.log.fileno()  # pread: the child writes through the same file offset
        size = os.fstat(fd).st_size
        text = os.pread(fd, LOG_TAIL, max(0, size - LOG_TAIL)).decode(errors="replace").strip()
        return f"\n  the end of its log:\n{text}" if text else "\n  (its log is empty)"

    def stop(self, kill=False):
        if self.proc.poll() is None and kill:
            self.proc.kill()
            self.proc.wait()
        if self.proc.poll() is None:
            try:
                write_frame(self.proc.stdin, ("exit", None))
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - a hung or dead child: kill it
                self.proc.kill()
                self.proc.wait()


# (pid, target) -> Worker: keyed by pid, so a forked process never shares its parent's child
_WORKERS: dict = {}


def worker(target: str, backend: str) -> Worker:
    key = (os.getpid(), target)
    w = _WORKERS.get(key)
    if w is None or not w.alive():
        w = _WORKERS[key] = Worker(target, backend)
    return w


@atexit.register
def stop_all():
    for (pid, _), w in list(_WORKERS.items()):
        if pid == os.getpid():
            w.stop()
    _WORKERS.clear()


class BackendTarget(Target):
    dialect = "keras3"

    def __init__(self, backend: str, cannot=None):
        self.backend = backend
        self.name = f"keras3-{backend}"
        self._cannot = cannot

    def versions(self) -> dict:
        return worker(self.name, self.backend).request("versions", None, "versions")

    def cannot_express(self, case) -> str | None:
        return self._cannot(case) if self._cannot else None

    def record(self, spec, plan, seed, case_id, input_shape, time_axis=1, on_built=None,
               weights=None) -> Recording:
        payload = {"spec": spec, "plan": plan, "seed": seed, "case_id": case_id,
                   "input_shape": tuple(input_shape), "time_axis": time_axis,
                   "weights": "callable" if callable(weights) else weights}
        return worker(self.name, self.backend).request(
            "record", payload, f"case {case_id}", weights=weights if callable(weights) else None)
