"""Reading a user's or a recording's `.npz` file: plain arrays only, never unpickled.

NumPy's own messages for a bad file mislead: random bytes get "This file contains pickled (object)
data. If you trust the file you can load it unsafely using the `allow_pickle=` keyword", which
invites the one thing rnnparity never does (unpickling runs code the file carries). `read_npz`
says instead what the file is: not an .npz file at all, a damaged one, or one holding object
arrays (pickled Python objects), which no rnnparity file holds.
"""
from __future__ import annotations

import io
import zipfile

import numpy as np

ZIP_SIGNATURE = b"PK\x03\x04"


def read_npz(source, what: str) -> dict:
    """{name: array} of an .npz file (a path, or its bytes); ValueError starting with ``what`` for
    a file that is missing, not an .npz, damaged, or holds pickled objects."""
    try:
        data = source if isinstance(source, (bytes, bytearray)) else _read_bytes(source)
    except OSError as exc:
        raise ValueError(f"{what}: cannot read it ({exc.strerror or exc})") from None
    if not data.startswith(ZIP_SIGNATURE):
        raise ValueError(f"{what}: corrupt or not an .npz file (an .npz is a zip archive of .npy "
                         f"arrays; this file does not start like one)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc) or "pickled" in str(exc):
            raise ValueError(f"{what}: holds pickled objects (object arrays); rnnparity reads plain "
                             f"numeric arrays only and never unpickles a file") from None
        raise ValueError(f"{what}: corrupt .npz file ({exc})") from None
    except (zipfile.BadZipFile, EOFError, OSError, KeyError) as exc:
        raise ValueError(f"{what}: corrupt or truncated .npz file ({type(exc).__name__}: {exc})") from None


def _read_bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()
