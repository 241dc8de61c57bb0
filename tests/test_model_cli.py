"""`rnnparity check-model | record-model | explain PATH` on saved .keras and .h5 files of both Keras
versions, the recordings `compare` and framework-free replay read, and the pytest helper."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest

from rnnparity import golden
from rnnparity.check import runner
from rnnparity.cli import main
from rnnparity.model.files import load_model, synthesise_inputs
from rnnparity.reference import lstm
from rnnparity.suite.test_replay import reference_factory
from tests import model_zoo
from tests.model_zoo import keras_module

pytestmark = pytest.mark.live
ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
# Keras 3 cannot load its own .h5 of a model whose Embedding masks (its not_equal op is an unknown
# layer to its legacy loader): those models are checked from .keras there.
FILES = [("keras3", "keras", "nmt_encoder"), ("keras3", "keras", "seq2seq"), ("keras3", "h5", "explicit_mask"),
         ("keras3", "h5", "stateful"), ("tf_keras", "keras", "nmt_encoder"), ("tf_keras", "h5", "nmt_encoder"),
         ("tf_keras", "h5", "seq2seq"), ("tf_keras", "keras", "explicit_mask"), ("tf_keras", "h5", "stateful")]
BUILDERS = {**model_zoo.LIVE, "stateful": model_zoo.stateful_char_gru}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(target, ext, name) -> the path of that model saved by that framework."""
    root, paths = tmp_path_factory.mktemp("models"), {}

    def get(target, ext, name):
        if (target, ext, name) not in paths:
            model, _ = BUILDERS[name](keras_module(target))
            path = root / f"{name}-{target}.{ext}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.save(str(path))
            paths[target, ext, name] = str(path)
        return paths[target, ext, name]
    return get


@pytest.mark.parametrize("target,ext,name", FILES)
def test_check_model_passes_on_saved_files(saved, target, ext, name, tmp_path, capsys):
    path = saved(target, ext, name)
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    batches = ["--batches", "3"] if name == "stateful" else []
    assert main(["check-model", path, "--json", str(out_json), "--junit-xml", str(out_xml), *batches]) == 0
    text = capsys.readouterr().out
    report = json.loads(out_json.read_text())
    rows = model_zoo.ROWS.get(name, {"char_gru": ("GRU", "none")})
    assert report["passed"] is True and report["framework"] == target and report["unsafe"] is False
    assert [(r["name"], r["class"], r["status"]) for r in report["layers"]] == \
        [(n, cls, "pass") for n, (cls, _) in rows.items()]
    for r in report["layers"]:
        assert 0 <= r["max_abs_error"] <= 1e-6 and r["first_diverging_step"] is None
        assert f"{r['name']}  " in text
    assert text.rstrip().endswith(f"PASSED: {len(rows)} recurrent layer(s): {len(rows)} pass")
    suite = ElementTree.parse(out_xml).getroot()
    assert suite.get("tests") == str(len(rows)) and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.iter("testcase")] == list(rows)
    if name == "stateful":
        assert report["layers"][0]["calls"] == 4 and "1 x 4 calls" in text


@pytest.mark.parametrize("target", ("keras3", "tf_keras"))
def test_a_planted_gate_order_bug_fails_check_model_naming_the_layer(saved, target, monkeypatch, capsys):
    path = saved(target, "keras", "seq2seq")
    monkeypatch.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))
    assert main(["check-model", path]) == 1
    text = capsys.readouterr().out
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith(("encoder  ", "decoder  "))}
    assert rows["encoder"].rstrip().endswith("FAIL") and rows["decoder"].rstrip().endswith("FAIL")
    assert "encoder [fail]:" in text and "FAILED: 2 recurrent layer(s): 2 fail" in text


@pytest.mark.parametrize("target", ("keras3", "tf_keras"))
def test_synthesised_inputs_fit_the_input_specs(saved, target):
    model, _ = load_model(saved(target, "keras", "seq2seq"))
    tokens, decoder_in = synthesise_inputs(model, batch=4, time=9, seed=3)
    assert tokens.shape == (4, 9) and tokens.dtype == np.int32 and decoder_in.shape == (4, 9, 4)
    kept = tokens != 0
    assert (tokens[kept] >= 1).all() and (tokens < model_zoo.V).all()
    assert kept[0].all() and not kept[1, -1] and kept[1, 0] and not kept[2, 0] and kept[2, -1]
    assert np.array_equal(kept[1], np.sort(kept[1])[::-1]) and np.array_equal(kept[2], np.sort(kept[2]))
    model, _ = load_model(saved(target, "keras", "explicit_mask"))
    x, mask = synthesise_inputs(model, batch=3, time=5)
    assert x.dtype == np.float32 and mask.dtype == bool and mask.shape == (3, 5) and not mask.all()
    model, _ = load_model(saved(target, "h5", "stateful"))
    chars = synthesise_inputs(model, batch=9, time=50)
    assert chars.shape == (2, model_zoo.T), "the model's fixed batch and time win"


def test_inputs_from_an_npz_file(saved, tmp_path, capsys):
    path = saved("tf_keras", "h5", "explicit_mask")
    model, x = model_zoo.explicit_mask(keras_module("tf_keras"))
    np.savez(tmp_path / "named.npz", x=x[0], m=x[1])
    np.savez(tmp_path / "positional.npz", x[0], x[1])
    np.savez(tmp_path / "wrong.npz", a=x[0], b=x[1])
    np.savez(tmp_path / "unfit.npz", x=x[0][..., :2], m=x[1])
    assert main(["check-model", path, "--inputs", str(tmp_path / "named.npz")]) == 0
    assert main(["check-model", path, "--inputs", str(tmp_path / "positional.npz")]) == 0
    capsys.readouterr()
    assert main(["check-model", path, "--inputs", str(tmp_path / "wrong.npz")]) == 2
    assert "expected arrays named ['x', 'm'] (the model's inputs) or arr_0..arr_1, got ['a', 'b']" in \
        capsys.readouterr().err
    assert main(["check-model", path, "--inputs", str(tmp_path / "unfit.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnparity check-model: {path}: the inputs do not fit the model: input 'x' "
                          f"expects shape (None, None, 3) (None: any size), given float32 (4, 7, 2)")
    assert err.count("\n") == 1


def test_bad_input_exits_2_with_one_line_and_no_traceback(saved, tmp_path):
    K = keras_module("tf_keras")
    dense = K.Sequential([K.layers.Input((3,)), K.layers.Dense(2)], name="dense_only")
    dense.save(str(tmp_path / "dense.keras"))
    dense.save_weights(str(tmp_path / "weights.h5"))
    (tmp_path / "notes.keras").write_text("not a model")
    expected = {"notes.keras": "not a Keras model file", "dense.keras": "has no recurrent layer",
                "weights.h5": "an HDF5 file with no model_config: weights only"}
    script = ("import sys\nfrom rnnparity.cli import main\n"
              "sys.exit(max(main(['check-model', p]) for p in sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", script, *(str(tmp_path / f) for f in expected)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("rnnparity check-model:")]
    assert len(lines) == 3, done.stderr
    for line, (name, why) in zip(lines, expected.items()):
        assert name in line and why in line, line


def _replay(directory, plant_bug=False):
    """runner.verify of every case of a recording, in a process where no framework can be imported."""
    script = (
        "import sys, json\n"
        "for name in ('tensorflow', 'keras', 'tf_keras'):\n"
        "    sys.modules[name] = None\n"
        "from rnnparity import golden\nfrom rnnparity.check import runner\n"
        "from rnnparity.reference import lstm\n"
        f"if {plant_bug}:\n"
        "    lstm.LSTM_GATES = ('i', 'c', 'f', 'o')\n"
        "from rnnparity.suite.test_replay import reference_factory\n"
        "rd = golden.RecordingDir(sys.argv[1])\n"
        "print(json.dumps({c: len(runner.verify(rd.load(c), reference_factory(rd.load(c))))\n"
        "                  for c in rd.case_ids}))\n")
    done = subprocess.run([sys.executable, "-c", script, str(directory)], capture_output=True, text=True,
                          env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_record_model_then_compare_and_replay_without_a_framework(saved, tmp_path, capsys):
    keras_file, h5_file = saved("tf_keras", "keras", "seq2seq"), saved("tf_keras", "h5", "seq2seq")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["record-model", keras_file, "--out", str(a)]) == 0
    assert main(["record-model", h5_file, "--out", str(b)]) == 0
    out = capsys.readouterr().out
    assert "recorded encoder (LSTM, 3 x 1 call) as encoder-tf_keras.npz; check: pass" in out
    rd = golden.RecordingDir(a)
    assert rd.manifest["kind"] == "model" and rd.manifest["target"] == "tf_keras"
    assert sorted(rd.case_ids) == ["decoder-tf_keras", "encoder-tf_keras"]
    decoder = rd.load("decoder-tf_keras")
    assert decoder.plan.calls[0].initial_state is not None and len(decoder.plan.calls[0].initial_state) == 2
    encoder = rd.load("encoder-tf_keras")
    tokens = synthesise_inputs(load_model(keras_file)[0])[0]  # what record-model fed (seed 0)
    assert not tokens.all()
    np.testing.assert_array_equal(encoder.plan.calls[0].mask, tokens != 0)

    # the same model from .keras and .h5: compare finds no difference
    assert main(["compare", str(a), str(b)]) == 0
    assert "2 cases: same 2" in capsys.readouterr().out
    # the same architecture with one decoder weight changed: compare names the layer
    model, _ = load_model(keras_file)
    weights = model.get_layer("decoder").get_weights()
    weights[0] = weights[0] + 0.1
    model.get_layer("decoder").set_weights(weights)
    changed = tmp_path / "changed.keras"
    model.save(str(changed))
    c = tmp_path / "c"
    assert main(["record-model", str(changed), "--out", str(c)]) == 0
    capsys.readouterr()
    assert main(["compare", str(a), str(c)]) == 1
    report = capsys.readouterr().out
    assert "same 1, differs 1" in report and "- `decoder`: max abs" in report

    assert _replay(a) == {"decoder-tf_keras": 0, "encoder-tf_keras": 0}
    assert _replay(a, plant_bug=True) == {"decoder-tf_keras": 1, "encoder-tf_keras": 3}
    assert main(["record-model", keras_file, "--out", str(a)]) == 2  # exists, no --force
    assert "already exists; pass --force" in capsys.readouterr().err


def test_a_stateful_recording_replays_in_the_shipped_suite(saved, tmp_path, capsys):
    out = tmp_path / "stateful"
    assert main(["record-model", saved("keras3", "h5", "stateful"), "--out", str(out), "--batches", "2"]) == 0
    rec = golden.RecordingDir(out).load("char_gru-keras3")
    assert [type(s).__name__ for s in rec.plan.steps] == ["Call", "Call", "Reset", "Call"]
    assert runner.verify(rec, reference_factory(rec)) == []
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
                           "rnnparity.suite.test_replay", "--rnnparity-recordings", str(out)],
                          capture_output=True, text=True, env=ENV, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr
    assert "test_replay[stateful/char_gru-keras3]" not in done.stdout  # -q: ids only on failure


@pytest.mark.parametrize("target,ext,name", [("keras3", "keras", "nmt_encoder"), ("tf_keras", "h5", "seq2seq"),
                                             ("tf_keras", "keras", "nmt_encoder")])
def test_explain_path_lists_what_each_layer_returns(saved, target, ext, name, capsys):
    path = saved(target, ext, name)
    assert main(["explain", path, "--batch", "3", "--time", "6"]) == 0
    text = capsys.readouterr().out
    model, _ = load_model(path)
    x = synthesise_inputs(model, 3, 6)
    K = keras_module(target)
    for layer_name in model_zoo.ROWS[name]:
        layer = model.get_layer(layer_name)
        live = K.Model(model.inputs, layer.output)(x)  # the framework's own outputs of the layer
        live = list(live) if isinstance(live, (list, tuple)) else [live]
        block = text.split(f"{layer_name} (")[1].split("\n\n")[0]
        listed = [line.split("]", 1) for line in block.splitlines() if line.strip().startswith("[")]
        assert len(listed) == len(live), block
        for (index, rest), out in zip(listed, live):
            assert str(tuple(out.shape)) in rest and str(out.dtype.name if hasattr(out.dtype, "name")
                                                          else out.dtype) in rest, (index, rest, out.shape)
        assert "(checked: the live layer returned th" in block


def test_explain_keeps_its_layer_form(capsys):
    assert main(["explain", "LSTM", "--units", "4", "--input-shape", "2,5,3"]) == 0
    assert "LSTM(units=4) on input (2, 5, 3) returns a single array" in capsys.readouterr().out
    assert main(["explain", "LSTM"]) == 2
    assert "explain LSTM needs --units and --input-shape" in capsys.readouterr().err
    assert main(["explain", "Conv1D", "--units", "2"]) == 2
    assert "expected a layer (SimpleRNN, LSTM, GRU, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D) or a model file (.keras, .h5), got 'Conv1D'" in \
        capsys.readouterr().err


def test_one_pytest_id_per_recurrent_layer(saved, tmp_path):
    path = saved("tf_keras", "keras", "nmt_encoder")
    (tmp_path / "test_my_model.py").write_text(
        "import pytest\n"
        "from rnnparity.testing import assert_layer, model_layer_params\n\n"
        f"@pytest.mark.parametrize('layer', model_layer_params({path!r}))\n"
        "def test_model_layer(layer):\n"
        "    assert_layer(layer)\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-p", "no:rnnparity",
                           "test_my_model.py"], capture_output=True, text=True, env=ENV, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_my_model.py::test_model_layer[bi_gru] PASSED" in done.stdout
    assert "test_my_model.py::test_model_layer[top_gru] PASSED" in done.stdout
    assert "2 passed" in done.stdout


def test_assert_layer_fails_with_the_rows_report(monkeypatch):
    from rnnparity.testing import assert_layer, model_layer_params

    model, x = model_zoo.seq2seq(keras_module("keras3"))
    monkeypatch.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))
    params = model_layer_params(model, x)
    assert [p.id for p in params] == ["encoder", "decoder"]
    with pytest.raises(AssertionError, match=r"^encoder \(LSTM\) \[fail\]: \[encoder\] the reference and the "
                                             r"framework disagree"):
        assert_layer(params[0].values[0])


def test_a_recorded_framework_bug_replays_as_a_strict_xfail(tmp_path, capsys):
    K = keras_module("tf_keras")
    L = K.layers
    x_in = L.Input((model_zoo.T, 3))
    masked = L.Masking(name="masking")(x_in)
    out = L.Bidirectional(L.SimpleRNN(3, return_sequences=True, unroll=True), name="unrolled")(masked)
    path = tmp_path / "unrolled.keras"
    K.Model(x_in, out).save(str(path))
    rec = tmp_path / "rec"
    assert main(["record-model", str(path), "--out", str(rec)]) == 0
    assert "check: xfail" in capsys.readouterr().out
    manifest = golden.RecordingDir(rec).manifest
    assert manifest["xfail"] == {"unrolled-tf_keras": "unroll-mask-go-backwards-zero-output"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rx", "-p", "no:cacheprovider", "--pyargs",
                           "rnnparity.suite.test_replay", "--rnnparity-fixtures", str(rec)],
                          capture_output=True, text=True, env=ENV, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and "1 xfailed" in done.stdout, done.stdout + done.stderr
    assert "known framework bug [unroll-mask-go-backwards-zero-output]" in done.stdout
