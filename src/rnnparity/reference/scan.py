"""The one time loop shared by every cell (Keras' `backend.rnn`, in NumPy).

It owns everything about *time*: direction (go_backwards), masking, the output carried or zeroed at
masked steps, and the initial state. Cells own only the per-step equations.

Semantics (keras/src/backend/tensorflow/rnn.py, tf_keras/src/backend.py `rnn`):
- go_backwards reverses the inputs *and* the mask; outputs stay in processing order (not re-reversed).
- at a masked step the states keep their previous value; the output is the previous step's output
  (zeros before the first step) or zeros when ``zero_output_for_mask`` is set.
- ``last_output`` is the (masked) output of the last processed step.

Speed (benchmarks/bench.py): the input projection for all timesteps is one matrix product done by the
cell before the loop; the loop writes each output straight into the preallocated (batch, time, units)
array, and touches the mask only when there is one. The per-step products (batch, units) x (units,
gates*units) are small: on the 2-core benchmark machine a (32, 64) x (64, 256) product took 11 us on
one thread and 7.5 us on two with the other core idle, but 37 us, or 10 ms, on two when the other core
was busy (as under `pytest -n 2`). So small products run BLAS single-threaded (`blas_threads_for`);
large ones (the (64, 256) x (256, 1024) step: 310 us on one thread, 167 us on two) use both cores.
"""
from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import types

import numpy as np

# Multiply-adds in one matrix product above which BLAS keeps its own thread count (about 40 us of
# single-threaded work); below, one thread. Measured on the 2-core machine (benchmarks/README.md).
MULTITHREAD_WORK = 1 << 22


def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Run ``step`` over the time axis of ``projected`` (batch, time, ...).

    ``step(x_t, states) -> (output_t, new_states)``; ``projected`` is whatever the cell precomputed
    for all timesteps at once (the input projection). ``step`` must not modify ``x_t`` or the arrays
    in ``states`` (they are the previous step's results, still needed at masked steps). Returns
    ``(last_output, outputs, states)`` with ``outputs`` shaped (batch, time, units) in processing order.
    """
    batch, steps = projected.shape[:2]
    if steps == 0:
        raise ValueError("cannot run a recurrent layer over 0 timesteps")
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states = list(initial_states)
    outputs = None
    with _blas_threads_for(projected, states):
        for k, t in enumerate(order):
            output, new_states = step(projected[:, t], states)
            if outputs is None:
                outputs = np.empty((batch, steps) + output.shape[1:], dtype=output.dtype)
            if mask is not None:
                keep = mask[:, t, None]
                new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
                carried = 0 if zero_output_for_mask or k == 0 else outputs[:, k - 1]
                output = np.where(keep, output, carried)
            outputs[:, k] = output
            states = list(new_states)
    return outputs[:, -1], outputs, states


# -- BLAS threads ------------------------------------------------------------------------------
def _blas_threads_for(projected, states):
    """The loop's BLAS threading, from the size of one step's product: see `blas_threads_for`."""
    if not states or projected.ndim != 3:
        return contextlib.nullcontext()
    return blas_threads_for(projected.shape[0] * projected.shape[2] * np.shape(states[0])[-1])


def blas_threads_for(work):
    """One BLAS thread for a matrix product of ``work`` multiply-adds below MULTITHREAD_WORK (where
    waking a second thread costs more than it saves), BLAS's own setting above."""
    return blas_threads(1) if work < MULTITHREAD_WORK else contextlib.nullcontext()


@contextlib.contextmanager
def blas_threads(n):
    """Run the block with NumPy's OpenBLAS limited to ``n`` threads (no-op for any other BLAS)."""
    api = _openblas()
    if api is None:
        yield
        return
    get, set_ = api.get, api.set
    before = get()
    if before == n:
        yield
        return
    set_(n)
    try:
        yield
    finally:
        set_(before)


def openblas_core():
    """The CPU kernel set NumPy's OpenBLAS chose (e.g. 'Haswell', 'SkylakeX'), or None.

    OPENBLAS_CORETYPE, read when NumPy loads, overrides the detection. The benchmark machine's
    environment sets it to 'Haswell' (AVX2) on an AVX-512 CPU, where OpenBLAS's own choice would be
    'SkylakeX'; GEMMs then run 1.5-1.8x slower (benchmarks/README.md)."""
    api = _openblas()
    return None if api is None or api.core is None else api.core().decode()


@functools.lru_cache(maxsize=None)
def _openblas():
    """get/set_num_threads (and get_corename, when exported) of the OpenBLAS NumPy uses, or None."""
    try:
        here = os.path.dirname(np.__file__)
        candidates = [p for d in ("numpy.libs", ".dylibs", os.path.join("numpy", ".dylibs"))
                      for p in glob.glob(os.path.join(here, os.pardir, d, "*openblas*"))]
        candidates += glob.glob(os.path.join(here, ".dylibs", "*openblas*"))
        for path in candidates:
            lib = ctypes.CDLL(path)
            for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""),
                                   ("openblas_", "64_"), ("openblas_", "")):
                get = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, set_.argtypes = ctypes.c_int, [ctypes.c_int]
                    core = getattr(lib, f"{prefix}get_corename{suffix}", None)
                    if core is not None:
                        core.restype = ctypes.c_char_p
                    return types.SimpleNamespace(get=get, set=set_, core=core)
    except (OSError, AttributeError):  # pragma: no cover - an unusual NumPy build: no speed-up
        pass
    return None
