"""Built-in Keras activations, per dialect, in NumPy.

`keras3` follows keras/src/activations/activations.py (Keras 3), `keras2` follows
tf_keras/src/activations.py (Keras 2). Where the same name means different maths the dialect decides:
the notable one is ``hard_sigmoid`` (Keras 2: clip(0.2 x + 0.5), Keras 3: relu6(x + 3) / 6).

Every function keeps the dtype of its input: the reference computes in the layer's dtype so that only
rounding, never promotion, separates it from the framework.
"""
from __future__ import annotations

import math

import numpy as np

DIALECTS = ("keras3", "keras2")

_erfc = np.frompyfunc(math.erfc, 1, 1)

# TensorFlow rounds these Python constants to float32 before casting them to the input dtype
# (`tf.cast(0.7071067811865476, dtype)` makes a float32 weak tensor first; leaky_relu's alpha is a
# float32 attribute), so float64 layers use the float32-rounded values.
_INV_SQRT2 = float(np.float32(0.7071067811865476))
_LEAKY_SLOPE = float(np.float32(0.2))


def _c(x, value):
    """A Python constant in x's dtype (avoids silent float64 promotion)."""
    return np.asarray(value, dtype=x.dtype)


def linear(x):
    return x


def tanh(x, out=None):
    return np.tanh(x, out=out)


def sigmoid(x, out=None):
    # 1 / (1 + exp(-x)), as Eigen computes it for double, in four in-place passes (``out=x``
    # overwrites x: the cells pass scratch gate blocks). exp(-x) overflows to inf below x ~ -88
    # (float32) / -709 (float64), where the result is 0, as it should be: no warning for it.
    # float32: within 1.2e-7 of the exact value and of tf.nn.sigmoid (tests/test_bench_smoke.py),
    # and 1.6-3x faster than the equivalent 0.5 * tanh(0.5 x) + 0.5, whose tail also loses its
    # relative accuracy: it rounds to exactly 0 below x ~ -17 (float32) / -37 (float64), where
    # TensorFlow gives e^x (swish/silu of very negative values in an exploding recurrence showed it,
    # found by rnnparity explore).
    if x.dtype.itemsize <= 2:
        return _logistic_rounded(x, out)
    with np.errstate(over="ignore"):
        out = np.negative(x, out=out)
        np.exp(out, out=out)
    out += 1
    return np.reciprocal(out, out=out)


def _logistic_rounded(x, out=None):
    """Sigmoid in float16 / bfloat16 as TensorFlow computes it (Eigen's scalar_logistic_op): e = exp(x),
    then e / (1 + e), every op rounded to the dtype, and 1 where e overflows. Measured over every
    finite float16 and bfloat16 value: equal to tf.nn.sigmoid but for 2 float16 values (one ULP) and
    bfloat16 subnormals (tests/test_precision.py). The float32 formula above, rounded, differs from
    TF by one ULP on 22% of float16 values."""
    one = _c(x, 1)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(x)
        y = np.divide(e, one + e)
    y = np.where(np.isinf(e), one, y)
    if out is None:
        return y
    out[...] = y
    return out


def relu(x):
    return np.maximum(x, _c(x, 0))


def relu6(x):
    return np.clip(x, _c(x, 0), _c(x, 6))


def hard_sigmoid_keras3(x):
    # keras3: relu6(x + 3) / 6
    return relu6(x + _c(x, 3)) / _c(x, 6)


def hard_sigmoid_keras2(x):
    # tf_keras backend.hard_sigmoid: clip(0.2 * x + 0.5, 0, 1)
    return np.clip(_c(x, 0.2) * x + _c(x, 0.5), _c(x, 0), _c(x, 1))


def hard_silu(x):
    return x * hard_sigmoid_keras3(x)


def hard_tanh(x):
    return np.clip(x, _c(x, -1), _c(x, 1))


def exponential(x):
    return np.exp(x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, _c(x, alpha) * np.expm1(np.minimum(x, _c(x, 0))))


def celu(x, alpha=1.0):
    a = _c(x, alpha)
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, _c(x, 0)) / a))


def selu(x):
    # constants from Klambauer et al. 2017, as in both Keras versions
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return _c(x, scale) * elu(x, alpha)


def softplus(x):
    return np.logaddexp(_c(x, 0), x).astype(x.dtype, copy=False)


def softsign(x):
    return x / (_c(x, 1) + np.abs(x))


def silu(x):
    return x * sigmoid(x)


def mish(x):
    return x * np.tanh(softplus(x))


def gelu(x):
    # approximate=False, the default for the string "gelu" in both dialects; tf.nn.gelu computes
    # 0.5 * x * erfc(-x / sqrt(2))
    x64 = x.astype(np.float64)
    tail = _erfc(-x64 * _INV_SQRT2).astype(np.float64)
    return (0.5 * x64 * tail).astype(x.dtype)


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def log_softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def leaky_relu(x):
    # keras3 activations.leaky_relu(x, negative_slope=0.2)
    return np.where(x >= 0, x, _c(x, _LEAKY_SLOPE) * x)


def log_sigmoid(x):
    return -softplus(-x)


def hard_shrink(x):
    return np.where(np.abs(x) > _c(x, 0.5), x, _c(x, 0))


def soft_shrink(x):
    t = _c(x, 0.5)
    return np.where(x > t, x - t, np.where(x < -t, x + t, _c(x, 0)))


def tanh_shrink(x):
    return x - np.tanh(x)


def sparse_plus(x):
    one = _c(x, 1)
    return np.where(x <= -one, _c(x, 0), np.where(x >= one, x, (x + one) ** 2 / _c(x, 4)))


def sparse_sigmoid(x):
    one = _c(x, 1)
    return np.where(x <= -one, _c(x, 0), np.where(x >= one, one, _c(x, 0.5) * (x + one)))


def squareplus(x):
    # keras3 squareplus(x, b=4)
    return (x + np.sqrt(x * x + _c(x, 4))) / _c(x, 2)


def sparsemax(x):
    """Martins & Astudillo 2016, over the last axis."""
    z = np.sort(x, axis=-1)[..., ::-1]
    k = np.arange(1, x.shape[-1] + 1, dtype=x.dtype)
    cumsum = np.cumsum(z, axis=-1)
    support = (1 + k * z) > cumsum
    k_z = np.sum(support, axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumsum, k_z - 1, axis=-1) - 1) / k_z.astype(x.dtype)
    return np.maximum(x - tau, _c(x, 0))


# Names each dialect resolves from a string. Aliases map to the same function.
_COMMON = {
    "linear": linear, "tanh": tanh, "sigmoid": sigmoid, "relu": relu, "elu": elu, "selu": selu,
    "softplus": softplus, "softsign": softsign, "exponential": exponential, "swish": silu,
    "gelu": gelu, "softmax": softmax, "mish": mish,
}
_TABLES = {
    "keras2": {**_COMMON, "hard_sigmoid": hard_sigmoid_keras2},
    "keras3": {
        **_COMMON, "hard_sigmoid": hard_sigmoid_keras3, "silu": silu, "relu6": relu6,
        "hard_silu": hard_silu, "hard_swish": hard_silu, "hard_tanh": hard_tanh, "celu": celu,
        "leaky_relu": leaky_relu, "log_sigmoid": log_sigmoid, "log_softmax": log_softmax,
        "hard_shrink": hard_shrink, "soft_shrink": soft_shrink, "tanh_shrink": tanh_shrink,
        "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid, "squareplus": squareplus,
        "sparsemax": sparsemax,
    },
}

# Built-in names that exist in a dialect but cannot be an RNN activation. Like the framework, the
# layer builds and the error comes when it runs: (exception type, why).
UNUSABLE = {
    "keras3": {
        "glu": (ValueError, "glu halves the last axis, so the recurrent state would change shape"),
        "threshold": (TypeError, "threshold() needs `threshold` and `default_value` arguments a "
                                 "string cannot give"),
    },
    "keras2": {},
}


def _refuse_when_called(option, name, error, why):
    def activation(x):
        raise error(f"{option}={name!r} cannot run in a recurrent layer: {why}")
    return activation


def names(dialect: str) -> tuple[str, ...]:
    """The activation strings the reference models for a dialect."""
    return tuple(sorted(_TABLES[_check_dialect(dialect)]))


def _check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: expected one of {DIALECTS}")
    return dialect


def get(name, dialect: str, option: str = "activation"):
    """Resolve an activation given by name (or None, meaning linear) for a dialect.

    Raises ValueError naming the option for unknown, unusable or custom (callable) activations.
    """
    table = _TABLES[_check_dialect(dialect)]
    if name is None:
        return linear
    if callable(name):
        raise ValueError(
            f"{option}={name!r}: custom activation callables are not modelled by the reference; "
            f"use one of the built-in names: {', '.join(sorted(table))}")
    if not isinstance(name, str):
        raise TypeError(f"{option} must be a string naming a built-in activation, got {type(name).__name__}")
    if name in UNUSABLE[dialect]:
        return _refuse_when_called(option, name, *UNUSABLE[dialect][name])
    if name not in table:
        raise ValueError(
            f"{option}={name!r} is not a built-in {dialect} activation modelled by the reference; "
            f"known: {', '.join(sorted(table))}")
    return table[name]


# Activations that normalise over the last axis: applied to a gate block they must see that block
# alone. Every other built-in is elementwise (cells may apply those to several gate blocks at once).
_ROW_WISE = (softmax, log_softmax, sparsemax)


def is_elementwise(fn) -> bool:
    return fn is not None and not any(fn is f for f in _ROW_WISE)
