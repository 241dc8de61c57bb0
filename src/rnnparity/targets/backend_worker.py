"""The child process of a Keras 3 backend target (targets/keras3_backend.py): Keras fixed on one
backend at import (KERAS_BACKEND, set by the parent), running the keras3 adapter's `record`.

    python -m rnnparity.targets.backend_worker      # started by the parent, never by hand

Protocol (frames.py-style: an 8-byte big-endian length, then a pickle), over the child's stdin and
the stdout it had at start. Requests: ("versions", None), ("record", kwargs), ("exit", None).
Replies: ("ok", value) or ("error", traceback text); during a record whose weights are a callable
(kept in the parent), the child asks ("weights?", shapes) and the parent answers ("weights", arrays)
or ("weights-error", exception). Everything else the child or its libraries print goes to fd 1/2,
which the parent points at a log file: it never reaches the terminal nor the protocol pipe.
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
import threading
import time
import traceback

HEADER = struct.Struct(">Q")


def write_frame(stream, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream):
    """The next message, or None at end of stream (the parent closed the pipe or died)."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    size, = HEADER.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


def _exit_with_parent(parent: int):
    """Leave when the parent is gone, even in the middle of a long call (stdin EOF is seen only
    between requests)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def adapter():
    """The keras3 adapter on this process' backend; RNNPARITY_WORKER_ADAPTER=module:name replaces it
    (tests/test_target_backends.py: the protocol without a framework)."""
    import importlib

    where = os.environ.get("RNNPARITY_WORKER_ADAPTER", "rnnparity.targets.backend_adapter:BackendKerasAdapter")
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(module), name)(os.environ["RNNPARITY_TARGET"])


def serve(requests, replies):
    target = adapter()

    def ask_weights(shapes):
        write_frame(replies, ("weights?", [tuple(s) for s in shapes]))
        kind, value = read_frame(requests)
        if kind == "weights-error":
            raise value
        return value

    while True:
        message = read_frame(requests)
        if message is None or message[0] == "exit":
            return
        kind, payload = message
        try:
            if kind == "versions":
                result = target.versions()
            elif kind == "record":
                if payload.get("weights") == "callable":
                    payload = {**payload, "weights": ask_weights}
                result = target.record(**payload)
                result.layer = None  # a live layer stays here; the parent builds its reference from spec
            else:
                raise ValueError(f"unknown request {kind!r}: expected versions, record or exit")
            reply = ("ok", result)
        except Exception:  # noqa: BLE001 - sent to the parent, which raises it there
            reply = ("error", traceback.format_exc())
        write_frame(replies, reply)


def main():
    replies = os.fdopen(os.dup(1), "wb")  # the protocol's own copy of the original stdout
    os.dup2(2, 1)  # anything printed from here on goes to the log, not into the protocol
    sys.stdout = sys.stderr
    requests = os.fdopen(os.dup(0), "rb")
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    serve(requests, replies)


if __name__ == "__main__":
    main()
