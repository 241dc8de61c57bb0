"""`rnnparity check-model` / `record-model` on a nowcasting-style model (stacked ConvLSTM2D +
BatchNormalization + Conv3D, the precipitation-nowcasting and video-prediction design), saved by
Keras 3 and tf_keras as .keras and .h5: it passes; a planted gate-order bug and a flipped kernel in
the reference make both ConvLSTM rows fail, and the diagnosis names the mistake. Tiny shapes (T 4,
6x6 frames, 3 filters): the file runs in well under a minute."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from rnnparity.cli import main
from rnnparity.reference import conv_lstm
from tests.model_zoo import keras_module

pytestmark = pytest.mark.live
T, SIDE, FILTERS = 4, 6, 3
ROWS = [("conv_lstm_1", "ConvLSTM2D"), ("conv_lstm_2", "ConvLSTM2D")]
FILES = [("keras3", "keras"), ("keras3", "h5"), ("tf_keras", "keras"), ("tf_keras", "h5")]


def nowcasting(K):
    """Frames (T, SIDE, SIDE, 1) -> the next frames: two ConvLSTM2D with BatchNormalization, then a
    Conv3D read-out (Keras' own "next-frame video prediction" example, smaller)."""
    frames = K.Input((T, SIDE, SIDE, 1), name="frames")
    h = K.layers.ConvLSTM2D(FILTERS, (3, 3), padding="same", return_sequences=True, name="conv_lstm_1")(frames)
    h = K.layers.BatchNormalization(name="norm_1")(h)
    h = K.layers.ConvLSTM2D(FILTERS, (3, 2), padding="same", return_sequences=True, name="conv_lstm_2")(h)
    h = K.layers.BatchNormalization(name="norm_2")(h)
    out = K.layers.Conv3D(1, (3, 3, 3), padding="same", activation="sigmoid", name="next_frames")(h)
    model = K.Model(frames, out)
    rng = np.random.default_rng(5)  # seeded weights different for every gate, filter and tap
    for layer in model.layers:
        weights = layer.get_weights()
        if weights and layer.name.startswith("conv_lstm"):
            layer.set_weights([rng.uniform(-0.5, 0.5, np.shape(w)).astype("float32") for w in weights])
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root, paths = tmp_path_factory.mktemp("nowcasting"), {}

    def get(target, ext):
        if (target, ext) not in paths:
            path = root / f"nowcasting-{target}.{ext}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                nowcasting(keras_module(target)).save(str(path))
            paths[target, ext] = str(path)
        return paths[target, ext]
    return get


@pytest.mark.parametrize("target,ext", FILES)
def test_nowcasting_model_passes_check_model(saved, target, ext, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["check-model", saved(target, ext), "--json", str(out)]) == 0, capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["passed"] is True and report["framework"] == target
    assert [(r["name"], r["class"], r["status"]) for r in report["layers"]] == \
        [(name, cls, "pass") for name, cls in ROWS]
    assert all(r["max_abs_error"] <= 1e-5 for r in report["layers"])
    assert "conv_lstm_1  ConvLSTM2D  filters=3 kernel_size=(3, 3) seq" in capsys.readouterr().out


def test_nowcasting_model_is_recorded(saved, tmp_path, capsys):
    """record-model records each ConvLSTM layer on the inputs it receives, checked on the way."""
    rec = tmp_path / "rec"
    assert main(["record-model", saved("tf_keras", "h5"), "--out", str(rec)]) == 0
    out = capsys.readouterr().out
    for name, cls in ROWS:
        assert f"recorded {name} ({cls}, 1 x 1 call) as {name}-tf_keras.npz; check: pass" in out, out
    assert main(["compare", str(rec), str(rec)]) == 0, capsys.readouterr().out


def swapped_gate_order(mp):
    """The forget and candidate blocks read in the wrong order (i, c, f, o)."""
    mp.setattr(conv_lstm, "CONV_LSTM_GATES", ("i", "c", "f", "o"))


def flipped_kernel(mp):
    """A true convolution: the kernels flipped along every spatial axis."""
    original = conv_lstm.cross_correlate

    def convolve(x, kernel, *args, **kwargs):
        return original(x, np.flip(kernel, axis=tuple(range(kernel.ndim - 2))), *args, **kwargs)
    mp.setattr(conv_lstm, "cross_correlate", convolve)


PLANTED = {"conv_lstm_gate_order_icfo": swapped_gate_order, "conv_kernel_flipped": flipped_kernel}


@pytest.mark.parametrize("target,ext", [("keras3", "keras"), ("tf_keras", "h5")])
@pytest.mark.parametrize("mistake", sorted(PLANTED))
def test_planted_conv_lstm_bug_fails_check_model_by_name(saved, target, ext, mistake, monkeypatch, capsys):
    path = saved(target, ext)
    PLANTED[mistake](monkeypatch)
    assert main(["check-model", path]) == 1
    text = capsys.readouterr().out
    rows = {line.split()[0]: line for line in text.splitlines() if line.startswith("conv_lstm_")
            and "ConvLSTM2D" in line}
    assert all(rows[name].rstrip().endswith("FAIL") for name, _ in ROWS), text
    assert "conv_lstm_1 [fail]:" in text and "FAILED: 2 recurrent layer(s): 2 fail" in text
    assert f"one known porting mistake [{mistake}]" in text, text
