"""Mixed precision in the reference: how it rounds (checked against TensorFlow's kernels value by
value), what it keeps in float32, and what it refuses. bfloat16 needs ml_dtypes (installed with
TensorFlow); without it the reference says so by name and everything else still works."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.matrix.cases import Case
from rnnparity.keras_to_reference import from_spec
from rnnparity.reference import activations, precision
from tests.tf_platform import expect_bfloat16_platform_bug


def _every_finite(dtype):
    values = np.arange(1 << 16, dtype=np.uint16).view(dtype)
    return values[np.isfinite(values.astype(np.float32))]


@pytest.fixture(scope="module")
def tf():
    tf = pytest.importorskip("tensorflow")
    return tf


@pytest.mark.live
@pytest.mark.parametrize("name", ["float16", "bfloat16"])
def test_low_precision_sigmoid_is_tensorflows_on_every_value(tf, name):
    dtype = precision.as_dtype(name)
    x = _every_finite(dtype)
    ours = activations.sigmoid(x).astype(np.float64)
    theirs = tf.nn.sigmoid(tf.constant(x)).numpy().astype(np.float64)
    differ = ours != theirs
    if name == "float16":  # two inputs where NumPy's and Eigen's float16 exp round differently
        assert differ.sum() <= 2 and np.abs(ours - theirs).max() <= 2 ** -11, x[differ]
    else:  # bfloat16: only outputs below the smallest normal (TF flushes them to zero)
        assert (np.abs(ours[differ]) < np.finfo(np.float32).tiny).all(), x[differ][:8]
    # the float32 formula, rounded once, is what the reference used before: one ULP off a lot
    rounded = activations.sigmoid(x.astype(np.float32)).astype(dtype).astype(np.float64)
    assert (rounded != theirs).mean() > 0.01


@pytest.mark.live
def test_bfloat16_matmul_rounds_once_like_tensorflow(tf, request):
    expect_bfloat16_platform_bug(request, tf)  # a strict xfail where this CPU's TF truncates
    bf16 = precision.bfloat16()
    rng = np.random.RandomState(0)
    a, b = (rng.uniform(-1, 1, size=s).astype(bf16) for s in ((7, 13), (13, 20)))
    ours = precision.matmul_for(bf16)(a, b)
    assert ours.dtype == bf16
    np.testing.assert_array_equal(ours.astype(np.float32), tf.matmul(a, b).numpy().astype(np.float32))


def test_mixed_policy_keeps_float32_weights_and_computes_low():
    layer = rp.LSTM(4, return_sequences=True, return_state=True, dtype="mixed_float16")
    rng = np.random.RandomState(1)
    weights = [rng.uniform(-0.6, 0.6, s).astype("float32") for s in ((3, 16), (4, 16), (16,))]
    layer.set_weights(weights)
    assert [w.dtype for w in layer.get_weights()] == [np.float32] * 3
    for got, given in zip(layer.get_weights(), weights):
        np.testing.assert_array_equal(got, given)  # the float32 variables, not their float16 copies
    out = layer(rng.normal(size=(2, 5, 3)).astype("float32"))
    assert [o.dtype for o in out] == [np.float16] * 3
    assert layer.get_config()["dtype"] == "mixed_float16"


def test_unknown_policy_is_refused_by_name():
    with pytest.raises(ValueError, match="dtype='mixed_float64' is not modelled; use one of"):
        rp.GRU(3, dtype="mixed_float64")
    with pytest.raises(ValueError, match="mixed_float16"):
        rp.Bidirectional(rp.GRU(3), dtype="float8")


def test_bfloat16_without_ml_dtypes_is_a_clear_error():
    """In a process where ml_dtypes cannot be imported (the `test` extra alone installs no
    TensorFlow): float32 and float16 work, bfloat16 names the package to install."""
    script = (
        "import sys; sys.modules['ml_dtypes'] = None\n"
        "import numpy as np, rnnparity as rp\n"
        "from rnnparity.matrix.cases import Case\n"
        "from rnnparity.keras_to_reference import from_spec\n"
        "from rnnparity.matrix.data import make_plan\n"
        "make_plan(Case(dtype='mixed_bf16'))\n"
        "rp.GRU(2, dtype='mixed_float16')\n"
        "try:\n"
        "    from_spec(Case(dtype='mixed_bf16').layer_spec(), 'keras3')\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "bfloat16 needs the `ml_dtypes` package" in done.stdout, done.stdout


def test_importing_the_reference_does_not_import_ml_dtypes():
    done = subprocess.run([sys.executable, "-c", "import sys, rnnparity.reference, rnnparity.keras_to_reference; "
                           "rnnparity.reference.LSTM(2, dtype='mixed_float16'); "
                           "print('ml_dtypes' in sys.modules)"], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr[-2000:]


def test_mixed_spec_builds_the_policy_everywhere():
    pytest.importorskip("ml_dtypes")
    ref = from_spec(Case(layer="gru", cell="stacked", wrapper="bidi_sum", dtype="mixed_bf16").layer_spec(),
                    "keras3")
    assert ref.policy.name == "mixed_bfloat16" and ref.dtype == "bfloat16"
    for layer in (ref.forward_layer, ref.backward_layer):
        assert layer.policy.name == "mixed_bfloat16"
        assert all(c.policy.name == "mixed_bfloat16" for c in layer.cells)
