"""`rp.explain` on live layers (the layer's own dialect decides list or tuple) and on configurations a
framework rejects (no outputs to describe: a `Rejected` error, and `rnnparity explain` exits 1)."""
from __future__ import annotations

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.targets import registry
from rnnparity.cli import main
from rnnparity.output_structure import Rejected


def _module(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)
    return registry.get(target).K


def _container(out):
    return type(out).__name__ if isinstance(out, (list, tuple)) else "array"


@pytest.mark.live
@pytest.mark.parametrize("target", ["tf_keras", "keras3"])
@pytest.mark.parametrize("make", [
    lambda K: K.layers.GRU(3, return_state=True),
    lambda K: K.layers.LSTM(3, return_sequences=True, return_state=True),
    lambda K: K.layers.Bidirectional(K.layers.SimpleRNN(2, return_sequences=True), merge_mode=None),
    lambda K: K.layers.Bidirectional(K.layers.LSTM(2, return_state=True, dtype="float64"), dtype="float64"),
], ids=["gru-state", "lstm-seq-state", "bidi_none-simple_rnn-seq", "bidi_concat-lstm-state-f64-wrapper"])
def test_explain_of_a_live_layer_describes_what_the_layer_returns(target, make):
    layer = make(_module(target))
    x = np.random.RandomState(0).normal(size=(2, 4, 3)).astype(layer.compute_dtype)
    out = layer(x)
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    expl = rp.explain(layer, x.shape)  # no dialect given: the layer's own
    assert (expl.container, len(expl.outputs)) == (_container(out), len(outputs)), expl
    assert [(o.shape, o.dtype) for o in expl.outputs] == \
        [(tuple(o.shape), np.dtype(o.dtype.name if hasattr(o.dtype, "name") else o.dtype).name) for o in outputs]


@pytest.mark.live
def test_a_dialect_that_contradicts_a_live_layer_is_refused_and_a_spec_keeps_the_given_one():
    layer = _module("tf_keras").layers.GRU(3, return_state=True)
    with pytest.raises(ValueError, match="dialect='keras3' was given for a keras2 layer"):
        rp.explain(layer, (2, 4, 3), dialect="keras3")
    assert rp.explain(layer, (2, 4, 3), dialect="keras2").container == "list"
    spec = {"class": "GRU", "config": {"units": 3, "return_state": True}}
    assert rp.explain(spec, (2, 4, 3), dialect="keras2").container == "list"
    assert rp.explain(spec, (2, 4, 3)).container == "tuple"  # a spec's default dialect: keras3


REJECTED = [
    (["LSTM", "--go-backwards", "--bidirectional", "concat"],
     "Keras 3 rejects Bidirectional around a go_backwards=True layer"),
    (["GRU", "--time-major", "--return-sequences"], "Keras 3 rejects time_major=True"),
    (["GRU", "--time-major", "--bidirectional", "sum"], "Keras 3 rejects time_major=True"),
    (["SimpleRNN", "--stateful", "--return-state", "--bidirectional", "none"],
     "Keras 3 fails on the first call of this configuration (known framework bug "
     "[keras3-bidirectional-stateful-return-state]"),
]


@pytest.mark.parametrize("argv, says", REJECTED, ids=["bidi-bwd", "time_major", "bidi-time_major",
                                                      "bidi-stateful-state"])
def test_explain_says_keras3_rejects_what_it_rejects_and_tf_keras_describes_it(capsys, argv, says):
    common = ["--units", "2", "--input-shape", "1,4,3"]
    assert main(["explain", *argv, *common]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("rnnparity explain: " + says), captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert main(["explain", *argv, *common, "--target", "tf_keras"]) == 0  # Keras 2 accepts all three
    assert "returns" in capsys.readouterr().out


def test_the_api_raises_a_value_error_saying_why():
    spec = {"class": "LSTM", "config": {"units": 2, "go_backwards": True}, "wrapper": {"merge_mode": "sum"}}
    with pytest.raises(Rejected, match="different `go_backwards` value") as info:
        rp.explain(spec, (1, 4, 3))
    assert isinstance(info.value, ValueError)
    assert rp.explain(spec, (1, 4, 3), dialect="keras2").names() == [
        "last output (h at the last step), forward and backward summed"]
