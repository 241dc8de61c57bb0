"""Tests of the case generator: counts, the full flag product, pairwise coverage, stable ids, seeds."""
from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from rnnparity.matrix import cases as cm, tiers
from rnnparity.matrix.data import make_plan

DEFAULT = tiers.cases("default")


def test_default_tier_size_and_unique_ids():
    ids = [c.id for c in DEFAULT]
    assert len(ids) == len(set(ids))
    per_target = Counter(c.target for c in DEFAULT)
    assert set(per_target) == set(cm.TARGETS)
    assert len(DEFAULT) >= 1500, per_target


def test_full_flag_product_for_every_layer_wrapper_and_target():
    have = {(c.target, c.layer, c.wrapper, tuple(getattr(c, f) for f in cm.FLAGS))
            for c in DEFAULT if c == cm.Case(layer=c.layer, wrapper=c.wrapper, target=c.target,
                                           **{f: getattr(c, f) for f in cm.FLAGS})}
    want = set(itertools.product(cm.TARGETS, cm.LAYERS, cm.WRAPPERS,
                                 itertools.product((False, True), repeat=4)))
    assert want <= have, sorted(want - have)[:5]
    assert len(want) == 768


AXES = {
    "layer": list(cm.LAYERS), "cell": list(cm.CELLS), "wrapper": list(cm.WRAPPERS),
    "return_sequences": [False, True], "return_state": [False, True],
    "go_backwards": [False, True], "stateful": [False, True], "mask": list(cm.MASKS),
    "initial_state": [False, True], "activation": list(cm.ACTIVATIONS), "use_bias": [True, False],
    "unroll": [False, True], "dropout": [False, True], "time_major": [False, True],
    "dtype": list(cm.DTYPES), "steps": list(cm.STEPS), "batch": list(cm.BATCHES),
}


def _possible(a, va, b, vb):
    probe = cm.Case(**{a: va, b: vb})
    return probe.applicable() and not (probe.unroll and probe.steps == "t100")


@pytest.mark.parametrize("target", cm.TARGETS)
def test_every_pair_of_axis_values_is_covered(target):
    cases = [c for c in DEFAULT if c.target == target]
    seen = set()
    for c in cases:
        for a, b in itertools.combinations(AXES, 2):
            seen.add((a, getattr(c, a), b, getattr(c, b)))
    missing = [(a, va, b, vb) for a, b in itertools.combinations(AXES, 2)
               for va in AXES[a] for vb in AXES[b]
               if _possible(a, va, b, vb) and (a, va, b, vb) not in seen]
    assert not missing, f"{len(missing)} uncovered pairs, e.g. {missing[:5]}"


def test_ids_round_trip_and_are_readable():
    for c in DEFAULT:
        assert tiers.case_of(c.id) == c
        if not c.layer.startswith("conv_lstm"):
            assert cm.case_from_id(c.id) == c
    with pytest.raises(ValueError, match="unknown layer 'conv_lstm2d'"):
        cm.case_from_id("conv_lstm2d-f32-keras3")  # a ConvLSTM id is not a plain Case
    case = cm.Case(layer="lstm", wrapper="bidi_concat", return_sequences=True, return_state=True,
                   go_backwards=True, stateful=True, mask="left", target="keras3")
    assert case.id == "lstm-bidi_concat-seq-state-bwd-stateful-mask_left-f32-keras3"


def test_ids_identical_on_every_generation():
    assert [c.id for c in tiers.cases("default")] == [c.id for c in DEFAULT]


def test_non_canonical_id_is_refused():
    with pytest.raises(ValueError, match="unknown part"):
        cm.case_from_id("lstm-sideways-f32-keras3")


def test_same_stem_same_data_on_every_target():
    a = make_plan(cm.Case(layer="gru", mask="holes", stateful=True, target="keras3"))
    b = make_plan(cm.Case(layer="gru", mask="holes", stateful=True, target="tf_keras"))
    for ca, cb in zip(a.calls, b.calls):
        np.testing.assert_array_equal(ca.x, cb.x)
        np.testing.assert_array_equal(ca.mask, cb.mask)


def test_masks_have_the_promised_patterns():
    case = cm.Case(mask="full_row")
    mask = make_plan(case).calls[0].mask
    assert not mask[-1].any() and mask[0].all()
    left = make_plan(cm.Case(mask="left")).calls[0].mask
    assert left[:, -1].all() and not left[:, 0].all()


def test_stateful_plan_has_reset_and_chunks():
    plan = make_plan(cm.Case(stateful=True, return_sequences=True))
    labels = [getattr(s, "label", "") for s in plan.steps]
    assert labels.count("reset_states()") == 3 and plan.chunk_check == (3, 4, 5)


def test_full_tier_is_a_superset_with_the_product_of_loop_axes():
    full = tiers.cases("full", targets=("keras3",))
    ids = {c.id for c in full}
    assert {c.id for c in DEFAULT if c.target == "keras3"} <= ids
    assert len(full) >= 4 * 6 * 16 * 5 * 2 * 2


# -- the cell axis and mixed precision, added after the first matrix --------------------------------
# The ids of the matrix before them, in order: recordings under fixtures/ are keyed by these ids, so
# adding axes must leave every one of them (and its data and spec) as it was.
LAYER_CASES_COUNT = 3316
LAYER_CASES_SHA256 = "a5b786b2caf84809ccec7cf9f47b83b4c9312b50430b9ba2906ccb23dfe3218b"


def test_ids_before_the_cell_and_precision_axes_are_unchanged():
    import hashlib

    old = [c for c in DEFAULT if c.cell == "layer" and c.policy is None and not c.layer.startswith("conv_lstm")]
    assert [c.id for c in DEFAULT[:len(old)]] == [c.id for c in old], "the new cases come after the old"
    ids = "\n".join(c.id for c in old)
    assert (len(old), hashlib.sha256(ids.encode()).hexdigest()) == (LAYER_CASES_COUNT, LAYER_CASES_SHA256)


def test_layer_spec_of_the_old_cases_has_no_new_keys():
    for c in DEFAULT[:LAYER_CASES_COUNT:7]:
        spec = c.layer_spec().to_dict()
        assert set(spec) == {"class", "config", "wrapper"} and spec["class"] in ("SimpleRNN", "LSTM", "GRU")


def test_full_flag_product_for_every_cell_value_layer_and_target():
    have = {(c.target, c.cell, c.layer, tuple(getattr(c, f) for f in cm.FLAGS))
            for c in DEFAULT if c == cm.Case(layer=c.layer, cell=c.cell, target=c.target,
                                           **{f: getattr(c, f) for f in cm.FLAGS})}
    want = set(itertools.product(cm.TARGETS, ["rnn_cell", "stacked"], cm.LAYERS,
                                 itertools.product((False, True), repeat=4)))
    assert want <= have, sorted(want - have)[:5]


@pytest.mark.parametrize("dtype", ["mixed_f16", "mixed_bf16"])
def test_every_layer_and_flag_combination_in_mixed_precision(dtype):
    have = {(c.target, c.layer, tuple(getattr(c, f) for f in cm.FLAGS)) for c in DEFAULT if c.dtype == dtype}
    assert set(itertools.product(cm.TARGETS, cm.LAYERS, itertools.product((False, True), repeat=4))) <= have


def test_new_ids_are_readable_and_round_trip():
    case = cm.Case(layer="gru", cell="stacked", wrapper="bidi_sum", return_state=True, mask="holes",
                   dtype="mixed_bf16", target="tf_keras")
    assert case.id == "gru-stacked-bidi_sum-state-mask_holes-mixed_bf16-tf_keras"
    assert cm.case_from_id(case.id) == case
    assert cm.case_from_id("lstm-rnn_cell-seq-f32-keras3") == cm.Case(layer="lstm", cell="rnn_cell",
                                                                      return_sequences=True)
    with pytest.raises(ValueError, match="unknown part"):
        cm.case_from_id("lstm-rnn_cells-f32-keras3")


def test_cell_specs_build_rnn_around_cells():
    spec = cm.Case(layer="gru_reset_before", cell="stacked", return_state=True, use_bias=False).layer_spec()
    assert spec.cls == "RNN" and spec.stacked is True
    assert [c["class"] for c in spec.cells] == ["GRUCell", "GRUCell"]
    assert [c["config"]["units"] for c in spec.cells] == list(cm.STACK_UNITS)
    assert all(c["config"]["reset_after"] is False and c["config"]["use_bias"] is False for c in spec.cells)
    assert spec.config == {"return_sequences": False, "return_state": True, "go_backwards": False,
                              "stateful": False, "dtype": "float32"}
    single = cm.Case(layer="lstm", cell="rnn_cell", unroll=True).layer_spec()
    assert single.stacked is False and len(single.cells) == 1 and single.config["unroll"] is True


def test_mixed_precision_specs_name_the_policy_and_keep_float32_inputs():
    case = cm.Case(layer="lstm", wrapper="bidi_concat", dtype="mixed_f16", initial_state=True)
    spec = case.layer_spec()
    assert spec.policy == "mixed_float16" and "dtype" not in spec.config
    plan = make_plan(case)
    assert plan.calls[0].x.dtype == np.float32
    assert all(s.dtype == np.float32 for s in plan.calls[0].initial_state)


def test_stacked_initial_state_has_one_list_per_cell():
    init = make_plan(cm.Case(layer="lstm", cell="stacked", wrapper="bidi_ave", initial_state=True)).calls[0].initial_state
    assert [[s.shape[1] for s in entry] for entry in init] == [[4, 4], [5, 5], [4, 4], [5, 5]]
    init = make_plan(cm.Case(layer="gru", cell="stacked", initial_state=True)).calls[0].initial_state
    assert [[s.shape[1] for s in entry] for entry in init] == [[4], [5]]
