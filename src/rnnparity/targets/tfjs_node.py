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
import struct

import numpy as np

from . import tfjs_install
from .worker_pipe import PerProcess, WorkerError, WorkerProcess

HEADER = struct.Struct(">I")
# numpy dtype -> TF.js dtype; TF.js has no float64 (nor float16): such arrays are refused here,
# never silently narrowed
DTYPES = {"float32": "float32", "int32": "int32", "bool": "bool"}


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


class NodeWorker(WorkerProcess):
    error = TfjsWorkerError

    def __init__(self):
        node = tfjs_install.node_executable()
        modules = tfjs_install.installed_dir()
        if node is None or modules is None:
            raise TfjsWorkerError(f"tfjs: {tfjs_install.missing()}")
        env = {**os.environ, "NODE_PATH": str(modules / "node_modules")}
        super().__init__([node, str(tfjs_install.WORKER_DIR / "worker.js")], env, "tfjs", "the node worker")

    def request(self, op, what, **payload) -> dict:
        """Send one request; return its reply. Raises TfjsError (TF.js raised) or TfjsWorkerError."""
        body = json.dumps({"op": op, **payload}).encode()
        with self.lock:
            try:
                self.proc.stdin.write(HEADER.pack(len(body)) + body)
                self.proc.stdin.flush()
                size, = HEADER.unpack(self.read_exactly(HEADER.size, what))
                reply = json.loads(self.read_exactly(size, what))
            except (BrokenPipeError, OSError) as exc:
                self.stop()
                raise TfjsWorkerError(self.died(what, exc)) from None
            except BaseException:  # Ctrl-C mid-request: a reply may be pending, never reuse it
                self.stop(kill=True)
                raise
        if not reply.pop("ok"):
            raise TfjsError(reply["type"], reply["message"], reply.get("stack", ""))
        return reply


_WORKERS = PerProcess()  # a forked process (an xdist worker) never shares its parent's


def worker() -> NodeWorker:
    return _WORKERS.get("tfjs", NodeWorker)


@atexit.register
def stop_all():
    _WORKERS.stop_all()
