"""Tests of the comparer itself: structure first, then shape, dtype, values; messages that explain."""
from __future__ import annotations

import numpy as np

from rnnparity.check.compare import Stats, compare_array, compare_outputs
from rnnparity.check.tolerances import TOLERANCES, tolerance

A = np.linspace(-1, 1, 2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)


def test_structure_mismatch_is_reported_first_with_names():
    problems = compare_outputs((A, A[:, -1]), (A,), names=["whole sequence", "final h"])
    assert len(problems) == 1 and problems[0].kind == "structure"
    assert "a tuple of 2 arrays" in problems[0].message and "[1] final h" in problems[0].message
    assert compare_outputs([A], (A,))[0].kind == "structure"  # list vs tuple is a difference


def test_shape_then_dtype():
    assert compare_array(A, A[:, :3], "out").kind == "shape"
    assert compare_array(A, A.astype(np.float64), "out").kind == "dtype"


def test_value_mismatch_names_worst_element_and_first_timestep():
    b = A.copy()
    b[1, 2, 0] += 1e-3
    b[0, 3, 2] += 1e-2
    p = compare_array(A, b, "output [0] = whole sequence", time_axis=1)
    assert p.kind == "values"
    assert "2 of 24 elements" in p.message
    assert "at index (0, 3, 2)" in p.message
    assert "first diverging timestep: t=2 (batch 1, unit 0)" in p.message


def test_within_tolerance_passes_and_beyond_fails():
    atol = TOLERANCES["float32"]["atol"]
    zero = np.zeros(3, np.float32)
    assert compare_array(zero, zero + np.float32(atol / 2), "o") is None
    assert compare_array(zero, zero + np.float32(atol * 4), "o") is not None


def test_nan_and_inf_must_match_position():
    a = np.array([1.0, np.nan, np.inf])
    assert compare_array(a, a.copy(), "o") is None
    assert compare_array(a, np.array([1.0, 0.0, np.inf]), "o") is not None
    assert compare_array(a, np.array([1.0, np.nan, -np.inf]), "o") is not None


def test_stats_track_max_errors():
    stats = Stats()
    compare_array(A, A + np.float32(1e-7), "o", stats=stats)
    assert 0 < stats.max_abs < 1e-6 and stats.elements == A.size


def test_long_sequences_use_the_long_row():
    assert tolerance("float32", steps=100)["atol"] > tolerance("float32")["atol"]
    assert tolerance("float32", steps=50) == tolerance("float32")


def test_tolerance_follows_the_coarsest_precision_of_the_computation():
    a = np.zeros(3, np.float32)
    b = a + np.float32(1e-4)
    assert compare_array(a, b, "o") is not None
    assert compare_array(a, b, "o", precision="float16") is None  # computed in float16, cast up
    assert compare_array(a, b, "o", precision="float64") is not None
