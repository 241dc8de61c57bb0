"""Tests of the case generator: counts, the full flag product, pairwise coverage, stable ids, seeds."""
from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from rnnparity import cases as cm
from rnnparity.data import make_plan

DEFAULT = cm.cases("default")


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
    "layer": list(cm.LAYERS), "wrapper": list(cm.WRAPPERS),
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
        assert cm.case_from_id(c.id) == c
    case = cm.Case(layer="lstm", wrapper="bidi_concat", return_sequences=True, return_state=True,
                   go_backwards=True, stateful=True, mask="left", target="keras3")
    assert case.id == "lstm-bidi_concat-seq-state-bwd-stateful-mask_left-f32-keras3"


def test_ids_identical_on_every_generation():
    assert [c.id for c in cm.cases("default")] == [c.id for c in DEFAULT]


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
    full = cm.cases("full", targets=("keras3",))
    ids = {c.id for c in full}
    assert {c.id for c in DEFAULT if c.target == "keras3"} <= ids
    assert len(full) >= 4 * 6 * 16 * 5 * 2 * 2
