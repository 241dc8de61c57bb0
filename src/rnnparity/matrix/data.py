"""Seeded inputs, masks, initial states and weights for a case, and the *plan*: the sequence of calls
and resets that a case runs, identically, on the framework and on the reference.

Everything derives from ``case.seed`` (a hash of the id without its target), so the same case has the
same data on every target, every run and every xdist worker.
"""
from __future__ import annotations

import numpy as np

from ..plan import Call, Plan, Reset
from .cases import FEATURES, STACK_UNITS, UNITS, Case

def make_mask(pattern: str, batch: int, steps: int, rng) -> np.ndarray | None:
    if pattern == "none":
        return None
    lengths = np.array([max(1, steps - (i + (batch == 1)) * max(1, steps // 3)) for i in range(batch)])
    right = np.arange(steps)[None, :] < lengths[:, None]
    if pattern == "right":
        return right
    if pattern == "left":
        return right[:, ::-1].copy()
    if pattern == "holes":
        mask = rng.uniform(size=(batch, steps)) < 0.7
        mask[np.arange(batch), rng.randint(0, steps, size=batch)] = True
        return mask
    if pattern == "full_row":
        right[-1] = False
        return right
    raise ValueError(f"unknown mask pattern {pattern!r}")


def _batch(case: Case, rng):
    b, t = case.n_batch, case.n_steps
    x = rng.normal(size=(b, t, FEATURES)).astype(case.np_dtype)
    mask = make_mask(case.mask, b, t, rng)
    if case.time_major:
        x = np.ascontiguousarray(np.swapaxes(x, 0, 1))
        mask = None if mask is None else np.ascontiguousarray(mask.T)
    return x, mask


def _initial_state(case: Case, rng):
    """A flat list of (batch, units) states; for stacked cells one list per cell ([h, c] or [h]),
    forward cells then backward cells, the structure both Keras versions take."""
    def state(units):
        return rng.uniform(-0.5, 0.5, size=(case.n_batch, units)).astype(case.np_dtype)
    if case.cell != "stacked":
        return [state(UNITS) for _ in range(case.n_states)]
    directions = 1 if case.wrapper == "none" else 2
    return [[state(units) for _ in range(case.states_per_cell)]
            for _ in range(directions) for units in STACK_UNITS]


def seeded_plan(case, batch, initial_state):
    """(plan, its random stream) of a case from its seed: one call; a stateful layer: two batches
    (the state carried), a reset, a third batch. ``batch(case, rng) -> (x, mask)`` and
    ``initial_state(case, rng)`` draw the data (the Keras layers' here, ConvLSTM's in
    conv_lstm_cases.py); the stream goes on for what a caller draws next."""
    rng = np.random.RandomState(case.seed)
    x, mask = batch(case, rng)
    init = initial_state(case, rng) if case.initial_state else None
    if not case.stateful:
        return Plan([Call(x, mask, init, "call")]), rng
    x2, m2 = batch(case, rng)
    x3, m3 = batch(case, rng)
    return Plan([Call(x, mask, init, "batch 1"), Call(x2, m2, None, "batch 2 (state carried)"),
                 Reset(), Call(x3, m3, None, "batch 3 (after reset)")]), rng


def make_plan(case: Case) -> Plan:
    plan, rng = seeded_plan(case, _batch, _initial_state)
    if not case.stateful:
        return plan
    steps = case.n_steps
    # (not for stacked cells' returned states: one list per cell, which runner.chunk_consistency,
    # comparing flat outputs, would take for a sequence)
    nested = case.cell == "stacked" and case.return_state
    if case.wrapper == "none" and not case.go_backwards and case.mask == "none" and steps >= 2 \
            and not nested:
        # chunking: feeding a sequence in two chunks must equal feeding it whole
        k = steps // 2 + 1 if steps > 2 else 1
        xa, _ = _batch(case, rng)
        axis = 0 if case.time_major else 1
        first, second = np.split(xa, [k], axis=axis)
        plan.steps += [Reset(), Call(first, None, None, f"chunk 1 (steps :{k})"),
                       Call(second, None, None, f"chunk 2 (steps {k}:)"), Reset(),
                       Call(xa, None, None, "whole sequence")]
        plan.chunk_check = (3, 4, 5)
    return plan
