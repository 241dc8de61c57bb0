"""The command behaves like a good Unix tool: a closed pipe ends it quietly, an unknown case id gets
the nearest ids, TensorFlow's log lines stay out of `record` and `check --case`, and `--version` says
what is installed without importing a framework."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import rnnparity
from rnnparity.targets import registry
from rnnparity.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SRC = str(Path(rnnparity.__file__).resolve().parents[1])
# the environment of a new user: no TF_CPP_MIN_LOG_LEVEL of their own
QUIET_ENV = {**{k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}, "PYTHONPATH": SRC}


def _cli(*argv):
    return [sys.executable, "-m", "rnnparity.cli", *argv]


def _needs(target):
    ok, why = registry.availability(target)
    if not ok:
        pytest.skip(why)


@pytest.mark.parametrize("argv", [
    ["list"],
    ["compare", str(FIXTURES / "tf_keras-2.21.0"), str(FIXTURES / "keras3-3.15.1")],
], ids=["list", "compare"])
def test_a_reader_that_stops_early_ends_the_command_quietly(argv):
    if argv[0] == "compare" and not (FIXTURES / "keras3-3.15.1").is_dir():
        pytest.skip("no committed recordings to compare")
    proc = subprocess.Popen(_cli(*argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=QUIET_ENV)
    proc.stdout.close()  # the reader is gone before the first write, as `| head` soon is
    err = proc.stderr.read().decode()
    proc.wait(120)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert err == "" and proc.returncode == 128 + signal.SIGPIPE, (proc.returncode, err)


@pytest.mark.parametrize("case_id, nearest", [
    ("lstm-bwd-seq-f32-keras3", "lstm-seq-bwd-f32-keras3"),  # words out of order ("not canonical")
    ("lstm-seq-stat-f32-keras3", "lstm-seq-state-f32-keras3"),  # a typo
    ("lstm", None),  # too short to parse (an IndexError before)
    ("tf1-dynamic_rnn-lstm_cell-seqlen_full-batch_major-init-f16",  # no f16 in tf1
     "tf1-dynamic_rnn-lstm_cell-seqlen_full-batch_major-init-f64"),
])
def test_an_unknown_case_id_is_named_with_the_nearest_ids(capsys, case_id, nearest):
    assert main(["check", "--case", case_id]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rnnparity check: {case_id!r} is not a known case id") and len(err.splitlines()) == 1
    assert "canonical" not in err and "Traceback" not in err
    if nearest:
        assert re.search(r"nearest: (.*)$", err).group(1).split(", ")[0] == nearest
    else:
        assert f"rnnparity list --tier full {case_id}" in err


def _framework_noise(stderr):
    """stderr lines that are not rnnparity's own (its progress bar is the only thing it writes)."""
    return [ln for ln in stderr.splitlines() if ln.strip() and not re.match(r"^\[[#.]+\] \d+/\d+ ", ln)]


@pytest.mark.live
def test_check_case_and_record_print_no_tensorflow_logs(tmp_path):
    _needs("keras3")
    _needs("tf_keras")
    one = subprocess.run(_cli("check", "--case", "gru-bidi_sum-seq-mask_left-f32-keras3"), env=QUIET_ENV,
                         capture_output=True, text=True)
    assert one.returncode == 0 and "PASS" in one.stdout, one.stdout + one.stderr
    assert _framework_noise(one.stderr) == []
    rec = subprocess.run(_cli("record", "--target", "tf_keras", "--out", str(tmp_path / "r"),
                              "simple_rnn-seq-state", "f64"), env=QUIET_ENV, capture_output=True, text=True)
    assert rec.returncode == 0 and "recorded 2 cases" in rec.stdout, rec.stdout + rec.stderr
    assert _framework_noise(rec.stderr) == []


def test_version_names_every_framework_without_importing_one():
    code = ("import sys; from rnnparity.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "heavy = [m for m in ('tensorflow', 'keras', 'tf_keras') if m in sys.modules]\n"
            "print('imported:', heavy)")
    proc = subprocess.run([sys.executable, "-c", code], env=QUIET_ENV, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-1] == "imported: []"
    got = dict(line.split(" ", 1) for line in lines[:-1])

    def installed(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    keras = installed("keras")
    assert got == {"rnnparity": rnnparity.__version__, "python": ".".join(map(str, sys.version_info[:3])),
                   "numpy": installed("numpy"), "tensorflow": installed("tensorflow"),
                   "keras": keras + (f" (backend {backend})" if keras != "not installed" else ""),
                   "tf_keras": installed("tf-keras")}


def test_check_defaults_to_the_installed_targets(monkeypatch):
    from rnnparity.cli import check_suite

    seen = {}
    monkeypatch.setattr(check_suite, "check_suite", lambda args: seen.setdefault("target", args.target) and 0)
    # what is installed is decided here, so the test means the same in a venv with only the test extra
    installed = {"keras3", "tf_keras", "onnx", "keras3-jax"}
    monkeypatch.setattr(registry, "availability",
                        lambda t: (t in installed, "" if t in installed else f"target {t}: not installed"))
    main(["check"])
    # the default selection among the installed: keras3-jax is installed but only runs when named
    assert seen["target"] == ",".join(t for t in registry.default_targets() if t in installed)
    assert {"keras3", "tf_keras", "onnx"} <= set(seen["target"].split(",")) and "keras3-jax" not in seen["target"]
    monkeypatch.setattr(registry, "availability", lambda t: (False, f"target {t}: not installed"))
    seen.clear()
    assert main(["check"]) == 2 and not seen  # nothing to run live: said, not a silent exit 0


def test_an_unknown_target_is_refused_before_anything_runs(capsys):
    # a typo used to run 0 cases and end with "no cases ran (is a framework installed?)"
    assert main(["check", "--target", "keras3,onnxx"]) == 2
    assert main(["list", "--target", "tflitee", "--count"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("rnnparity check: unknown target 'onnxx': expected one of keras3, tf_keras")
    assert err[1].startswith("rnnparity list: unknown target 'tflitee'")


def test_python_dash_m_rnnparity_is_the_command():
    """`python -m rnnparity` runs the same command as `rnnparity` (and `python -m rnnparity.cli`)."""
    ran = [subprocess.run([sys.executable, "-m", module, "list", "--count"], capture_output=True, text=True,
                          env=QUIET_ENV, timeout=120) for module in ("rnnparity", "rnnparity.cli")]
    assert [r.returncode for r in ran] == [0, 0], [r.stderr[-500:] for r in ran]
    assert ran[0].stdout == ran[1].stdout and int(ran[0].stdout) > 0
