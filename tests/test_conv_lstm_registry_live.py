"""The divergence registry's view of a live ConvLSTM call (divergences.call_view, used by
assert_parity and check_model) carries the fields its ConvLSTM entries read: rank, data_format,
strides, dilation and the call's own mask. Without them a masked tf_keras Bidirectional ConvLSTM made
the lookup itself crash (it built the matrix's plan from the view) and a Keras 3 channels_first
ConvLSTM2D failed as a bare UnimplementedError instead of its registered bug."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.testing import KnownFrameworkBug, assert_parity

pytestmark = pytest.mark.live


def _layers(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    return registry.get(target).K.layers


def test_a_masked_tf_keras_bidirectional_convlstm_names_its_registered_bug():
    layers = _layers("tf_keras")
    layer = layers.Bidirectional(layers.ConvLSTM1D(1, 1, return_sequences=True))
    x = np.random.default_rng(0).standard_normal((1, 3, 2, 1)).astype("float32")
    mask = np.array([[True, False, True]])  # a masked step after a valid one
    layer(x, mask=mask)
    with pytest.raises(KnownFrameworkBug, match="tf_keras-conv-lstm-ignores-zero-output-for-mask"):
        assert_parity(layer, x, mask=mask)


def test_a_keras3_channels_first_convlstm2d_names_its_registered_bug():
    layers = _layers("keras3")
    layer = layers.ConvLSTM2D(1, 1, data_format="channels_first")
    with pytest.raises(KnownFrameworkBug, match="keras3-conv-lstm-channels-first-cpu"):
        assert_parity(layer, np.ones((1, 2, 1, 3, 3), "float32"))
