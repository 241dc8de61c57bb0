"""`rnnparity diagnose --case ID --write-inputs F` writes everything a port needs (issue 24, item 4):
inputs, masks, states, the plan, the weights in Keras' layout by name, the layer's config. A port in
another language (tests/ports/lstm_port.js, run by node) reads only that file and gets "agrees"."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import rnnparity as rp
from rnnparity import port_io
from rnnparity.cli import main
from rnnparity.plan import Call, Reset

PORT = Path(__file__).resolve().parent / "ports" / "lstm_port.js"
# stateful (a reset between calls), masked, go_backwards, the whole sequence: what ports get wrong
CASE = "lstm-seq-bwd-stateful-mask_right-f32-keras3"


def test_the_weights_are_named_in_keras_layout_and_order():
    ref = rp.Bidirectional(rp.GRU(2, return_sequences=True, reset_after=True), merge_mode="sum")
    rng = np.random.RandomState(0)
    ref.set_weights([rng.normal(size=s).astype("float32") for s in
                     [(3, 6), (2, 6), (2, 6)] * 2])
    named = port_io.named_weights(ref)
    assert list(named) == [f"{d}/cell0/{n}" for d in ("forward", "backward")
                           for n in ("kernel", "recurrent_kernel", "bias")]
    assert all(np.array_equal(a, b) for a, b in zip(named.values(), ref.get_weights()))
    layer = port_io.describe_layer(ref)
    assert layer["class"] == "Bidirectional" and layer["merge_mode"] == "sum"
    assert layer["forward"]["gates"] == ["z", "r", "h"] and layer["forward"]["config"]["reset_after"] is True


def test_the_inputs_file_holds_the_plan_masks_states_and_weights(tmp_path):
    ref = rp.LSTM(3, stateful=True, return_state=True)
    rng = np.random.RandomState(1)
    ref.set_weights([rng.normal(size=s).astype("float32") for s in [(2, 12), (3, 12), (12,)]])
    x = rng.normal(size=(2, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    states = [np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")]
    steps = [Call(x, mask=mask, initial_state=states), Reset(), Call(x)]
    for name in ("in.npz", "in.json"):
        port_io.write_port_inputs(tmp_path / name, ref, steps, ["output", "h", "c"])
    with np.load(tmp_path / "in.npz", allow_pickle=False) as npz:
        got = {k: npz[k] for k in npz.files}
    doc = json.loads((tmp_path / "in.json").read_text())
    assert list(got["plan"]) == doc["plan"] == ["call", "reset", "call"]
    assert str(got["format"]) == doc["format"] == "rnnparity-port-inputs/1"
    assert json.loads(str(got["layer"])) == doc["layer"]
    assert doc["layer"]["gates"] == ["i", "f", "c", "o"] and doc["layer"]["config"]["stateful"] is True
    for key, want in (("forward/cell0/kernel", ref.get_weights()[0]), ("call0_x", x), ("call0_mask", mask),
                      ("call0_initial_state0", states[0]), ("call1_x", x)):
        assert np.array_equal(got[key], want) and np.array_equal(np.asarray(doc[key], want.dtype), want)
        assert doc["dtypes"][key] == str(want.dtype)
    assert "call1_mask" not in got and list(got["weights_order"]) == doc["weights_order"] == \
        ["forward/cell0/kernel", "forward/cell0/recurrent_kernel", "forward/cell0/bias"]
    assert list(got["output_names"]) == ["output", "h", "c"]


@pytest.mark.live
def test_a_javascript_port_reading_only_the_file_agrees(tmp_path, capsys):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the JavaScript port cannot run")
    from rnnparity.targets import registry

    ok, why = registry.availability("keras3")
    if not ok:
        pytest.skip(why)
    inputs, outputs = tmp_path / "in.json", tmp_path / "out.json"
    assert main(["diagnose", "--case", CASE, "--write-inputs", str(inputs)]) == 0
    assert "the weights (Keras' layout" in capsys.readouterr().out
    subprocess.run(["node", str(PORT), str(inputs), str(outputs)], check=True, timeout=120)
    assert main(["diagnose", "--case", CASE, "--outputs", str(outputs)]) == 0
    assert "agrees with Keras" in capsys.readouterr().out
    # the same port reading the kernel's columns in the wrong gate order is caught and named
    subprocess.run(["node", str(PORT), str(inputs), str(outputs), "icfo"], check=True, timeout=120)
    assert main(["diagnose", "--case", CASE, "--outputs", str(outputs)]) == 1
    assert "[lstm_gate_order_icfo]" in capsys.readouterr().out


def test_stacked_cells_are_named_cell_by_cell_with_their_gate_orders():
    ref = rp.RNN([rp.LSTMCell(3), rp.GRUCell(2)], return_sequences=True)
    rng = np.random.RandomState(0)
    ref.set_weights([rng.normal(size=s).astype("float32") for s in
                     [(4, 12), (3, 12), (12,), (3, 6), (2, 6), (2, 6)]])
    named = port_io.named_weights(ref)
    assert list(named) == [f"forward/cell{c}/{n}" for c in (0, 1) for n in ("kernel", "recurrent_kernel", "bias")]
    assert named["forward/cell1/kernel"].shape == (3, 6)
    cells = port_io.describe_layer(ref)["cells"]
    assert [(c["class"], c["gates"]) for c in cells] == [("LSTMCell", ["i", "f", "c", "o"]),
                                                         ("GRUCell", ["z", "r", "h"])]
