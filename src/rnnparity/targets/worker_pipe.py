"""A child process that answers requests over a pipe: what the Keras backend workers
(targets/keras3_backend.py) and the TF.js node worker (targets/tfjs_node.py) share.

The child reads requests on its stdin and writes length-prefixed replies on its stdout; everything
else it prints goes to a log file, whose end is shown when it fails. A reply that does not come
within the worker timeout (RNNPARITY_WORKER_TIMEOUT seconds, else the target's own default) stops the
child and raises WorkerError naming the request; so does a child that dies. The framing itself (pickle
or JSON) is the caller's.
"""
from __future__ import annotations

import os
import select
import subprocess
import tempfile
import threading

TIMEOUT_S = 300.0  # the default worker timeout; a target may need more (keras3-openvino)
LOG_TAIL = 2000  # characters of the child's log shown when it fails


class WorkerError(RuntimeError):
    """A worker process died, hung, or could not run a request."""


def timeout_s(default: float = TIMEOUT_S) -> float:
    """RNNPARITY_WORKER_TIMEOUT (seconds) when set, else ``default``."""
    text = os.environ.get("RNNPARITY_WORKER_TIMEOUT")
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(f"RNNPARITY_WORKER_TIMEOUT: expected a positive number of seconds, got {text!r}")
    return value


class WorkerProcess:
    """The child, its log and the lock a request holds. Messages read "<target>: <who> did not
    answer ..." and "<target>: <who> (<detail>, pid N) exited with code ..."; ``timeout``: the
    target's default worker timeout."""

    error = WorkerError

    def __init__(self, argv, env, target: str, who: str, detail: str = "", timeout: float = TIMEOUT_S):
        self.target, self.who, self.detail, self.default_timeout = target, who, detail, timeout
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, close_fds=True)
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def read_exactly(self, n, what) -> bytes:
        """``n`` bytes of the child's reply to ``what``; raises ``self.error`` when it dies or hangs."""
        fd, deadline, chunks, got = self.proc.stdout.fileno(), timeout_s(self.default_timeout), [], 0
        while got < n:
            ready, _, _ = select.select([fd], [], [], deadline)
            if not ready:
                self.stop(kill=True)
                raise self.error(f"{self.target}: {self.who} did not answer within {deadline:g} s ({what}); "
                                 f"it was stopped (RNNPARITY_WORKER_TIMEOUT sets the limit){self.tail()}")
            chunk = os.read(fd, n - got)
            if not chunk:
                self.stop()
                raise self.error(self.died(what))
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def died(self, what, exc=None) -> str:
        code = self.proc.wait(timeout=10) if self.proc.poll() is None else self.proc.returncode
        return (f"{self.target}: {self.describe()} exited with code {code} ({what})"
                + (f": {exc}" if exc else "") + self.tail())

    def describe(self) -> str:
        """The child with its pid, for a message ("the node worker (pid 12)")."""
        return f"{self.who} ({self.detail + ', ' if self.detail else ''}pid {self.proc.pid})"

    def tail(self) -> str:
        fd = self.log.fileno()  # pread: the child writes through the same file offset
        size = os.fstat(fd).st_size
        text = os.pread(fd, LOG_TAIL, max(0, size - LOG_TAIL)).decode(errors="replace").strip()
        return f"\n  the end of its log:\n{text}" if text else "\n  (its log is empty)"

    def say_goodbye(self):
        """Ask the child to leave (the default: close its stdin, at whose end it exits)."""
        self.proc.stdin.close()

    def stop(self, kill=False):
        if self.proc.poll() is None and kill:
            self.proc.kill()
        if self.proc.poll() is None:
            try:
                self.say_goodbye()
                self.proc.wait(timeout=5)
            except Exception:  # noqa: BLE001 - a hung or dead child: kill it
                self.proc.kill()
        self.proc.wait()


class PerProcess:
    """One worker per (this process, key), started on first use and again after it died: a forked
    process (an xdist worker) never shares its parent's child. Stopped at exit."""

    def __init__(self):
        self.workers: dict = {}

    def get(self, key, start):
        w = self.workers.get((os.getpid(), key))
        if w is None or not w.alive():
            w = self.workers[(os.getpid(), key)] = start()
        return w

    def stop_all(self):
        for (pid, _), w in list(self.workers.items()):
            if pid == os.getpid():
                w.stop()
        self.workers.clear()
