"""What every Keras-layout cell shares: weights (kernel, recurrent_kernel[, bias]), activations,
and the input projection done once for all timesteps before the time loop."""
from __future__ import annotations

import functools

import numpy as np

from . import activations
from .scan import blas_threads_for


def overwriting(fn):
    """``fn`` for an argument the step owns and no longer needs (a scratch gate block): sigmoid and
    tanh write their result over it instead of allocating; any other activation returns a new array.
    Either way, use the return value."""
    if fn is activations.sigmoid or fn is activations.tanh:
        return functools.partial(_apply_in_place, fn)
    return fn


def not_aliasing(fn):
    """``fn`` for an argument that is overwritten afterwards: ``linear`` returns its argument itself,
    so here it returns a copy instead."""
    return np.copy if fn is activations.linear else fn


def _apply_in_place(fn, x):
    return fn(x, out=x)


class Cell:
    GATES: tuple[str, ...] = ()
    STATE_NAMES: tuple[str, ...] = ()
    DEFAULT_RECURRENT_ACTIVATION = "sigmoid"

    def __init__(self, units, *, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 dialect="keras3", dtype="float32"):
        self.units = units
        self.use_bias = bool(use_bias)
        self.dtype = np.dtype(dtype)
        self.activation = activations.get(activation, dialect, "activation")
        self.recurrent_activation = (
            activations.get(recurrent_activation, dialect, "recurrent_activation")
            if self.DEFAULT_RECURRENT_ACTIVATION is not None else None)
        # the same functions, for scratch arrays the step owns (see `overwriting`)
        self.activation_ = overwriting(self.activation)
        self.activation_kept = not_aliasing(self.activation)
        self.recurrent_activation_ = (overwriting(self.recurrent_activation)
                                      if self.recurrent_activation is not None else None)
        self.kernel = self.recurrent_kernel = self.bias = None
        self._gates_elementwise = activations.is_elementwise(self.recurrent_activation)

    # -- weights -------------------------------------------------------------------------------
    def bias_shape(self):
        return (len(self.GATES) * self.units,)

    def weight_specs(self, input_dim):
        """[(name, shape)] in the framework's get_weights() order."""
        n = len(self.GATES) * self.units
        specs = [("kernel", (input_dim, n)), ("recurrent_kernel", (self.units, n))]
        if self.use_bias:
            specs.append(("bias", self.bias_shape()))
        return specs

    def set_weights(self, weights, owner="layer"):
        weights, kernel = leading_kernel(weights, owner)
        if kernel.ndim != 2:
            raise ValueError(f"{owner}: kernel must be 2-D (input_dim, {len(self.GATES)}*units), "
                             f"got shape {kernel.shape}")
        arrays = checked_weights(weights, self.weight_specs(kernel.shape[0]), owner, self.dtype,
                                 self._shape_hint)
        self.kernel = arrays["kernel"]
        self.recurrent_kernel = arrays["recurrent_kernel"]
        self.bias = arrays.get("bias")

    def _shape_hint(self, name, shape):
        """Extra words for a weight of the wrong shape (GRU names its other bias layout)."""
        return ""

    def get_weights(self):
        if self.kernel is None:
            return []
        out = [self.kernel.copy(), self.recurrent_kernel.copy()]
        if self.use_bias:
            out.append(self.bias.copy())
        return out

    @property
    def built(self):
        return self.kernel is not None

    @property
    def input_dim(self):
        return None if self.kernel is None else self.kernel.shape[0]

    # -- maths ---------------------------------------------------------------------------------
    def input_bias(self):
        return self.bias

    def project_inputs(self, x):
        """x W + b for every timestep at once: (batch, time, features) -> (batch, time, gates*units)."""
        batch, steps, features = x.shape
        with blas_threads_for(batch * steps * self.kernel.size):
            z = (x.reshape(batch * steps, features) @ self.kernel).reshape(batch, steps, -1)  # one GEMM
        if self.use_bias:
            z += self.input_bias()
        return z

    def gate_activation_(self, z):
        """recurrent_activation of every units-wide gate block of ``z``, this step's scratch (overwritten
        when the activation can). An elementwise activation runs once over all the blocks: one pass
        over a contiguous array instead of one per gate (the per-call cost dominates small steps)."""
        if self._gates_elementwise:
            return self.recurrent_activation_(z)
        blocks = np.split(z, z.shape[-1] // self.units, axis=-1)  # softmax & co. act per gate
        return np.concatenate([self.recurrent_activation(b) for b in blocks], axis=-1)

    def zero_states(self, batch):
        return [np.zeros((batch, self.units), self.dtype) for _ in self.STATE_NAMES]

    def step(self, x_t, states):  # pragma: no cover - abstract
        raise NotImplementedError


def leading_kernel(weights, owner):
    """The weight list and its first array (the kernel, whose shape sizes the others)."""
    weights = list(weights)
    if not weights:
        raise ValueError(f"{owner}: set_weights got an empty list")
    return weights, np.asarray(weights[0])


def checked_weights(weights, specs, owner, dtype, shape_hint=None):
    """{name: array cast to dtype} for a weight list that must match [(name, shape)] exactly.

    Integer and boolean arrays are cast, as Keras' set_weights casts them. Complex, string and
    object arrays are refused, naming the weight: Keras would silently drop the imaginary part or
    parse the strings."""
    if len(weights) != len(specs):
        raise ValueError(f"{owner}: expected {len(specs)} weight arrays "
                         f"({', '.join(f'{n}{s}' for n, s in specs)}), got {len(weights)} "
                         f"with shapes {[np.shape(w) for w in weights]}")
    arrays = {}
    for (name, shape), w in zip(specs, weights):
        w = np.asarray(w)
        if w.shape != shape:
            hint = shape_hint(name, shape) if shape_hint else ""
            raise ValueError(f"{owner}: weight {name!r} must have shape {shape}, got {w.shape}{hint}")
        if w.dtype.kind not in "biuf":
            raise TypeError(f"{owner}: weight {name!r} must hold real numbers, got dtype {w.dtype}")
        arrays[name] = w.astype(dtype)
    return arrays
