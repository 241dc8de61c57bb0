"""The ConvLSTM reference without a framework: what it refuses (naming the option), the shapes it
returns per padding, stride and data_format (the same as rp.explain's), its config round trip and
its Bidirectional structure. Values are checked against live Keras in test_conv_lstm_live.py."""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.reference.conv import same_padding


def seeded(ref, channels, seed=0):
    rng = np.random.default_rng(seed)
    ref.set_weights([rng.uniform(-0.5, 0.5, shape).astype("float32")
                     for _, shape in ref.cell.weight_specs(channels)])
    return ref


def test_public_names():
    assert {"ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"} <= set(rp.__all__)
    assert rp.ConvLSTM2D.rank == 2 and rp.ConvLSTM3D(2, 3).cell.kernel_size == (3, 3, 3)


def test_same_padding_puts_the_extra_zero_at_the_end():
    assert same_padding(6, 2, 1, 1) == (0, 1)   # even kernel: TF pads after, PyTorch before
    assert same_padding(5, 3, 2, 1) == (1, 1)
    assert same_padding(6, 3, 2, 1) == (0, 1)
    assert same_padding(7, 3, 1, 2) == (2, 2)


@pytest.mark.parametrize("padding,strides,dilation,fmt,expected", [
    ("valid", 1, 1, "channels_last", (2, 3, 4, 4)),
    ("same", 1, 1, "channels_last", (2, 5, 6, 4)),
    ("same", 2, 1, "channels_last", (2, 3, 3, 4)),
    ("valid", 2, 1, "channels_last", (2, 2, 2, 4)),
    ("valid", 1, 2, "channels_last", (2, 1, 2, 4)),
    ("valid", 1, 1, "channels_first", (2, 4, 3, 4)),
])
def test_output_shapes_match_explain(padding, strides, dilation, fmt, expected):
    ref = seeded(rp.ConvLSTM2D(4, 3, strides=strides, padding=padding, dilation_rate=dilation,
                               data_format=fmt, return_state=True), 2)
    shape = (2, 3, 5, 6, 2) if fmt == "channels_last" else (2, 3, 2, 5, 6)
    out = ref(np.zeros(shape, "float32"))
    assert [o.shape for o in out] == [expected] * 3
    assert [o.shape for o in rp.explain(ref, shape).outputs] == [expected] * 3


def test_config_round_trip_and_dialect_defaults():
    k3, k2 = rp.ConvLSTM1D(3, 2, dialect="keras3"), rp.ConvLSTM1D(3, 2, dialect="keras2")
    assert k3.get_config()["recurrent_activation"] == "sigmoid"
    assert k2.get_config()["recurrent_activation"] == "hard_sigmoid"
    again = rp.ConvLSTM1D.from_config(k3.get_config())
    assert again.get_config() == k3.get_config()


@pytest.mark.parametrize("kwargs,dialect,error,words", [
    ({"strides": 2, "dilation_rate": 2}, "keras3", ValueError, "dilation_rate > 1"),
    ({"padding": "causal"}, "keras3", ValueError, "padding"),
    ({"data_format": "channels_middle"}, "keras3", ValueError, "data_format"),
    ({"kernel_size": (3, 3, 3)}, "keras3", ValueError, "kernel_size"),
    ({"strides": 0}, "keras2", ValueError, "strides"),
    ({"unroll": True}, "keras2", TypeError, "unroll"),
    ({"time_major": True}, "keras3", ValueError, "time_major"),
    ({"time_major": True}, "keras2", ValueError, "time_major"),
    ({"implementation_detail": 1}, "keras3", ValueError, "implementation_detail"),
])
def test_refused_options_name_themselves(kwargs, dialect, error, words):
    with pytest.raises(error, match=words):
        rp.ConvLSTM2D(2, **{"kernel_size": 3, **kwargs}, dialect=dialect)


def test_tf_keras_refuses_strides_with_dilation_at_the_call():
    ref = seeded(rp.ConvLSTM2D(2, 3, strides=2, dilation_rate=2, dialect="keras2"), 1)
    with pytest.raises(ValueError, match="dilation_rate > 1"):
        ref(np.zeros((1, 2, 7, 7, 1), "float32"))


@pytest.mark.parametrize("x_shape,mask,states,words", [
    ((2, 3, 5, 6), None, None, "rank 5"),
    ((2, 3, 5, 6, 3), None, None, "3 channels"),
    ((2, 3, 2, 6, 1), None, None, "does not fit"),
    ((2, 3, 5, 6, 1), np.ones((2, 4), bool), None, "mask must have shape"),
    ((2, 3, 5, 6, 1), None, [np.zeros((2, 3, 4, 2))] * 2, r"state 'h' must have shape \(batch=2, 3, 4, 3\)"),
])
def test_bad_input_is_refused_with_the_shapes(x_shape, mask, states, words):
    ref = seeded(rp.ConvLSTM2D(3, 3), 1)
    with pytest.raises(ValueError, match=words):
        ref(np.zeros(x_shape, "float32"), mask=mask, initial_state=states)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_structure(merge_mode):
    fw = seeded(rp.ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True), 2)
    bi = rp.Bidirectional(fw, merge_mode=merge_mode)
    bi.backward_layer.set_weights(seeded(rp.ConvLSTM2D(3, 3), 2, seed=1).get_weights())
    out = bi(np.random.default_rng(0).standard_normal((2, 4, 5, 6, 2)).astype("float32"))
    merged = [(2, 4, 5, 6, 6)] if merge_mode == "concat" else [(2, 4, 5, 6, 3)] * (2 if merge_mode is None else 1)
    assert [o.shape for o in out] == merged + [(2, 5, 6, 3)] * 4


def test_stateful_reset_keeps_the_state_shape():
    ref = seeded(rp.ConvLSTM1D(2, 3, stateful=True), 1)
    ref(np.ones((2, 3, 6, 1), "float32"))
    assert [s.shape for s in ref.states] == [(2, 4, 2)] * 2 and np.any(ref.states[0])
    ref.reset_states()
    assert [s.shape for s in ref.states] == [(2, 4, 2)] * 2 and not np.any(ref.states[0])


def test_stateful_refuses_a_new_spatial_shape():
    ref = seeded(rp.ConvLSTM1D(2, 3, stateful=True), 1)
    ref(np.ones((2, 3, 6, 1), "float32"))
    with pytest.raises(ValueError, match="input shape cannot change"):
        ref(np.ones((2, 3, 7, 1), "float32"))
