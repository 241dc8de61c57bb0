"""The one tolerance table. An element passes when |reference - framework| <= atol + rtol * |framework|.

float32: the reference computes in float32 like the framework; only summation order differs (NumPy vs
oneDNN matmuls, input projection hoisted out of the loop), a few ULPs per step.
float64: the same maths in double precision; agreement near 1e-12 proves the semantics are identical.
float16: rounding of every op is visible (measured max abs error 1e-3 at T <= 7, 7e-4 at T = 100).
"""
from __future__ import annotations

import numpy as np

# Sequences longer than this use the `long` row: over many steps the recurrence itself can amplify
# one-ULP differences (seen: LSTM with activation="linear", T=100, float32: 2.8e-6 at t=85).
LONG_SEQUENCE = 50

LONG_TOLERANCES = {
    "float16": {"atol": 2e-2, "rtol": 2e-2},
    "float32": {"atol": 1e-5, "rtol": 1e-5},
    "float64": {"atol": 1e-11, "rtol": 1e-11},
}

TOLERANCES = {
    "float16": {"atol": 5e-3, "rtol": 5e-3},
    "float32": {"atol": 1e-6, "rtol": 1e-6},
    "float64": {"atol": 1e-12, "rtol": 1e-12},
}


def tolerance(dtype, steps=None, atol=None, rtol=None) -> dict:
    """The tolerance row for a dtype; ``steps`` > LONG_SEQUENCE selects the long-sequence row.

    ``atol``/``rtol`` override the table's value (None keeps it); an overridden row has
    ``"given": True`` so reports can say whose numbers they are."""
    name = np.dtype(dtype).name
    table = LONG_TOLERANCES if steps is not None and steps > LONG_SEQUENCE else TOLERANCES
    if name not in table:
        raise ValueError(f"no tolerance for dtype {name}; known: {sorted(table)}")
    row = table[name]
    given = {k: checked_override(k, v) for k, v in (("atol", atol), ("rtol", rtol)) if v is not None}
    return {**row, **given, "given": True} if given else row


def checked_override(name, value):
    """A user's atol/rtol as a float; ValueError naming it unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number >= 0 (or None for the tolerance table), got {value!r}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (or None for the tolerance table), "
                         f"got {value!r}")
    return float(value)


# -- Rows for the compute dtypes of mixed precision (mixed_float16 reuses the float16 rows) -----------
# bfloat16 keeps 8 significant bits: one rounding of a value near 1 moves it by up to 3.9e-3. The
# reference rounds every op as TensorFlow does (reference/precision.py) and agrees exactly with
# keras 3.15.1 and tf_keras 2.21 on every mixed_bf16 case of the matrix (max abs error 0, T <= 100);
# a sigmoid rounded differently (one ULP on some inputs) already gives 3.9e-3 at T=7 and 8.3e-3 at
# T=100. The rows leave room for another CPU's kernels (about 2.5 ULPs at 1, 10 over long sequences).
TOLERANCES["bfloat16"] = {"atol": 2e-2, "rtol": 2e-2}
LONG_TOLERANCES["bfloat16"] = {"atol": 8e-2, "rtol": 8e-2}
