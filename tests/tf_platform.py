"""What this machine's TensorFlow does where it depends on the CPU: probes, run on the live framework
(the oracle), that tests use to decide which registered platform behaviour applies here."""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=None)
def _bfloat16_matmul_mode(tf) -> str:
    """How TF's bfloat16 MatMul rounds its float32 product here: "nearest" (even), "toward zero"
    (truncation), or "other". A 7x13 @ 13x20 product tells them apart on dozens of elements."""
    import ml_dtypes

    bf16 = ml_dtypes.bfloat16
    rng = np.random.RandomState(0)
    a, b = (rng.uniform(-1, 1, size=s).astype(bf16) for s in ((7, 13), (13, 20)))
    theirs = tf.matmul(a, b).numpy().astype(np.float32)
    exact = np.ascontiguousarray(a.astype(np.float32) @ b.astype(np.float32))
    nearest = exact.astype(bf16).astype(np.float32)
    toward_zero = (exact.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    if np.array_equal(theirs, nearest):
        return "nearest"
    return "toward zero" if np.array_equal(theirs, toward_zero) else "other"


def bfloat16_matmul_mode(tf) -> str:
    return _bfloat16_matmul_mode(tf)


def expect_bfloat16_platform_bug(request, tf):
    """Where this CPU's TF truncates bfloat16 MatMul results, the test that follows is a strict xfail
    naming the registered entry (it XPASSes, and fails, wherever TF rounds to nearest)."""
    from rnnparity.check.divergences import PLATFORM_BUGS

    mode = bfloat16_matmul_mode(tf)
    assert mode in ("nearest", "toward zero"), f"TF's bfloat16 MatMul rounds neither way here: {mode}"
    if mode == "toward zero":
        bug = PLATFORM_BUGS["bfloat16_matmul"]
        request.applymarker(pytest_xfail(bug))


def pytest_xfail(bug):
    import pytest

    return pytest.mark.xfail(strict=True, reason=bug.xfail_reason())
