"""The ConvLSTM cases of the matrix (matrix/conv_lstm_cases.py): what each tier holds, readable ids
that round-trip, pairwise coverage of the convolution's axes, and seeded plans. No framework."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnparity.matrix import cases as cm
from rnnparity.matrix import conv_lstm_cases as cl
from rnnparity.matrix import tiers

TARGETS = ("keras3", "tf_keras")
DEFAULT = [c for c in tiers.cases("default", TARGETS) if isinstance(c, cl.ConvLstmCase)]


def test_default_tier_holds_the_flag_product_per_rank_and_every_merge_mode():
    for target, rank in itertools.product(TARGETS, cl.RANKS):
        mine = [c for c in DEFAULT if c.target == target and c.rank == rank]
        plain = {tuple(getattr(c, f) for f in cm.FLAGS) for c in mine if c.wrapper == "none"
                 and c.kernel == "k2" and c.mask == "none" and c.dtype == "f32" and c.strides == "s1"}
        assert plain == set(cm.flag_product())
        assert {c.wrapper for c in mine} == set(cm.WRAPPERS)
    assert len(DEFAULT) == 2 * 86  # sized to the CI budget (about 30 s of CPU for both targets)


def test_the_covering_array_holds_every_pair_of_values():
    rows = cl.pairwise_rows()
    valid = [dict(zip(cl.OTHER_AXES, v)) for v in itertools.product(*cl.OTHER_AXES.values())]
    valid = [r for r in valid if cl.valid_row(r)]
    for a, b in itertools.combinations(cl.OTHER_AXES, 2):
        wanted = {(r[a], r[b]) for r in valid}
        assert wanted == {(r[a], r[b]) for r in rows}, (a, b)
    assert len(rows) <= 25


def test_strides_with_dilation_is_a_case_for_every_rank():
    both = [c for c in DEFAULT if c.strides == "s2" and c.dilation == "d2"]
    assert {(c.rank, c.target) for c in both} == set(itertools.product(cl.RANKS, TARGETS))


def test_ids_round_trip_and_read_well():
    for c in DEFAULT:
        assert cl.ConvLstmCase.from_id(c.id) == c == tiers.case_of(c.id)
    case = cl.ConvLstmCase(layer="conv_lstm3d", wrapper="bidi_sum", return_sequences=True, kernel="k3",
                           strides="s2", padding="valid", data_format="cf", mask="left", dtype="f64",
                           batch="b1", target="tf_keras")
    assert case.id == "conv_lstm3d-bidi_sum-seq-k3-s2-valid-cf-mask_left-f64-b1-tf_keras"
    assert case.input_shape == (1, 3, 2, 3, 4, 5)
    for bad in ("conv_lstm4d-f32-keras3", "conv_lstm2d-k9-f32-keras3", "conv_lstm2d-s1-f32-keras3"):
        with pytest.raises(ValueError):
            cl.ConvLstmCase.from_id(bad)


def test_plans_are_seeded_and_shaped_like_the_layer():
    case = cl.ConvLstmCase(layer="conv_lstm2d", stateful=True, initial_state=True, mask="holes",
                           strides="s2", padding="valid", kernel="k3", data_format="cf")
    a, b = cl.make_plan(case), cl.make_plan(case)
    assert [type(s).__name__ for s in a.steps] == ["Call", "Call", "Reset", "Call"]
    assert np.array_equal(a.calls[0].x, b.calls[0].x) and a.calls[0].x.shape == case.input_shape
    assert [s.shape for s in a.calls[0].initial_state] == [(2, 2, 2, 1)] * 2  # (batch, filters, out)
    assert a.calls[0].mask.shape == (2, 3)


def test_conformance_table_counts_every_conv_lstm_case():
    """The conformance table's ConvLSTM rows cover each target's ConvLSTM cases, once each."""
    from rnnparity.report import conformance
    from rnnparity.matrix import tiers

    grid = conformance.cells(("keras3", "tf_keras"))
    for target in ("keras3", "tf_keras"):
        cases = [c for c in tiers.cases(conformance.table_tier(target), (target,)) if c.layer.startswith("conv_lstm")]
        rows = [grid.get((f"layer `ConvLSTM{r}D`", target)) for r in (1, 2, 3)]
        assert sum(sum(row["counts"].values()) for row in rows) == len(cases) > 0
        channels_first = grid[("ConvLSTM `data_format='channels_first'`", target)]
        assert sum(channels_first["counts"].values()) == sum(c.data_format == "cf" for c in cases) > 0
