"""Dtypes and dtype policies: what a layer stores its weights in and what it computes in.

A layer's ``dtype`` is a dtype name (``float32``: weights and compute in float32) or a Keras
mixed-precision policy name: ``mixed_float16`` / ``mixed_bfloat16`` keep the weights (variables) in
float32 and compute in float16 / bfloat16 (keras/src/dtype_policies/dtype_policy.py,
tf_keras/src/mixed_precision/policy.py). How both Keras versions cast (checked on keras 3.15.1 and
tf_keras 2.21):
- the inputs are cast to the compute dtype, and every weight is cast to it where it is used
  (Keras' autocast variables), so the maths runs on compute-dtype-rounded weights;
- outputs and states come out in the compute dtype; stateful states are stored in float32
  variables, but they only ever hold compute-dtype values;
- initial states: Keras 3 casts them to the compute dtype; tf_keras does not, and TensorFlow refuses
  the matmul of a float32 state with a float16 kernel, unless the layer is stateful (its
  _process_inputs casts the states to the compute dtype).

bfloat16 arithmetic comes from the `ml_dtypes` package (installed with TensorFlow and JAX); it is
imported only when a bfloat16 layer is made. NumPy itself has no bfloat16.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# policy name -> (variable dtype, compute dtype)
POLICIES = {
    "float16": ("float16", "float16"),
    "float32": ("float32", "float32"),
    "float64": ("float64", "float64"),
    "bfloat16": ("bfloat16", "bfloat16"),
    "mixed_float16": ("float32", "float16"),
    "mixed_bfloat16": ("float32", "bfloat16"),
}
LOW_PRECISION = ("float16", "bfloat16")


def bfloat16():
    """NumPy's bfloat16 dtype (from ml_dtypes); a clear error naming the package when it is missing."""
    try:
        import ml_dtypes
    except ImportError:
        raise ValueError("bfloat16 needs the `ml_dtypes` package (pip install ml_dtypes; TensorFlow "
                         "and JAX install it): NumPy has no bfloat16") from None
    return np.dtype(ml_dtypes.bfloat16)


def as_dtype(name) -> np.dtype:
    return bfloat16() if name == "bfloat16" else np.dtype(name)


@dataclass(frozen=True)
class Policy:
    name: str
    variable: np.dtype
    compute: np.dtype

    @property
    def mixed(self) -> bool:
        return self.variable != self.compute


def policy(dtype, owner="layer") -> Policy:
    """The Policy for a dtype or policy name (also accepts a NumPy dtype)."""
    name = dtype
    if not isinstance(name, str):
        try:
            name = np.dtype(dtype).name
        except TypeError:
            raise TypeError(f"{owner}: dtype must be a dtype or dtype policy name, got {dtype!r}") from None
    if name not in POLICIES:
        raise ValueError(f"{owner}: dtype={name!r} is not modelled; use one of {tuple(POLICIES)}")
    variable, compute = POLICIES[name]
    return Policy(name, as_dtype(variable), as_dtype(compute))


def is_float(dtype) -> bool:
    """Floating point, bfloat16 included (ml_dtypes' bfloat16 is not a NumPy `floating` subtype)."""
    dtype = np.dtype(dtype)
    return np.issubdtype(dtype, np.floating) or dtype.name == "bfloat16"


def is_low_precision(dtype) -> bool:
    return np.dtype(dtype).name in LOW_PRECISION


def _matmul_via_float32(a, b):
    # ml_dtypes has no bfloat16 matmul (NumPy returns float32); TensorFlow's CPU bfloat16 MatMul
    # accumulates in float32 and rounds the result once (measured: identical to this).
    return (a.astype(np.float32) @ b.astype(np.float32)).astype(a.dtype)


def matmul_for(dtype):
    """The matrix product for a compute dtype, rounding like TensorFlow's: float16 `@` in NumPy
    already accumulates in float32 and rounds once, as TF does; bfloat16 needs the float32 detour."""
    return _matmul_via_float32 if np.dtype(dtype).name == "bfloat16" else np.matmul


def rounding_to(fn, dtype):
    """``fn`` whose result is rounded back to ``dtype``: with ml_dtypes' bfloat16 some NumPy functions
    (np.clip, products with Python floats) return float32; TensorFlow rounds every op's result to the
    op's dtype."""
    if np.dtype(dtype).name != "bfloat16":
        return fn

    def rounded(x, *args, **kwargs):
        return np.asarray(fn(x, *args, **kwargs)).astype(dtype, copy=False)
    rounded.__wrapped__ = fn
    return rounded
