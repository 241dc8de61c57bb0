"""Rounding-sized bugs planted into a copy of a reference, for the rounding envelope's false-pass rate
(tests/test_envelope.py, scripts/envelope_rates.py).

Each bug takes a pristine reference and returns a mutated copy; the mutated copy's outputs play the
framework with the bug. Sizes are given at float32 and scale with the case's machine epsilon (a bug
of 1e-6 in a float32 layer is 8.4 ulps; the same 8.4 ulps in a float64 layer is 1.9e-15), so they
stay rounding-sized in both precisions. `recurrence_one_precision_down` is the big one: float16 in a
float32 layer, float32 in a float64 layer ("float32 rounding inside a float64 run").
"""
from __future__ import annotations

import copy

import numpy as np

from rnnparity.check.mca import cells_of, layers_of

EPS32 = float(np.finfo(np.float32).eps)


def _size(cell, at_float32):
    """``at_float32`` in units of the cell's own precision."""
    return at_float32 * float(np.finfo(cell.dtype).eps) / EPS32


def _mutated(reference, mutate_cell):
    ref = copy.deepcopy(reference)
    for layer in layers_of(ref):
        for cell in cells_of(layer):
            mutate_cell(cell)
    return ref


def _wrap_states(cell, fn):
    step = cell.step

    def step_(x_t, states):
        output, new = step(x_t, states)
        mutated = [fn(s) for s in new]
        # the output is the h state: it carries the bug too
        return next((m for s, m in zip(new, mutated) if s is output), output), mutated
    cell.step = step_


def recurrence_one_precision_down(reference):
    """The carried states rounded to float16 (float32 layer) or float32 (float64 layer) every step."""
    def mutate(cell):
        lower = np.float16 if cell.dtype == np.float32 else np.float32
        _wrap_states(cell, lambda s: s.astype(lower).astype(s.dtype))
    return _mutated(reference, mutate)


def chopped_state(reference):
    """Every carried state moved one ulp toward zero each step: rounding toward zero instead of to
    nearest (a systematic half-ulp-sized error, the smallest bug there is)."""
    def mutate(cell):
        _wrap_states(cell, lambda s: np.nextafter(s, np.zeros_like(s)))
    return _mutated(reference, mutate)


def state_relative_1e6(reference):
    """Every carried state times (1 + 1e-6) each step (8.4 ulps at float32)."""
    def mutate(cell):
        size = _size(cell, 1e-6)
        _wrap_states(cell, lambda s: s * s.dtype.type(1 + size))
    return _mutated(reference, mutate)


def bias_twice(reference, at_float32=1e-6):
    """The input bias added a second time at scale ``at_float32`` (1e-6: 8.4 ulps at float32)."""
    def mutate(cell):
        if cell.bias is None:
            return
        project, size = cell.project_inputs, _size(cell, at_float32)
        bias = np.asarray(cell.input_bias(), dtype=np.float64) * size

        def project_inputs(x):
            return project(x) + bias.astype(cell.dtype)
        cell.project_inputs = project_inputs
    return _mutated(reference, mutate)


def bias_twice_1e6(reference):
    return bias_twice(reference, 1e-6)


def _wrap_gate_activation(cell, fn):
    if getattr(cell, "recurrent_activation_", None) is None:
        return
    for name in ("recurrent_activation_", "recurrent_activation"):
        original = getattr(cell, name)

        def approx(z, original=original):
            z0 = np.array(z, copy=True)
            return fn(z0, original(z))
        setattr(cell, name, approx)


def sigmoid_approx_1e6(reference):
    """The recurrent activation (the gates' sigmoid) with an absolute error of up to 1e-6."""
    def mutate(cell):
        size = _size(cell, 1e-6)
        _wrap_gate_activation(cell, lambda z, y: y + (size * np.sin(37 * z)).astype(y.dtype))
    return _mutated(reference, mutate)


def saturated_gates_dropped_term(reference):
    """Gates within 1e-6 of 0 or 1 returned as exactly 0 or 1: the exp(-|z|) term dropped."""
    def mutate(cell):
        size = _size(cell, 1e-6)

        def clamp(z, y):
            y = np.where(y > 1 - size, y.dtype.type(1), y)
            return np.where(y < size, y.dtype.type(0), y).astype(y.dtype)
        _wrap_gate_activation(cell, clamp)
    return _mutated(reference, mutate)


BUGS = {
    "recurrence one precision down": recurrence_one_precision_down,
    "bias added twice at 1e-6": bias_twice_1e6,
    "sigmoid approximated to 1e-6": sigmoid_approx_1e6,
    "saturated gates drop a 1e-6 term": saturated_gates_dropped_term,
    "state x (1 + 1e-6) each step": state_relative_1e6,
    "state chopped (round toward zero)": chopped_state,
}
