"""What every Keras-layout cell shares: weights (kernel, recurrent_kernel[, bias]), activations,
and the input projection done once for all timesteps before the time loop.

A cell computes in its compute dtype (precision.py): under a mixed-precision policy the weights are
kept as given (float32, what get_weights returns) and used rounded to float16 / bfloat16, as Keras'
autocast variables are."""
from __future__ import annotations

import functools

import numpy as np

from . import activations, precision
from .threads import blas_threads_for


# Constructor options that cannot change inference output once weights are set. They are accepted
# (so a framework config loads as is) and documented as having no effect; anything else unknown raises.
NO_EFFECT_OPTIONS = frozenset({
    "name", "trainable", "seed", "unit_forget_bias", "implementation", "use_cudnn",
    "kernel_initializer", "recurrent_initializer", "bias_initializer",
    "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint",
    "input_shape", "batch_input_shape", "batch_size", "input_dim",
})


def unknown_option_error(cls_name, dialect, unknown):
    # The same exception type the framework raises for an unknown constructor argument.
    if dialect == "keras3":
        return ValueError(f"Unrecognized keyword arguments passed to {cls_name}: {unknown}")
    return TypeError(f"Keyword argument not understood by {cls_name} (keras2 dialect): {sorted(unknown)}")


def checked_rates(owner, dropout, recurrent_dropout):
    """(dropout, recurrent_dropout) as floats clipped to [0, 1], as both Keras versions clip them
    (min(1.0, max(0.0, rate))) and report the clipped value in get_config(); at inference the
    rates have no effect either way."""
    rates = []
    for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)):
            raise TypeError(f"{owner}: {name} must be a number in [0, 1], got {rate!r}")
        rates.append(min(1.0, max(0.0, float(rate))))
    return tuple(rates)


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

    # Whether Keras adds the bias after the recurrent product, (x W + h U) + b, rather than to the
    # input projection, (x W + b) + h U. Only rounding tells them apart; the reference follows Keras'
    # order where rounding is coarse (float16, bfloat16) and hoists the bias otherwise (one add for
    # all timesteps).
    BIAS_AFTER_RECURRENT = False

    def __init__(self, units, *, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 dialect="keras3", dtype="float32", dropout=0.0, recurrent_dropout=0.0, **options):
        cls_name = type(self).__name__
        unknown = {k: v for k, v in options.items() if k not in NO_EFFECT_OPTIONS}
        if unknown:
            raise unknown_option_error(cls_name, dialect, unknown)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)):
            raise TypeError(f"{cls_name}: units must be a positive integer, got {units!r}")
        if units <= 0:
            raise ValueError(f"{cls_name}: units must be a positive integer, got {units!r}")
        self.units = int(units)
        self.dialect = dialect
        self.use_bias = bool(use_bias)
        self.dropout, self.recurrent_dropout = checked_rates(cls_name, dropout, recurrent_dropout)
        self._config = {"units": self.units, "activation": activation, "use_bias": self.use_bias,
                        "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}
        if self.DEFAULT_RECURRENT_ACTIVATION is not None:
            self._config["recurrent_activation"] = recurrent_activation
        self.policy = precision.policy(dtype, type(self).__name__)
        self.dtype = self.policy.compute
        self.variable_dtype = self.policy.variable
        self.matmul = precision.matmul_for(self.dtype)
        raw = activations.get(activation, dialect, "activation")
        raw_recurrent = (activations.get(recurrent_activation, dialect, "recurrent_activation")
                         if self.DEFAULT_RECURRENT_ACTIVATION is not None else None)
        if raw_recurrent is not None and recurrent_activation in activations.UNUSABLE[dialect]:
            # Keras applies recurrent_activation to the gates before activation to the candidate
            # (LSTM, GRU, ConvLSTM): where neither can run, it raises the recurrent_activation's error
            raw = raw_recurrent
        rounded = functools.partial(precision.rounding_to, dtype=self.dtype)
        self.activation = rounded(raw)
        self.recurrent_activation = rounded(raw_recurrent) if raw_recurrent is not None else None
        # the same functions, for scratch arrays the step owns (see `overwriting`)
        self.activation_ = rounded(overwriting(raw))
        self.activation_kept = rounded(not_aliasing(raw))
        self.recurrent_activation_ = (rounded(overwriting(raw_recurrent))
                                      if raw_recurrent is not None else None)
        self.kernel = self.recurrent_kernel = self.bias = None
        self._variables = None
        self._gates_elementwise = activations.is_elementwise(raw_recurrent)
        self._bias_in_step = (self.BIAS_AFTER_RECURRENT and self.use_bias
                              and precision.is_low_precision(self.dtype))
        self._config.update(dialect=dialect, dtype=self.policy.name)

    # -- config --------------------------------------------------------------------------------
    def get_config(self):
        return dict(self._config)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"rnnparity.{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._config.items())})"

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
        arrays = checked_weights(weights, self.weight_specs(kernel.shape[0]), owner,
                                 self.variable_dtype, self._shape_hint)
        self._variables = list(arrays.values())
        used = {name: a.astype(self.dtype) for name, a in arrays.items()}  # autocast at use
        self.kernel = used["kernel"]
        self.recurrent_kernel = used["recurrent_kernel"]
        self.bias = used.get("bias")

    def _shape_hint(self, name, shape):
        """Extra words for a weight of the wrong shape (GRU names its other bias layout)."""
        return ""

    def get_weights(self):
        """In the variable dtype (float32 under a mixed-precision policy), like Keras'."""
        return [] if self._variables is None else [w.copy() for w in self._variables]

    @property
    def n_weights(self):
        return 3 if self.use_bias else 2

    @property
    def state_units(self):
        """The width of each state, in state order."""
        return (self.units,) * len(self.STATE_NAMES)

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
            z = self.matmul(x.reshape(batch * steps, features), self.kernel).reshape(batch, steps, -1)
        if self.use_bias and not self._bias_in_step:
            z += self.input_bias()
        return z

    def project_step(self, x_t):
        """`project_inputs` for one timestep (batch, features): the input of a cell stacked on another."""
        return self.project_inputs(x_t[:, None, :])[:, 0]

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
        if w.dtype.kind not in "biuf" and not precision.is_float(w.dtype):
            raise TypeError(f"{owner}: weight {name!r} must hold real numbers, got dtype {w.dtype}")
        arrays[name] = w.astype(dtype)
    return arrays
