"""The node process of the `tfjs` target: one per Python process, started at the first request, kept
for the next ones, stopped at exit (the node side also leaves when this process dies).

Frames are length-prefixed JSON (targets/tfjs_worker/worker.js says which requests there are);
arrays cross as base64 of their little-endian bytes with shape and dtype. A node process that dies,
or does not answer within RNNPARITY_WORKER_TIMEOUT seconds (default 300, as the Keras backend
workers), raises TfjsWorkerError naming the request and showing the end of its log (stderr, where
the worker sends everything TF.js prints); the next request starts a fresh process. An error raised
by TF.js itself comes back as TfjsError, with TF.js' own error type and message.
"""
from __future__ import annotations

import atexit
import base64
import json
import os
import select
import struct
import subprocess
import tempfile
import threading

import numpy as np

from . import tfjs_install
from .keras3_backend import TIMEOUT_S, WorkerError

HEADER = struct.Struct(">I")
LOG_TAIL = 2000
# numpy dtype -> TF.js dtype; TF.js has no float64 (nor float16): such arrays are refused here,
# never silently narrowed
DTYPES = {"float32": "float32", "int32": "int32", "bool": "bool"}


def timeout_s() -> float:
    """RNNPARITY_WORKER_TIMEOUT (seconds), the setting the Keras backend workers read too."""
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


class TfjsWorkerError(WorkerError):
    """The node process died, hung, or could not be started."""


class TfjsError(Exception):
    """An error TF.js raised; ``kind`` is its JS error type (ValueError, NotImplementedError, ...)."""

    def __init__(self, kind, message, stack=""):
        super().__init__(message)
        self.kind, self.stack = kind, stack


def encode(a) -> dict:
    a = np.asarray(a)
    if a.dtype.name not in DTYPES:
        raise TypeError(f"a {a.dtype} array cannot cross to TensorFlow.js (it has float32, int32 and bool)")
    data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes()
    return {"dtype": DTYPES[a.dtype.name], "shape": list(a.shape), "data": base64.b64encode(data).decode()}


def decode(d) -> np.ndarray:
    dtype = {"float32": "<f4", "int32": "<i4", "bool": "u1"}[d["dtype"]]
    a = np.frombuffer(base64.b64decode(d["data"]), dtype=dtype).reshape(d["shape"])
    return a.astype(bool) if d["dtype"] == "bool" else a.astype(a.dtype.newbyteorder("="))


class NodeWorker:
    def __init__(self):
        node = tfjs_install.node_executable()
        modules = tfjs_install.installed_dir()
        if node is None or modules is None:
            raise TfjsWorkerError(f"tfjs: {tfjs_install.missing()}")
        self.log = tempfile.TemporaryFile()
        env = {**os.environ, "NODE_PATH": str(modules / "node_modules")}
        self.proc = subprocess.Popen([node, str(tfjs_install.WORKER_DIR / "worker.js")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, close_fds=True)
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, op, what, **payload) -> dict:
        """Send one request; return its reply. Raises TfjsError (TF.js raised) or TfjsWorkerError."""
        body = json.dumps({"op": op, **payload}).encode()
        with self.lock:
            try:
                self.proc.stdin.write(HEADER.pack(len(body)) + body)
                self.proc.stdin.flush()
                size, = HEADER.unpack(self._read_exactly(HEADER.size, what))
                reply = json.loads(self._read_exactly(size, what))
            except (BrokenPipeError, OSError) as exc:
                self.stop()
                raise TfjsWorkerError(self._died(what, exc)) from None
            except BaseException:  # Ctrl-C mid-request: a reply may be pending, never reuse it
                self.stop(kill=True)
                raise
        if not reply.pop("ok"):
            raise TfjsError(reply["type"], reply["message"], reply.get("stack", ""))
        return reply

    def _read_exactly(self, n, what):
        fd, deadline, chunks, got = self.proc.stdout.fileno(), timeout_s(), [], 0
        while got < n:
            ready, _, _ = select.select([fd], [], [], deadline)
            if not ready:
                self.stop(kill=True)
                raise TfjsWorkerError(f"tfjs: the node worker did not answer within {deadline:g} s ({what}); "
                                      f"it was stopped (RNNPARITY_WORKER_TIMEOUT sets the limit){self._tail()}")
            chunk = os.read(fd, n - got)
            if not chunk:
                self.stop()
                raise TfjsWorkerError(self._died(what))
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _died(self, what, exc=None):
        code = self.proc.wait(timeout=10) if self.proc.poll() is None else self.proc.returncode
        return (f"tfjs: the node worker (pid {self.proc.pid}) exited with code {code} ({what})"
                + (f": {exc}" if exc else "") + self._tail())

    def _tail(self):
        fd = self.log.fileno()
        size = os.fstat(fd).st_size
        text = os.pread(fd, LOG_TAIL, max(0, size - LOG_TAIL)).decode(errors="replace").strip()
        return f"\n  the end of its log:\n{text}" if text else "\n  (its log is empty)"

    def stop(self, kill=False):
        if self.proc.poll() is None and kill:
            self.proc.kill()
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the worker exits at the end of its stdin
                self.proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - a hung worker: kill it
                self.proc.kill()
        self.proc.wait()


_WORKERS: dict = {}  # pid -> NodeWorker: a forked process (an xdist worker) never shares its parent's


def worker() -> NodeWorker:
    w = _WORKERS.get(os.getpid())
    if w is None or not w.alive():
        w = _WORKERS[os.getpid()] = NodeWorker()
    return w


@atexit.register
def stop_all():
    w = _WORKERS.pop(os.getpid(), None)
    if w is not None:
        w.stop()
    _WORKERS.clear()
