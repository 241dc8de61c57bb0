"""The pytest plugin in other people's runs (silent, free) and in rnnparity's own (an empty run fails).

Each run is a subprocess with this checkout's src/ first on PYTHONPATH and the plugin loaded by module
name (`-p no:rnnparity -p rnnparity.plugin`), so the test holds whether or not an rnnparity entry point
is installed in the environment."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rnnparity.targets import registry

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ["-p", "no:rnnparity", "-p", "rnnparity.plugin", "-p", "no:cacheprovider"]
HEAVY = ("tensorflow", "keras", "tf_keras", "numpy", "rnnparity.golden", "rnnparity.reference")
CONFTEST = f"""
import json, sys

def pytest_unconfigure(config):
    plugin = config.pluginmanager.get_plugin("rnnparity.plugin")
    with open("report.json", "w") as f:
        json.dump({{"plugin": getattr(plugin, "__file__", None),
                    "imported": [m for m in {HEAVY!r} if m in sys.modules]}}, f)
"""


def _pytest(cwd, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("RNNPARITY_FIXTURES", None)
    env.pop("RNNPARITY_TIMING", None)  # a timed run of this suite wraps the frameworks on purpose
    return subprocess.run([sys.executable, "-m", "pytest", *PLUGIN, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _unrelated_project(tmp_path, test_source):
    (tmp_path / "test_theirs.py").write_text(textwrap.dedent(test_source))
    (tmp_path / "conftest.py").write_text(CONFTEST)
    return tmp_path


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_unrelated_run_prints_nothing_and_imports_nothing_heavy(tmp_path, workers):
    project = _unrelated_project(tmp_path, "def test_ok():\n    assert True\n")
    done = _pytest(project, "-ra", *workers)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((project / "report.json").read_text())
    assert report["plugin"] == str(ROOT / "src" / "rnnparity" / "plugin.py")  # it was loaded
    assert report["imported"] == []
    # pytest's own "plugins: rnnparity-0.1.0, ..." line lists every installed plugin; nothing else
    ours = [ln for ln in (done.stdout + done.stderr).splitlines()
            if "rnnparity" in ln and not ln.startswith("plugins:")]
    assert ours == [], ours


def test_its_markers_are_registered_without_the_repository_config(tmp_path):
    project = _unrelated_project(tmp_path, """
        import pytest

        @pytest.mark.live
        @pytest.mark.replay
        @pytest.mark.full
        def test_marked():
            pass
    """)
    done = _pytest(project, "--strict-markers", "-W", "error::pytest.PytestUnknownMarkWarning")
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_suite_run_that_tested_nothing_fails_saying_why(tmp_path, workers):
    """No recordings to replay: every suite case is skipped, and the run must not pass."""
    empty = tmp_path / "no-recordings"
    empty.mkdir()
    # --rnnparity-targets tf1: the keras tests collect without importing Keras (their activation names)
    done = _pytest(tmp_path, "--pyargs", "rnnparity.suite", "-m", "replay", "--rnnparity-fixtures", str(empty),
                   "--rnnparity-targets", "tf1", *workers)
    assert done.returncode == 5, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    why = lines.index("rnnparity: nothing was tested: all 1 suite cases were skipped (reasons above); exit status 5")
    assert lines[why - 1].startswith(f"skipped 1: replay: no recordings under {empty}"), done.stdout


def test_a_suite_run_that_skips_some_and_runs_others_passes(tmp_path):
    """The Keras tests skip (no Keras target selected); recorded tf1 cases replay: the run passes."""
    fixtures = ROOT / "fixtures"
    if not (fixtures / "tf1-2.21.0").is_dir():
        pytest.skip(f"no committed tf1 recording under {fixtures}")
    done = _pytest(tmp_path, "--pyargs", "rnnparity.suite", "--rnnparity-targets", "tf1",
                   "--rnnparity-fixtures", str(fixtures / "tf1-2.21.0"),
                   "-k", "(tf1-2.21.0 and basic_rnn_relu and dynamic_rnn) or keras-not-selected")
    assert done.returncode == 0, done.stdout + done.stderr
    from rnnparity.targets import registry

    keras = "/".join(registry.keras_targets())  # keras3/tf_keras/tflite/keras3-numpy/...
    assert f"skipped 1: no {keras} target selected (--rnnparity-targets=tf1)" in done.stdout, done.stdout
    assert "nothing was tested" not in done.stdout
