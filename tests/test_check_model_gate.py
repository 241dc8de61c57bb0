"""check-model as a CI gate (issue 24, items 1-3, 8, 10): an unsupported layer is a counted row that
fails the run by default or is skipped, visibly, with --unsupported=skip; a user's custom cell loads
with --custom-objects; the errors a model file meets say what to do; the tolerance used is said."""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import textwrap
import warnings
from xml.etree import ElementTree

import numpy as np
import pytest

import rnnparity as rp
from rnnparity.cli import main
from rnnparity.report.model_report import junit_xml
from rnnparity.testing import assert_layer
from tests.model_zoo import keras_module

pytestmark = pytest.mark.live

# A cell of the user's own: no `units` attribute (the row must not say units=?), one state.
CELLS = textwrap.dedent('''
    import keras


    class MinimalCell(keras.layers.Layer):
        def __init__(self, size, **kwargs):
            super().__init__(**kwargs)
            self.size = self.state_size = size

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.size), name="kernel")

        def call(self, inputs, states):
            h = keras.ops.matmul(inputs, self.kernel) + states[0]
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "size": self.size}
''')
MODULE = "rnnparity_test_cells"


@pytest.fixture
def cells(tmp_path, monkeypatch):
    """The user's module, importable from the current directory (tmp_path) only."""
    keras_module("keras3")
    (tmp_path / f"{MODULE}.py").write_text(CELLS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # what the --custom-objects import adds is undone
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(MODULE)
    sys.path.remove(str(tmp_path))
    yield module
    sys.modules.pop(MODULE, None)


def _custom_model(module, K):
    x_in = K.layers.Input((None, 3))
    h = K.layers.RNN(module.MinimalCell(3), return_sequences=True, name="custom_rnn")(x_in)
    h = K.layers.LSTM(4, name="lstm")(h)
    return K.Model(x_in, h)


X = np.random.RandomState(0).normal(size=(2, 5, 3)).astype("float32")


# -- 1. unsupported rows: counted, failing by default, skipped visibly with unsupported="skip" ----------
def test_an_unsupported_layer_fails_by_default_and_is_skipped_visibly(cells, tmp_path):
    import keras

    model = _custom_model(cells, keras)
    report = rp.check_model(model, X)
    rows = {r.name: r for r in report.layers}
    custom = rows["custom_rnn"]
    assert custom.status == "unsupported" and rows["lstm"].status == "pass"
    assert custom.outputs_checked == "none" and "units=?" not in custom.flags
    assert not report.passed and "(failing the run: pass --unsupported=skip to skip them)" in report.table()

    skipped = rp.check_model(model, X, unsupported="skip")
    assert skipped.passed and [r.status for r in skipped.layers] == ["unsupported", "pass"]
    text = skipped.table()
    assert "UNSUPPORTED (skipped)" in text and "custom_rnn [unsupported, skipped: --unsupported=skip]:" in text
    assert text.rstrip().endswith("PASSED: 2 recurrent layer(s): 1 pass, 1 unsupported "
                                  "(1 skipped: --unsupported=skip)")
    assert "1 x 1 call" in text and text.count("none") >= 2  # mask none, outputs checked none
    suite = ElementTree.fromstring(junit_xml(skipped))
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "1")
    case = next(c for c in suite.iter("testcase") if c.get("name") == "custom_rnn")
    assert case.find("skipped").get("type") == "unsupported (--unsupported=skip)"
    assert "custom cell" in case.find("skipped").get("message")
    assert [r["outcome"] for r in skipped.to_dict()["layers"]] == ["skipped", "passed"]
    if importlib.util.find_spec("jinja2") is not None:  # the HTML page shows the skip too
        from rnnparity.report import html

        html.write_model_page(tmp_path / "m.html", skipped)
        page = (tmp_path / "m.html").read_text()
        assert "<b>UNSUPPORTED (skipped)</b>" in page and "skipped (--unsupported=skip)" in page
        assert "<td>none</td>" in page
    with pytest.raises(ValueError, match="unsupported must be one of 'fail', 'skip'"):
        rp.check_model(model, X, unsupported="ignore")


def test_a_model_of_unsupported_layers_only_never_passes(cells):
    import keras

    x_in = keras.layers.Input((None, 3))
    model = keras.Model(x_in, keras.layers.RNN(cells.MinimalCell(2), name="only")(x_in))
    report = rp.check_model(model, X, unsupported="skip")
    assert not report.passed and report.table().rstrip().endswith("; no layer was checked")


def test_assert_layer_skips_an_unsupported_layer_with_the_reason(cells):
    import keras

    custom, lstm = rp.check_model(_custom_model(cells, keras), X).layers
    with pytest.raises(pytest.skip.Exception, match=r"custom_rnn \(RNN\(MinimalCell\)\) is unsupported: .*custom cell"):
        assert_layer(custom)
    with pytest.raises(AssertionError, match=r"\[unsupported\]"):
        assert_layer(custom, unsupported="fail")
    assert_layer(lstm)


# -- 2. --custom-objects: the user's cell loads; its row is unsupported, the rest checked --------------------
def test_a_custom_cell_model_is_checked_from_the_cli_with_custom_objects(cells, tmp_path, capsys):
    import keras

    path = str(tmp_path / "custom.keras")
    _custom_model(cells, keras).save(path)
    sys.modules.pop(MODULE)  # the CLI imports it itself, from the current directory
    assert main(["check-model", path]) == 2
    assert "Name your own classes with --custom-objects module:name" in capsys.readouterr().err
    out_json, out_xml = tmp_path / "r.json", tmp_path / "r.xml"
    assert main(["check-model", path, "--custom-objects", f"{MODULE}:MinimalCell"]) == 1
    assert "1 pass, 1 unsupported (failing the run" in capsys.readouterr().out
    assert main(["check-model", path, "--custom-objects", f"{MODULE}:MinimalCell", "--unsupported", "skip",
                 "--json", str(out_json), "--junit-xml", str(out_xml)]) == 0
    report = json.loads(out_json.read_text())
    assert [(r["name"], r["status"], r["outcome"]) for r in report["layers"]] == \
        [("custom_rnn", "unsupported", "skipped"), ("lstm", "pass", "passed")]
    assert ElementTree.parse(out_xml).getroot().get("skipped") == "1"
    capsys.readouterr()
    assert main(["explain", path, "--custom-objects", f"{MODULE}:MinimalCell"]) == 1  # loaded; one layer unexplained
    out = capsys.readouterr().out
    assert "lstm (LSTM):\n  LSTM(units=4)" in out and "MinimalCell, which is not a built-in cell" in out
    assert main(["check-model", path, "--custom-objects", f"{MODULE}:NoSuchCell"]) == 2
    assert f"module '{MODULE}' has no 'NoSuchCell'" in capsys.readouterr().err
    assert main(["check-model", path, "--custom-objects", "MinimalCell"]) == 2
    assert "expected module:name" in capsys.readouterr().err


# -- 3. a Keras 3 .h5 with a mask op: the registered surprise, not Keras' custom_object_scope advice ---------
def test_a_keras3_h5_with_a_mask_op_names_the_registered_surprise(tmp_path, capsys):
    K = keras_module("keras3")
    ids = K.layers.Input((None,), dtype="int32")
    model = K.Model(ids, K.layers.GRU(3)(K.layers.Embedding(10, 4, mask_zero=True)(ids)))
    path = str(tmp_path / "m.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    assert main(["check-model", path]) == 2
    err = capsys.readouterr().err
    assert "a known Keras 3 surprise: Keras 3 cannot load its own .h5 of a functional model with " \
           "Embedding(mask_zero=True)" in err
    assert "Save the model as .keras" in err and "custom_object_scope" not in err

    # 8. inputs of the wrong shape: the expected and the given shapes, not Keras' printed values
    model.save(str(tmp_path / "m.keras"))
    np.savez(tmp_path / "wrong.npz", np.zeros((2, 5, 7), "int32"))
    assert main(["check-model", str(tmp_path / "m.keras"), "--inputs", str(tmp_path / "wrong.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("the inputs do not fit the model: input 'input_layer' expects shape (None, None) "
                        "(None: any size), given int32 (2, 5, 7)") or "expects shape (None, None)" in err
    assert "[[[0" not in err


# -- 10. the tolerance used is said, and a PASS row shows no diverging step ------------------------------
def test_a_tight_given_tolerance_is_said_and_a_pass_has_no_diverging_step():
    K = keras_module("keras3")
    x_in = K.layers.Input((None, 3))
    model = K.Model(x_in, K.layers.GRU(4, return_sequences=True, name="gru")(x_in))
    report = rp.check_model(model, np.random.RandomState(1).normal(size=(3, 6, 3)).astype("float32"),
                            atol=1e-12, rtol=0)
    (row,) = report.layers
    assert row.status == "pass" and row.max_abs_error > 1e-12
    assert row.first_diverging_step is None
    assert row.message.startswith("beyond the tolerance used (atol=1e-12, rtol=0 (given)); passed because "
                                  "the rounding verdict shows the differences are rounding")
    text = report.table()
    assert "tolerance: atol=1e-12, rtol=0 (given)" in text and "t=0" not in text
    plain = rp.check_model(model, np.random.RandomState(1).normal(size=(3, 6, 3)).astype("float32"))
    assert plain.tolerance.startswith("the tolerance table (float32: atol=1e-06, rtol=1e-06")
