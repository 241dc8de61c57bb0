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
gates*units) are small, and a multi-threaded BLAS waits at every step for its slowest thread: when
another process holds a core, that thread is descheduled and one step costs milliseconds. How many
threads the loop gets is decided once per call by `threads.blas_threads_for` (product size, the cores
this process may use, and whether they are busy).
"""
from __future__ import annotations

import contextlib

import numpy as np

from .threads import blas_threads_for


def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Run ``step`` over the time axis of ``projected`` (batch, time, ...).

    ``step(x_t, states) -> (output_t, new_states)``; ``projected`` is whatever the cell precomputed
    for all timesteps at once (the input projection). ``step`` must not modify ``x_t`` or the arrays
    in ``states`` (they are the previous step's results, still needed at masked steps). Returns
    ``(last_output, outputs, states)`` with ``outputs`` shaped (batch, time, *step output shape) in processing order.
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
                keep = mask[:, t].reshape(-1, *(1,) * (output.ndim - 1))  # (batch, 1, ...)
                new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
                carried = 0 if zero_output_for_mask or k == 0 else outputs[:, k - 1]
                output = np.where(keep, output, carried)
            outputs[:, k] = output
            states = list(new_states)
    return outputs[:, -1], outputs, states


# -- BLAS threads ------------------------------------------------------------------------------
def _blas_threads_for(projected, states):
    """The loop's BLAS threading, from the size of one step's product: see `threads.blas_threads_for`."""
    if not states or projected.ndim != 3:
        return contextlib.nullcontext()
    return blas_threads_for(projected.shape[0] * projected.shape[2] * np.shape(states[0])[-1])
