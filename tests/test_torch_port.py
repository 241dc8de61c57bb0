"""rnnparity.port.torch: Keras layers as torch.nn modules. The oracle is Keras itself: the port's
outputs must equal the live layer's (the `torch` target runs the whole matrix it can express:
`pytest --pyargs rnnparity --rnnparity-targets torch`); what torch cannot express is refused by name.
Without torch installed, every test here is skipped naming it."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry

B, T, F, U = 3, 6, 3, 4


def _needs_torch():
    ok, reason = registry.availability("torch")
    if not ok:
        pytest.skip(reason)


def _layer(make):
    _needs_torch()
    K = registry.get("keras3").K
    layer = make(K.layers)
    layer.build((B, T, F))
    rng = np.random.RandomState(1)
    layer.set_weights([rng.uniform(-0.6, 0.6, np.shape(w)).astype("float32") for w in layer.get_weights()])
    return layer, rng.normal(size=(B, T, F)).astype("float32")


def _same(keras_out, port_out):
    keras_out = keras_out if isinstance(keras_out, (list, tuple)) else [keras_out]
    port_out = port_out if isinstance(port_out, (list, tuple)) else [port_out]
    assert len(keras_out) == len(port_out)
    for k, p in zip(keras_out, port_out):
        np.testing.assert_allclose(np.asarray(k), p, atol=1e-6, rtol=1e-6)


@pytest.mark.live
@pytest.mark.parametrize("make", [
    lambda L: L.LSTM(U, return_sequences=True, return_state=True),
    lambda L: L.GRU(U, return_sequences=True, return_state=True, go_backwards=True),
    lambda L: L.SimpleRNN(U, return_state=True, activation="relu", use_bias=False),
    lambda L: L.Bidirectional(L.LSTM(U, return_sequences=True, return_state=True), merge_mode="sum"),
    lambda L: L.Bidirectional(L.GRU(U, return_state=True), merge_mode=None),
], ids=["lstm", "gru-bwd", "simple_rnn-relu-nobias", "bidi_sum-lstm", "bidi_none-gru"])
def test_port_matches_keras_with_and_without_a_right_padded_mask(make):
    from rnnparity.port.torch import to_torch

    layer, x = _layer(make)
    port = to_torch(layer)
    _same(layer(x), port(x))
    if not getattr(layer, "go_backwards", False):
        mask = np.arange(T)[None, :] < np.array([T, 4, 2])[:, None]
        _same(layer(x, mask=mask), port(x, mask))


@pytest.mark.live
def test_gru_weights_are_reordered_r_z_n_and_the_biases_split():
    from rnnparity.port.torch import to_torch

    layer, _ = _layer(lambda L: L.GRU(U))
    kernel, recurrent, bias = layer.get_weights()
    module = to_torch(layer).module
    z, r, h = np.split(kernel, 3, axis=-1)
    np.testing.assert_array_equal(module.weight_ih_l0.detach().numpy(), np.concatenate([r, z, h], -1).T)
    np.testing.assert_array_equal(module.bias_hh_l0.detach().numpy(), np.concatenate(
        [np.split(bias[1], 3)[i] for i in (1, 0, 2)]))


@pytest.mark.live
@pytest.mark.parametrize("make,named", [
    (lambda L: L.GRU(U, reset_after=False), "GRU reset_after=False"),
    (lambda L: L.LSTM(U, recurrent_activation="hard_sigmoid"), "recurrent_activation='hard_sigmoid'"),
    (lambda L: L.LSTM(U, activation="relu"), "activation='relu'"),
    (lambda L: L.RNN([L.LSTMCell(2), L.LSTMCell(U)]), "cell StackedRNNCells"),
])
def test_what_torch_cannot_express_is_refused_by_name(make, named):
    from rnnparity.port.torch import Unsupported, to_torch

    layer, _ = _layer(make)
    with pytest.raises(Unsupported, match=f"the torch port cannot express {named}".replace("(", r"\(")):
        to_torch(layer)


@pytest.mark.live
def test_masks_a_packed_sequence_cannot_hold_are_refused_by_name():
    from rnnparity.port.torch import Unsupported, to_torch

    layer, x = _layer(lambda L: L.LSTM(U))
    port = to_torch(layer)
    left = (np.arange(T)[None, :] < np.array([T, 4, 2])[:, None])[:, ::-1]
    with pytest.raises(Unsupported, match="not right-padded"):
        port(x, left)
    empty = np.ones((B, T), bool)
    empty[2] = False
    with pytest.raises(Unsupported, match="a fully masked sample"):
        port(x, empty)


def test_the_torch_target_is_selected_whenever_torch_is_installed():
    info = registry.info("torch")
    assert info.requires == ("tensorflow", "keras", "torch") and info.auto and not info.default
    assert ("torch" in registry.default_targets()) == registry.availability("torch")[0]


def test_cannot_express_names_the_option_for_cases_the_port_refuses():
    from rnnparity.matrix.cases import case_from_id

    said = registry.cannot_express(case_from_id("gru_reset_before-seq-f32-torch"))
    assert said.startswith("GRU reset_after=False")
    assert "right-padded" in registry.cannot_express(case_from_id("lstm-seq-mask_left-f32-torch"))
    assert registry.cannot_express(case_from_id("lstm-bidi_concat-seq-state-mask_right-f32-torch")) is None


@pytest.mark.live
def test_go_backwards_over_one_timestep():
    """The flipped one-step input has a negative stride, which torch.from_numpy refused."""
    from rnnparity.port.torch import to_torch

    layer, x = _layer(lambda L: L.GRU(U, return_sequences=True, go_backwards=True))
    _same(layer(x[:, :1]), to_torch(layer)(x[:, :1]))


@pytest.mark.live
def test_float64_bidirectional_sees_the_input_rounded_to_the_wrappers_float32():
    """Keras casts a Bidirectional's input to the wrapper's dtype (float32) before the float64
    sub-layers cast it back: the float64 states differed by 1e-8 without that rounding."""
    from rnnparity.port.torch import to_torch

    layer, x = _layer(lambda L: L.Bidirectional(L.LSTM(U, return_state=True, dtype="float64")))
    x = x.astype("float64") + 1e-9
    out, port = layer(x), to_torch(layer)(x)
    for k, p in zip(out, port):
        np.testing.assert_allclose(np.asarray(k), p, atol=1e-12, rtol=1e-12)
