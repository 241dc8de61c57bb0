"""The one tolerance table. An element passes when |reference - framework| <= atol + rtol * |framework|.

float32: the reference computes in float32 like the framework; only summation order differs (NumPy vs
oneDNN matmuls, input projection hoisted out of the loop), a few ULPs per step.
float64: the same maths in double precision; agreement near 1e-12 proves the semantics are identical.
float16: rounding of every op is visible; float16 is compared for structure and coarse values only.
"""
from __future__ import annotations

import numpy as np

TOLERANCES = {
    "float16": {"atol": 2e-2, "rtol": 2e-2},
    "float32": {"atol": 1e-6, "rtol": 1e-6},
    "float64": {"atol": 1e-12, "rtol": 1e-12},
}


def tolerance(dtype) -> dict:
    name = np.dtype(dtype).name
    if name not in TOLERANCES:
        raise ValueError(f"no tolerance for dtype {name}; known: {sorted(TOLERANCES)}")
    return TOLERANCES[name]
