"""Which ConvLSTM cases the registry names (its predicates, without a framework): the keras3-openvino
mask bug (rnnparity.check.mask_broadcast) and where tf_keras' ignored zero_output_for_mask shows. What
the frameworks really do with each kind of case is measured in tests/test_target_openvino.py,
tests/test_conv_lstm_live.py and by the matrix (strict xfails)."""
from __future__ import annotations

import pytest

from rnnparity.check.divergences import divergence_for
from rnnparity.check.mask_broadcast import conv_lstm_mask_misapplied
from rnnparity.matrix.tiers import case_of

KEY = "keras3-openvino-conv-lstm-mask-broadcast"


@pytest.mark.parametrize("stem, hit", [
    # the state's second-to-last axis is neither 1 nor the batch: OpenVINO refuses the Select
    ("conv_lstm1d-seq-mask_right-init-f32", True),          # (2, 5, 2): 5
    ("conv_lstm2d-bidi_ave-k3-mask_holes-f32", True),       # (2, 5, 4, 2): 4
    # it is the batch: wrong values where the rows' masks differ at a step, right ones where not
    ("conv_lstm1d-seq-cf-mask_right-f32", True),            # (2, 2, 5): the filters axis
    ("conv_lstm1d-seq-k3-s2-valid-mask_right-f32", True),   # (2, 2, 2)
    ("conv_lstm1d-seq-k3-s2-valid-mask_holes-f32", False),  # the seeded holes mask the rows alike
    ("conv_lstm1d-seq-cf-mask_right-f32-t1", False),        # T=1: no step masked
    # it is 1: the state broadcasts to a new shape
    ("conv_lstm3d-seq-k3-s2-valid-cf-mask_right-f32", True),  # (2, 2, 1, 1, 2)
    # batch 1, no mask, refused configurations: nothing selects wrongly
    ("conv_lstm2d-seq-mask_left-f32-b1", False),
    ("conv_lstm2d-seq-state-f32", False),
    ("conv_lstm2d-seq-s2-d2-mask_right-f32", False),        # strides with dilation: refused
    ("conv_lstm2d-bidi_concat-bwd-mask_right-f32", False),  # Bidirectional(go_backwards): refused
])
def test_the_predicate_names_the_cases_the_backend_gets_wrong(stem, hit):
    case = case_of(f"{stem}-keras3-openvino")
    assert conv_lstm_mask_misapplied(case) is hit
    assert (divergence_for(case) is not None and divergence_for(case).key == KEY) is hit


def test_only_keras3_openvino_and_only_conv_lstm():
    assert divergence_for(case_of("conv_lstm1d-seq-mask_right-init-f32-keras3")) is None
    assert divergence_for(case_of("conv_lstm1d-seq-mask_right-init-f32-tf_keras")) is None
    assert not conv_lstm_mask_misapplied(case_of("lstm-seq-mask_right-f32-keras3-openvino"))


@pytest.mark.parametrize("stem, hit", [
    ("conv_lstm2d-bidi_sum-seq-mask_left-f32", True),  # the backward half repeats an output
    # merge_mode='mul': one factor is 0 at a leading or trailing masked step either way
    ("conv_lstm2d-bidi_mul-seq-state-stateful-mask_left-f32", False),
    ("conv_lstm1d-bidi_mul-seq-mask_right-f32", False),
    ("conv_lstm1d-bidi_mul-seq-k1-mask_holes-f32", True),  # row 1 masked at step 1 only: a hole
    ("conv_lstm1d-bidi_mul-seq-mask_holes-f32-t1", False),
])
def test_tf_keras_ignored_zero_output_shows_where_the_merge_lets_it(stem, hit):
    found = divergence_for(case_of(f"{stem}-tf_keras"))
    assert (found is not None and found.key == "tf_keras-conv-lstm-ignores-zero-output-for-mask") is hit


@pytest.mark.parametrize("target", ["keras3-numpy", "keras3-jax"])
def test_the_numpy_and_jax_mask_bug_spares_batch_1(target):
    """keras3-backend-conv-lstm-mask-broadcast: the same (batch, 1) select (NumPy's and jax's where),
    so the same cases; batch 1 agrees (measured: the full tier's masked ConvLSTM cases)."""
    key = "keras3-backend-conv-lstm-mask-broadcast"
    assert divergence_for(case_of(f"conv_lstm1d-seq-cf-mask_right-f32-{target}")).key == key
    assert divergence_for(case_of(f"conv_lstm2d-bidi_concat-stateful-valid-d2-cf-mask_left-f32-b1-{target}")) is None
