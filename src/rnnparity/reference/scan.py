"""The one time loop shared by every cell (Keras' `backend.rnn`, in NumPy).

It owns everything about *time*: direction (go_backwards), masking, the output carried or zeroed at
masked steps, and the initial state. Cells own only the per-step equations.

Semantics (keras/src/backend/tensorflow/rnn.py, tf_keras/src/backend.py `rnn`):
- go_backwards reverses the inputs *and* the mask; outputs stay in processing order (not re-reversed).
- at a masked step the states keep their previous value; the output is the previous step's output
  (zeros before the first step) or zeros when ``zero_output_for_mask`` is set.
- ``last_output`` is the (masked) output of the last processed step.
"""
from __future__ import annotations

import numpy as np


def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
    """Run ``step`` over the time axis of ``projected`` (batch, time, ...).

    ``step(x_t, states) -> (output_t, new_states)``; ``projected`` is whatever the cell precomputed
    for all timesteps at once (the input projection). Returns ``(last_output, outputs, states)`` with
    ``outputs`` shaped (batch, time, units) in processing order.
    """
    batch, steps = projected.shape[:2]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states = list(initial_states)
    outputs = None
    prev_output = None
    for k, t in enumerate(order):
        output, new_states = step(projected[:, t], states)
        if outputs is None:
            outputs = np.empty((batch, steps) + output.shape[1:], dtype=output.dtype)
            prev_output = np.zeros_like(output)
        if mask is not None:
            keep = mask[:, t, None]
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
            output = np.where(keep, output, 0 if zero_output_for_mask else prev_output)
        states = list(new_states)
        outputs[:, k] = output
        prev_output = output
    if outputs is None:
        raise ValueError("cannot run a recurrent layer over 0 timesteps")
    return outputs[:, -1], outputs, states
