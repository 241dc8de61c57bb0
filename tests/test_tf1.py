"""The tf1 harness: the adapter, record serialisation, cell_from_tf, and the configurations TF rejects.

The live tf1 conformance cases (every case of rnnparity.matrix.tf1_cases against real TF) are shipped with
the package: src/rnnparity/suite/test_tf1.py, run by `pytest --pyargs rnnparity` and `rnnparity check`.
"""
from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow", reason='tensorflow is not installed: pip install "rnnparity[tf]"')
pytest.importorskip("tf_keras", reason='tf_keras (the legacy cells) is not installed: pip install "rnnparity[tf]"')

from rnnparity.plugin import selected_targets
from rnnparity import tf1  # noqa: E402
from rnnparity.check.compare import compare_outputs  # noqa: E402
from rnnparity.targets.registry import get  # noqa: E402
from rnnparity.check.tf1_records import run_live, run_reference  # noqa: E402
from rnnparity.matrix.tf1_cases import CELLS, Tf1Case  # noqa: E402

pytestmark = [
    pytest.mark.live,
    pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell.*is deprecated:UserWarning"),
    pytest.mark.filterwarnings("ignore:The object being serialized includes a `lambda`:UserWarning"),
]


@pytest.fixture(autouse=True)
def _tf1_target_selected(request):
    try:
        request.config.getoption("rnnparity_targets")
    except ValueError:  # plugin not loaded
        return
    targets = selected_targets(request.config)
    if "tf1" not in targets:
        pytest.skip(f"target tf1 not selected (--rnnparity-targets={','.join(targets)})")


def test_record_is_plain_numpy():
    """A recording is npz-serialisable: arrays and strings only, no pickled objects."""
    import io

    case = Tf1Case("bidirectional_dynamic_rnn", "lstm_cell_all_concat", "ragged", True, True, "float64")
    record = run_live(case)
    buf = io.BytesIO()
    flat = {f"inputs/{k}": v for k, v in record["inputs"].items()}
    flat.update({f"weights/{i}": w for i, w in enumerate(record["weights"])})
    flat.update({f"outputs/{i}": o for i, o in enumerate(record["outputs"])})
    flat["output_names"] = np.asarray(record["output_names"])
    np.savez(buf, **flat)
    buf.seek(0)
    loaded = np.load(buf, allow_pickle=False)
    assert [str(n) for n in loaded["output_names"]] == record["output_names"]
    replay = {"inputs": {k[len("inputs/"):]: loaded[k] for k in loaded.files if k.startswith("inputs/")},
              "weights": [loaded[f"weights/{i}"] for i in range(len(record["weights"]))],
              "output_names": [str(n) for n in loaded["output_names"]]}
    actual = run_reference(Tf1Case.from_id(case.id), replay)  # no TF involved from here
    problems = compare_outputs(record["outputs"], actual, names=record["output_names"])
    assert not problems, "\n".join(p.message for p in problems)


def test_adapter_versions():
    versions = get("tf1").versions()
    assert versions["target"] == "tf1" and versions["tensorflow"] == tf.__version__


# -- configurations TF rejects: the reference rejects them too -----------------------------------
def _cells(cls="GRUCell", dtype="float32", input_depth=3):
    adapter = get("tf1")
    live = adapter.make_cell({"class": cls, "config": {"num_units": 4}}, dtype, input_depth)
    return live, tf1.cell_from_tf(live)


REJECTED = {
    "no_dtype_no_initial_state": dict(x=np.zeros((2, 3, 3), "float32"), kwargs={}),
    "input_dtype_differs_from_cell": dict(x=np.zeros((2, 3, 3), "float64"), kwargs={"dtype": "float64"}),
    "wrong_feature_size": dict(x=np.zeros((2, 3, 5), "float32"), kwargs={"dtype": "float32"}),
    "sequence_length_matrix": dict(x=np.zeros((2, 3, 3), "float32"),
                                   kwargs={"dtype": "float32", "sequence_length": np.ones((2, 1), "int32")}),
}


@pytest.mark.parametrize("what", sorted(REJECTED))
def test_rejected_like_tf(what):
    live, ref = _cells()
    x, kwargs = REJECTED[what]["x"], dict(REJECTED[what]["kwargs"])
    tf_kwargs = {**kwargs, "dtype": getattr(tf, kwargs["dtype"]) if "dtype" in kwargs else None}
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        tf.compat.v1.nn.dynamic_rnn(live, tf.constant(x), **tf_kwargs)
    with pytest.raises((ValueError, TypeError)):
        tf1.dynamic_rnn(ref, x, **kwargs)


# -- cell_from_tf -----------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", sorted(CELLS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cell_from_tf_copies_config_and_weights(variant, dtype):
    adapter = get("tf1")
    cls, config = CELLS[variant]
    live = adapter.make_cell({"class": cls, "config": config}, dtype, 3)
    rng = np.random.default_rng(7)
    adapter.set_weights(live, [rng.uniform(-0.8, 0.8, w.shape) for w in live.weights])
    ref = tf1.cell_from_tf(live)
    assert type(ref).__name__ == cls and ref.dtype == np.dtype(dtype)
    for w_live, w_ref in zip(adapter.get_weights(live), ref.get_weights(), strict=True):
        np.testing.assert_array_equal(w_ref, w_live, strict=True)
    x = rng.normal(size=(2, 4, 3)).astype(dtype)
    out, state = adapter.run("dynamic_rnn", live, x, dtype=dtype)
    ref_out, ref_state = tf1.dynamic_rnn(ref, x, dtype=dtype)
    problems = compare_outputs([out, *tf1_flat(state)], [ref_out, *tf1_flat(ref_state)],
                               names=["outputs", "state..."], prefix=f"cell_from_tf {variant} {dtype}: ")
    assert not problems, "\n".join(p.message for p in problems)


def tf1_flat(state):
    return list(state) if isinstance(state, tuple) else [state]


def test_cell_from_tf_refuses_unbuilt_cell():
    from tf_keras.src.layers.rnn import legacy_cells

    with pytest.raises(ValueError, match="not built"):
        tf1.cell_from_tf(legacy_cells.LSTMCell(3))


def test_cell_from_tf_refuses_custom_activation():
    adapter = get("tf1")
    live = adapter.make_cell({"class": "BasicRNNCell", "config": {"num_units": 3,
                                                                 "activation": lambda z: 2 * z}}, "float32", 2)
    with pytest.raises(ValueError, match="activation is a custom callable"):
        tf1.cell_from_tf(live)


def test_cell_from_tf_refuses_unmodelled_builtin_activation():
    adapter = get("tf1")
    live = adapter.make_cell({"class": "GRUCell", "config": {"num_units": 3, "activation": tf.nn.relu6}},
                             "float32", 2)
    with pytest.raises(ValueError, match="activation='relu6'"):
        tf1.cell_from_tf(live)


def test_cell_from_tf_maps_tf_callables():
    adapter = get("tf1")
    live = adapter.make_cell({"class": "BasicRNNCell", "config": {"num_units": 3, "activation": tf.nn.relu}},
                             "float32", 2)
    assert tf1.cell_from_tf(live).activation_name == "relu"


def test_cell_from_tf_refuses_wrappers_and_keras_cells():
    import keras
    from tf_keras.src.layers.rnn import legacy_cells

    with pytest.raises(ValueError, match="MultiRNNCell is not a TF legacy cell"):
        tf1.cell_from_tf(legacy_cells.MultiRNNCell([legacy_cells.GRUCell(3)]))
    with pytest.raises(ValueError, match="not a TF legacy cell"):
        tf1.cell_from_tf(keras.layers.LSTMCell(3))
