"""assert_parity must catch planted ConvLSTM porting bugs: each bug, planted into the reference with
monkeypatch, makes assert_parity on a live ConvLSTM layer fail; without it the same call passes."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.reference import conv_lstm
from rnnparity.targets import registry
from rnnparity.testing import assert_parity

pytestmark = pytest.mark.live
TARGETS = {"keras3": "keras3", "keras2": "tf_keras"}


def swapped_gate_order(mp):
    """The forget and candidate blocks read in the wrong order (i, c, f, o)."""
    mp.setattr(conv_lstm, "CONV_LSTM_GATES", ("i", "c", "f", "o"))


def flipped_kernel(mp):
    """A true convolution (the kernel flipped along every spatial axis), as scipy.signal.convolve or
    a framework's conv_transpose would compute, instead of Keras' cross-correlation."""
    original = conv_lstm.cross_correlate

    def convolve(x, kernel, *args, **kwargs):
        rank = kernel.ndim - 2
        return original(x, np.flip(kernel, axis=tuple(range(rank))), *args, **kwargs)

    mp.setattr(conv_lstm, "cross_correlate", convolve)


BUGS = {"gate_order_i_c_f_o": swapped_gate_order, "kernel_flipped": flipped_kernel}


def live_layer(dialect):
    target = TARGETS[dialect]
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    spec = {"class": "ConvLSTM2D", "config": {"filters": 3, "kernel_size": (3, 2), "padding": "same",
                                              "return_sequences": True, "return_state": True}}
    layer = registry.get(target).build(spec, (2, 3, 5, 6, 2))
    rng = np.random.default_rng(0)  # different for every gate, filter and kernel tap
    layer.set_weights([rng.uniform(-0.6, 0.6, np.shape(w)).astype("float32") for w in layer.get_weights()])
    x = rng.standard_normal((2, 3, 5, 6, 2)).astype("float32")
    return layer, x


@pytest.mark.parametrize("dialect", sorted(TARGETS))
@pytest.mark.parametrize("bug", [None, *BUGS])
def test_planted_conv_lstm_bug_is_caught(bug, dialect, monkeypatch):
    layer, x = live_layer(dialect)
    if bug is None:  # the control: no bug, parity holds
        assert_parity(layer, x)
        return
    BUGS[bug](monkeypatch)
    with pytest.raises(AssertionError, match=r"output \[0\] = whole sequence output"):
        assert_parity(layer, x)  # the rounding verdict must not excuse it either
