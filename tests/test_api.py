"""The public API contract of DESIGN.md, and that importing rnnparity imports no framework."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import rnnparity as rp


def test_public_names():
    for name in ("SimpleRNN", "LSTM", "GRU", "Bidirectional", "from_keras", "explain", "testing", "tf1"):
        assert hasattr(rp, name), name
    assert callable(rp.testing.assert_parity)


def test_import_does_not_import_a_framework():
    code = ("import sys, rnnparity, rnnparity.plugin, rnnparity.matrix.cases, rnnparity.check.runner;"
            "bad = [m for m in ('tensorflow', 'keras', 'tf_keras', 'jax', 'torch') if m in sys.modules];"
            "print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_reference_never_imports_a_framework():
    import pathlib

    root = pathlib.Path(rp.__file__).parent / "reference"
    for path in root.glob("*.py"):
        text = path.read_text()
        for fw in ("import tensorflow", "import keras", "import tf_keras", "from tensorflow", "from keras"):
            assert fw not in text, f"{path.name} imports a framework ({fw})"


def test_weights_round_trip_and_unknown_options_raise():
    layer = rp.GRU(3, reset_after=False, return_sequences=True)
    with pytest.raises(ValueError, match="weights are not set"):
        layer(np.zeros((1, 2, 4), np.float32))
    weights = [np.ones((4, 9), np.float32), np.ones((3, 9), np.float32), np.ones((9,), np.float32)]
    layer.set_weights(weights)
    for a, b in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        rp.LSTM(3, peepholes=True)
    with pytest.raises(TypeError, match="not understood"):
        rp.LSTM(3, peepholes=True, dialect="keras2")


@pytest.mark.live
@pytest.mark.parametrize("target", ["keras3", "tf_keras"])
def test_assert_parity_on_a_users_layer(target):
    from rnnparity.targets import registry

    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)
    K = registry.get(target).K
    layer = K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True, return_state=True))
    x = np.random.RandomState(0).normal(size=(2, 5, 4)).astype("float32")
    layer.build(x.shape)
    out = rp.testing.assert_parity(layer, x, mask=np.array([[1, 1, 1, 0, 0], [1] * 5], bool))
    assert len(out) == 5
    # a corrupted copy of the weights must be caught: the framework layer gets one wrong unit
    weights = layer.get_weights()
    weights[1][0, 0] += 0.5
    layer.set_weights(weights)
    reference = rp.from_keras(layer)
    weights[1][0, 0] -= 0.5
    reference.set_weights(weights)
    with pytest.raises(AssertionError, match="beyond tolerance"):
        from rnnparity.check.compare import compare_outputs

        problems = compare_outputs(registry.get(target).call(layer, x), reference(x))
        assert not problems, "\n".join(p.message for p in problems)
