"""Which ConvLSTM cases the registry names (its predicates, without a framework): where tf_keras'
ignored zero_output_for_mask shows. What the framework really does is measured in
tests/test_conv_lstm_live.py and by the matrix (strict xfails)."""
from __future__ import annotations

import pytest

from rnnparity.check.divergences import divergence_for
from rnnparity.matrix.tiers import case_of


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
