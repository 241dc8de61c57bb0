"""The `rnnparity` command line: list, explain, compare, record, check."""
from __future__ import annotations

import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rnnparity
from rnnparity.targets import registry
from rnnparity import golden
from rnnparity.plan import Outcome, Recording
from rnnparity.matrix.tiers import cases
from rnnparity.cli import main
from rnnparity.output_structure import explain
from rnnparity.report import summary_table
from rnnparity.matrix.tf1_cases import tf1_cases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _recording(target):
    for d in golden.recording_dirs(FIXTURES):
        rd = golden.RecordingDir(d)
        if rd.manifest["target"] == target and rd.manifest.get("subset") is None:
            return rd
    pytest.skip(f"no committed full {target} recording under {FIXTURES}")


def _needs(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)


def test_list_counts_every_case_and_filters(capsys):
    assert main(["list", "--count"]) == 0
    keras = tuple(t for t in registry.default_targets() if t in registry.keras_targets())  # e.g. tflite too
    assert int(capsys.readouterr().out) == len(cases("default", keras)) + len(tf1_cases("default"))
    assert main(["list", "--target", "keras3", "lstm", "bwd", "stateful"]) == 0
    ids = capsys.readouterr().out.split()
    # a word matches a part of the id or a substring of it: "lstm" selects the ConvLSTM cases too
    assert ids and all({"bwd", "stateful"} <= set(i.split("-")) and "lstm" in i.split("-")[0]
                       and i.endswith("-keras3") for i in ids)
    assert any(i.startswith("lstm-") for i in ids) and any(i.startswith("conv_lstm") for i in ids)
    assert main(["list", "no-such-word"]) == 1


@pytest.mark.parametrize("argv, spec, dialect", [
    (["LSTM", "--units", "4", "--return-sequences", "--return-state", "--input-shape", "2,5,3"],
     {"class": "LSTM", "config": {"units": 4, "return_sequences": True, "return_state": True,
                                  "dtype": "float32"}, "wrapper": None}, "keras3"),
    (["GRU", "--units", "3", "--return-state", "--input-shape", "1,4,2", "--bidirectional", "none",
      "--target", "tf_keras", "--dtype", "float64"],
     {"class": "GRU", "config": {"units": 3, "return_state": True, "dtype": "float64"},
      "wrapper": {"merge_mode": None}}, "keras2"),
])
def test_explain_prints_the_explanation_of_the_spec_it_was_given(capsys, argv, spec, dialect):
    assert main(["explain", *argv]) == 0
    shape = tuple(int(s) for s in argv[argv.index("--input-shape") + 1].split(","))
    assert capsys.readouterr().out.strip() == str(explain(spec, shape, dialect))


@pytest.mark.parametrize("argv, spec", [
    (["ConvLSTM2D", "--filters", "8", "--kernel-size", "3", "--strides", "2", "--padding", "same",
      "--return-state", "--input-shape", "4,10,64,63,1"],
     {"class": "ConvLSTM2D", "config": {"filters": 8, "kernel_size": 3, "strides": 2, "padding": "same",
                                        "return_state": True, "dtype": "float32"}, "wrapper": None}),
    (["ConvLSTM1D", "--filters", "2", "--kernel-size", "4", "--dilation-rate", "2", "--data-format",
      "channels_first", "--return-sequences", "--bidirectional", "concat", "--input-shape", "1,3,5,20"],
     {"class": "ConvLSTM1D", "config": {"filters": 2, "kernel_size": 4, "dilation_rate": 2,
                                        "data_format": "channels_first", "return_sequences": True,
                                        "dtype": "float32"}, "wrapper": {"merge_mode": "concat"}}),
    (["ConvLSTM3D", "--filters", "1", "--kernel-size", "1,2,3", "--strides", "1,2,1",
      "--input-shape", "2,1,4,6,8,3"],
     {"class": "ConvLSTM3D", "config": {"filters": 1, "kernel_size": (1, 2, 3), "strides": (1, 2, 1),
                                        "dtype": "float32"}, "wrapper": None}),
])
def test_explain_conv_lstm_by_name(capsys, argv, spec):
    assert main(["explain", *argv]) == 0
    shape = tuple(int(s) for s in argv[argv.index("--input-shape") + 1].split(","))
    out = capsys.readouterr().out.strip()
    assert out == str(explain(spec, shape, "keras3"))
    assert "note: spatial shape" in out  # how the spatial shape came about


@pytest.mark.parametrize("argv, said", [
    (["LSTM", "--units", "4", "--padding", "same", "--input-shape", "2,5,3"], "does not take --padding"),
    (["ConvLSTM2D", "--units", "4", "--input-shape", "2,5,6,6,3"], "takes --filters, not --units"),
    (["ConvLSTM2D", "--filters", "4", "--input-shape", "2,5,6,6,3"], "needs --kernel-size"),
    (["ConvLSTM2D", "--filters", "4", "--kernel-size", "3", "--input-shape", "2,5,6,3"],
     "must have 5 numbers, batch,time,h,w,channels"),
    (["ConvLSTM2D", "--filters", "4", "--kernel-size", "3", "--time-major", "--input-shape", "2,5,6,6,3"],
     "no time_major"),
])
def test_explain_refuses_options_the_layer_does_not_take(capsys, argv, said):
    assert main(["explain", *argv]) == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("argv, said", [
    (["ConvLSTM1D", "--filters", "2", "--kernel-size", "3,3", "--input-shape", "2,5,7,3"],
     "The `kernel_size` argument must be a tuple of 1 integers"),
    (["ConvLSTM1D", "--filters", "2", "--kernel-size", "9", "--input-shape", "2,5,7,3"], "does not fit"),
    (["ConvLSTM2D", "--filters", "2", "--kernel-size", "3", "--strides", "2", "--dilation-rate", "2",
      "--input-shape", "2,5,7,7,3"], "not compatible with `dilation_rate > 1`"),
])
def test_explain_says_where_keras_refuses_a_conv_lstm(capsys, argv, said):
    assert main(["explain", *argv]) == 1
    assert said in capsys.readouterr().err


def test_explain_rejects_a_bad_input_shape(capsys):
    with pytest.raises(SystemExit) as info:
        main(["explain", "LSTM", "--units", "4", "--input-shape", "2,5"])
    assert info.value.code == 2 and "batch,time,features" in capsys.readouterr().err


def _subset(tmp_path, name, recs):
    out = tmp_path / name
    with golden.Writer(out, {"target": name}) as w:
        for r in recs:
            w.add(r)
    return str(out)


def test_compare_same_differs_only_and_rejected(tmp_path, capsys):
    k2, k3 = _recording("tf_keras"), _recording("keras3")
    recs = [k2.load(c) for c in k2.case_ids[:6]]
    a = _subset(tmp_path, "a", recs)
    assert main(["compare", a, _subset(tmp_path, "a2", recs)]) == 0
    assert "same 6" in capsys.readouterr().out
    victim = recs[1]
    outs = [type(o)(np.asarray(v) + 0.25 for v in o) if isinstance(o, (list, tuple)) else o + 0.25
            for o in victim.outcome.outputs]
    changed = Recording(victim.case_id, victim.spec, victim.plan, victim.weights,
                               Outcome(outs), victim.dialect, victim.time_axis)
    rejected = k3.load("lstm-bidi_concat-bwd-f32-keras3")
    b = _subset(tmp_path, "b", [recs[0], changed, *recs[3:], rejected])
    a = _subset(tmp_path, "a3", [*recs, k2.load("lstm-bidi_concat-bwd-f32-tf_keras")])
    assert main(["compare", a, b, "--format", "json", "--out", str(tmp_path / "r.json")]) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    status = {c["key"]: c for c in report["cases"]}
    assert status[victim.case_id.rsplit("-", 1)[0]]["status"] == "differs"
    assert status[victim.case_id.rsplit("-", 1)[0]]["max_abs"] == pytest.approx(0.25, rel=1e-3)
    assert status[recs[2].case_id.rsplit("-", 1)[0]]["status"] == "only in A"
    assert status["lstm-bidi_concat-bwd-f32"]["status"] == "rejected in B"
    assert report["counts"] == {"same": 4, "differs": 1, "only in A": 1, "rejected in B": 1}


def test_compare_tf_keras_vs_keras3_lists_the_real_differences(capsys):
    k2, k3 = _recording("tf_keras"), _recording("keras3")
    assert main(["compare", str(k2.path), str(k3.path)]) == 1
    text = capsys.readouterr().out
    assert "DIFFERENT (exit 1)" in text
    assert "rejected in B [rejection]: ValueError at construction/build: Forward layer and backward" in text
    assert "list of 3, B: tuple of 3" in text
    assert "dtype A float64, B float32" in text
    values = text.split("[values]")[1].split("###")[0]
    assert "hard_sigmoid" in values


def test_record_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    (out / "keep").write_text("old")
    assert main(["record", "--target", "tf_keras", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and (out / "keep").read_text() == "old"


@pytest.mark.live
def test_record_then_replay_then_sigterm_leaves_nothing(tmp_path):
    _needs("tf_keras")
    out = tmp_path / "rec"
    cmd = [sys.executable, "-m", "rnnparity.cli", "record", "--target", "tf_keras", "--out", str(out)]
    subprocess.run(cmd + ["simple_rnn-seq-state", "f64"], check=True, env=ENV, capture_output=True)
    rd = golden.RecordingDir(out)
    assert rd.case_ids and all("simple_rnn-seq-state" in c and "f64" in c for c in rd.case_ids)
    replay = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "rnnparity.suite", "-m", "replay",
                             "-q", "-p", "no:cacheprovider", "--rnnparity-fixtures", str(out)],
                            env=ENV, capture_output=True, text=True)
    assert replay.returncode == 0 and f"{len(rd.case_ids)} passed" in replay.stdout, replay.stdout[-2000:]
    before = sorted(p.name for p in out.iterdir())
    proc = subprocess.Popen(cmd + ["--force"], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not list(tmp_path.glob("rec.partial-*/*.npz")) and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert proc.returncode != 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rec"]  # no half-written recording left
    assert sorted(p.name for p in out.iterdir()) == before  # the older one untouched


@pytest.mark.live
def test_check_one_case_prints_pass_and_a_known_bug_as_xfail(capsys):
    _needs("keras3")
    assert main(["check", "--case", "lstm-seq-state-f32-keras3"]) == 0
    out = capsys.readouterr().out
    assert "PASS: max abs error" in out and "final c (carry state)" in out
    assert main(["check", "--case", "lstm-bidi_sum-state-stateful-f32-keras3"]) == 0
    assert "XFAIL: known framework bug [keras3-bidirectional-stateful-return-state]" in capsys.readouterr().out


@pytest.mark.live
def test_check_runs_the_suite_over_xdist_with_json_and_junit(tmp_path):
    _needs("tf_keras")
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    proc = subprocess.run([sys.executable, "-m", "rnnparity.cli", "check", "--target", "tf_keras", "-n", "2",
                           "-k", "simple_rnn-f32-tf_keras or gru-seq-state-bwd-f32-tf_keras or "
                           "simple_rnn-seq-state-f64-tf_keras or simple_rnn-activation_relu-tf_keras",
                           "--json", str(j), "--junit-xml", str(x)], env=ENV, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    out = proc.stdout
    assert re.search(r"^4 cases in \d+\.\d s: 4 passed, 0 failed", out, re.M) and "pass/fail/xfail" in out
    assert out.startswith(f"rnnparity {rnnparity.__version__}, Python {platform.python_version()}, NumPy ")
    assert "tier default, targets tf_keras, data and weight seeds: crc32" in out.splitlines()[1]
    assert "per target: tf_keras 4 (4 passed)" in out
    assert "per kind:   matrix 3 (3 passed), activation sweep 1 (1 passed)" in out
    report = json.loads(j.read_text())
    assert report["counts"] == {"passed": 4} and 'tests="4"' in x.read_text()
    # the largest error per precision, over the matrix cases (payloads came back from the workers)
    assert {p: e["cases"] for p, e in report["max_errors"].items()} == {"float32": 2, "float64": 1}
    for precision, e in report["max_errors"].items():
        assert f"largest error, {precision}: abs {e['abs']:.3g}, rel {e['rel']:.3g} over {e['cases']} agreeing" in out
    assert 0 < report["max_errors"]["float64"]["abs"] < 1e-12 < report["max_errors"]["float32"]["abs"] < 1e-5


def test_summary_table_counts_outcomes_per_layer_and_flag():
    results = {"s/test_keras.py::test_keras[lstm-bwd-f32-keras3]": ("passed", ""),
               "s/test_keras.py::test_keras[lstm-seq-bwd-f32-keras3]": ("failed", "boom"),
               "s/test_keras.py::test_keras[gru-bidi_sum-stateful-f32-keras3]": ("xfailed", "")}
    lines = summary_table(results).splitlines()
    head = lines[1].split()
    row = {ln.split()[0]: dict(zip(head[1:], ln.split()[1:])) for ln in lines[3:]}
    assert row["lstm"]["all"] == "1/1/0" and row["lstm"]["bwd"] == "1/1/0" and row["lstm"]["seq"] == "0/1/0"
    assert row["gru"]["stateful"] == "0/0/1" and row["gru"]["bidi"] == "0/0/1"
