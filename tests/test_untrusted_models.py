"""Untrusted model files: a file that runs code when loaded unsafely (a Lambda layer whose function
writes a marker file) is refused by check-model, and the marker is never written; --unsafe opts
out, runs it (which proves the file is a real threat) and the report says so."""
from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.model import files as modelfile
from rnnparity.cli import main
from tests.model_zoo import keras_module

pytestmark = pytest.mark.live
CASES = [("keras3", "keras"), ("keras3", "h5"), ("tf_keras", "keras"), ("tf_keras", "h5")]


def _save(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)


def _lambda_model_file(target, ext, tmp_path):
    K = keras_module(target)
    L = K.layers
    marker = tmp_path / "marker"
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # noqa: S307 - the test's own code
    model = K.Sequential([L.Input((None, 3)), L.Lambda(payload, name="payload"), L.LSTM(2, name="lstm")])
    path = tmp_path / f"lambda.{ext}"
    _save(model, str(path))
    marker.unlink()  # building and saving ran the lambda
    return str(path), marker


@pytest.mark.parametrize("target,ext", CASES)
def test_a_lambda_file_is_refused_and_runs_nothing(target, ext, tmp_path, capsys):
    path, marker = _lambda_model_file(target, ext, tmp_path)
    with pytest.raises(modelfile.UnsafeModel, match=r"refused: its config holds a Lambda layer 'payload'"):
        rp.check_model(path)
    assert main(["check-model", path]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnparity check-model: {path}: refused") and err.count("\n") == 1
    assert "--unsafe" in err
    assert not marker.exists()

    report = rp.check_model(path, unsafe=True)
    assert marker.exists(), "the file really runs the code it carries when loaded unsafely"
    assert report.unsafe and report.passed and [r.name for r in report.layers] == ["lstm"]
    assert "UNSAFE: loaded with safe mode off" in report.table()
    marker.unlink()
    assert main(["check-model", path, "--unsafe", "--json", str(tmp_path / "r.json")]) == 0
    assert '"unsafe": true' in (tmp_path / "r.json").read_text()


@pytest.mark.parametrize("target,ext", CASES)
def test_keras_safe_mode_is_on_behind_the_config_check(target, ext, tmp_path, monkeypatch):
    """Without rnnparity's own config check, Keras' safe mode still refuses the .keras files (and
    Keras 3's .h5); tf_keras loads a .h5 file's Lambda with no safe mode at all, running its code:
    that is why the config is checked first."""
    path, marker = _lambda_model_file(target, ext, tmp_path)
    monkeypatch.setattr(modelfile, "unsafe_objects", lambda *a, **k: [])
    if (target, ext) == ("tf_keras", "h5"):
        modelfile.load_model(path)
        assert marker.exists()
        return
    with pytest.raises(ValueError, match="could not be loaded .*Lambda"):
        modelfile.load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("target,ext", CASES)
def test_a_custom_object_is_refused_by_name(target, ext, tmp_path):
    K = keras_module(target)
    L = K.layers
    register = getattr(K.saving, "register_keras_serializable", None) or K.utils.register_keras_serializable

    @register(package="rnnparity_tests")
    class Identity(L.Layer):
        def call(self, x):
            return x

    model = K.Sequential([L.Input((None, 3)), Identity(name="identity"), L.GRU(2, name="gru")])
    path = str(tmp_path / f"custom.{ext}")
    _save(model, path)
    with pytest.raises(modelfile.UnsafeModel, match=r"'(rnnparity_tests>)?Identity' \(layer 'identity'\)") as info:
        rp.check_model(path)
    assert "\n" not in str(info.value)
    report = rp.check_model(path, unsafe=True, inputs=np.zeros((2, 4, 3), "float32"))
    assert report.passed and report.unsafe


def test_the_config_check_names_what_it_refuses():
    """On configs as Keras writes them (.keras with modules, .h5 without)."""
    builtin = {"Sequential", "LSTM", "InputLayer", "GlorotUniform"}
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"name": "in"}},
        {"class_name": "Lambda", "config": {"name": "lam", "function": ["b64", None, None],
                                            "function_type": "lambda"}},
        {"module": "my_pkg.layers", "class_name": "MyCell", "config": {"name": "cell"}},
        {"class_name": "LSTM", "config": {"name": "lstm", "activation": {
            "class_name": "__lambda__", "config": {"code": "b64"}}}},
        {"class_name": "Shady", "config": {"name": "shady"}},
        {"module": "keras.layers", "class_name": "LSTM", "config": {"name": "ok", "kernel_initializer": {
            "module": "keras.initializers", "class_name": "GlorotUniform", "config": {}}}},
    ]}}
    assert modelfile.unsafe_objects(config, builtin, "tf_keras") == [
        "a Lambda layer 'lam'",
        "the custom object 'MyCell' (layer 'cell') from module 'my_pkg.layers'",
        "a serialised lambda function (in layer 'lstm')",
        "the object 'Shady' (layer 'shady'), which is not a built-in of tf_keras",
    ]
    assert modelfile.unsafe_objects({"class_name": "Sequential", "config": {"layers": []}}, builtin) == []


def test_paths_that_are_no_model_are_one_line(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes.h5: not a Keras model file \(expected a .keras zip"):
        modelfile.read_metadata(text)
    with pytest.raises(ValueError, match=r"missing.keras: no such file"):
        modelfile.read_metadata(tmp_path / "missing.keras")
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"other.keras: a zip file without config.json"):
        modelfile.read_metadata(tmp_path / "other.keras")
    with pytest.raises(ValueError, match=r"does not say which Keras wrote it \(keras_version missing\)"):
        modelfile.framework_for("x.h5", "")
    assert os.path.exists(tmp_path / "other.keras")
