"""`explain` says in what order a go_backwards layer's sequence comes (the shapes cannot): processing
order, reversed time. The framework is the oracle for the claim: a go_backwards=True layer's sequence is
the go_backwards=False layer's on the reversed input (same weights), and Keras 2's Bidirectional around
such a layer returns both directions in reversed time."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.cli import main
from rnnparity.output_structure import explain
from rnnparity.targets import registry

LSTM_BWD_SEQ = {"class": "LSTM", "config": {"units": 4, "return_sequences": True, "go_backwards": True}}


def test_explain_says_a_go_backwards_sequence_is_in_processing_order(capsys):
    assert main(["explain", "LSTM", "--units", "4", "--return-sequences", "--go-backwards",
                 "--input-shape", "2,5,3"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: [0] is in processing order (reversed time)" in out
    assert "so [0][:, 0] is the output after the last input step x[:, -1]" in out
    assert "np.flip([0], axis=1) puts it in input order" in out
    assert main(["explain", "LSTM", "--units", "4", "--return-sequences", "--input-shape", "2,5,3"]) == 0
    assert "note:" not in capsys.readouterr().out  # input order: nothing to say


def test_explain_says_where_a_go_backwards_last_output_ends_and_the_keras2_bidirectional_order():
    last = explain({"class": "GRU", "config": {"units": 4, "go_backwards": True}}, (2, 5, 3))
    assert last.notes == ("go_backwards=True processes the steps last to first: [0] is the output after "
                          "the first input step, the last one processed",)
    bidi = explain({**LSTM_BWD_SEQ, "wrapper": {"merge_mode": None}}, (2, 5, 3), "keras2")
    assert bidi.notes[0].startswith("[0] and [1] are in reversed time")
    assert bidi.outputs[1].name.endswith("flipped along time (into reversed order)")
    plain = explain({**LSTM_BWD_SEQ, "config": {"units": 4, "return_sequences": True},
                     "wrapper": {"merge_mode": None}}, (2, 5, 3))
    assert plain.notes == () and plain.outputs[1].name.endswith("flipped back to input order")
    time_major = explain({"class": "LSTM", "config": {**LSTM_BWD_SEQ["config"], "time_major": True}},
                         (5, 2, 3), "keras2")
    assert "[0][0, ...] is the output after the last input step x[-1]" in time_major.notes[0]


def _keras(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    if target == "tf_keras":
        import tf_keras

        return tf_keras
    import keras

    return keras


@pytest.mark.live
@pytest.mark.parametrize("target", ["keras3", "tf_keras"])
def test_the_framework_returns_a_go_backwards_sequence_in_processing_order(target):
    keras = _keras(target)
    x = np.random.RandomState(0).normal(size=(2, 5, 3)).astype("float32")
    backwards = keras.layers.LSTM(4, return_sequences=True, go_backwards=True)
    forwards = keras.layers.LSTM(4, return_sequences=True)
    out = np.asarray(backwards(x))
    forwards(x)
    forwards.set_weights(backwards.get_weights())
    np.testing.assert_allclose(out, np.asarray(forwards(x[:, ::-1])), rtol=1e-6, atol=1e-6)
    # [0][:, 0] is the output after the last input step alone
    np.testing.assert_allclose(out[:, 0], np.asarray(forwards(x[:, -1:]))[:, 0], rtol=1e-6, atol=1e-6)


@pytest.mark.live
def test_keras2_bidirectional_around_go_backwards_returns_both_directions_in_reversed_time():
    keras = _keras("tf_keras")
    x = np.random.RandomState(1).normal(size=(2, 5, 3)).astype("float32")
    bidi = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True, go_backwards=True),
                                      merge_mode=None)
    fw, bw = (np.asarray(o) for o in bidi(x))
    assert not bidi.backward_layer.go_backwards  # Keras 2 flips the flag for the copy
    np.testing.assert_allclose(fw, np.asarray(bidi.forward_layer(x)), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bw, np.flip(np.asarray(bidi.backward_layer(x)), axis=1), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bw[:, 0], np.asarray(bidi.backward_layer(x))[:, -1], rtol=1e-6, atol=1e-6)
