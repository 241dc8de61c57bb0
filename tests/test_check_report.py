"""`rnnparity check`'s report: it runs exactly the cases `rnnparity list` lists (collected here with
the very pytest command line check runs), one row per layer in the summary table, and a count check
that fails the run when the two disagree."""
from __future__ import annotations

import json
import subprocess
import sys
from argparse import Namespace

import pytest

from rnnparity.targets import registry
from rnnparity.matrix.cases import LAYERS
from rnnparity.cli import main
from rnnparity.cli.check_suite import Collector, matrix_count_problem
from rnnparity.cli.common import case_list
from rnnparity.report import case_of, kind_of, summary_table

TARGETS = "keras3,tf_keras"
ARGS = dict(tier="default", target=TARGETS, replay=False, numprocesses=None, keyword=None, junit_xml=None)

COLLECT = f"""
import json, pytest
from argparse import Namespace
from rnnparity.cli import check_suite
collector = check_suite.Collector()
code = pytest.main(check_suite.pytest_argv(Namespace(**{ARGS!r})) + ["--collect-only"], plugins=[collector])
print(json.dumps({{"code": int(code), "collected": collector.collected}}))
"""


@pytest.fixture(scope="module")
def collected():
    """The node ids `rnnparity check --target keras3,tf_keras` would run (collection only: ~10 s)."""
    for target in TARGETS.split(","):
        ok, why = registry.availability(target)
        if not ok:
            pytest.skip(why)
    proc = subprocess.run([sys.executable, "-c", COLLECT], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    return result["collected"]


@pytest.mark.live
def test_check_collects_the_cases_list_counts(collected, capsys):
    collector = Collector()
    collector.collected = collected
    assert matrix_count_problem(collector, Namespace(**ARGS)) is None
    assert main(["list", "--count", "--target", TARGETS]) == 0
    listed = int(capsys.readouterr().out)
    assert sum(kind_of(n) == "matrix" for n in collected) == listed == len(case_list("default", TARGETS.split(",")))


@pytest.mark.live
def test_every_layer_has_one_name_in_ids_and_in_the_summary(collected):
    sweep = [n for n in collected if kind_of(n) == "activation sweep"]
    assert sweep, "no activation-sweep case collected"
    assert {case_of(n).split("-")[0] for n in sweep} <= set(LAYERS), sorted({case_of(n) for n in sweep})[:5]
    rows = {ln.split()[0] for ln in summary_table({n: ("passed", "") for n in collected}).splitlines()[3:]}
    assert rows == {"simple_rnn", "lstm", "gru", "gru_reset_before", "conv_lstm1d", "conv_lstm2d", "conv_lstm3d"}


def test_a_case_list_does_not_collect_is_reported():
    ids = case_list("default", ["tf_keras"])
    collector = Collector()
    collector.collected = [f"rnnparity/suite/test_keras.py::test_keras[{i}]" for i in ids[1:]] + \
        ["rnnparity/suite/test_activations.py::test_builtin_activation[lstm-activation_relu-tf_keras]"]
    problem = matrix_count_problem(collector, Namespace(**{**ARGS, "target": "tf_keras"}))
    assert problem.startswith(f"collected {len(ids) - 1} matrix cases, `rnnparity list --count --tier default "
                              f"--target tf_keras` has {len(ids)}: 1 not collected (e.g. ['{ids[0]}'])")
    assert matrix_count_problem(collector, Namespace(**{**ARGS, "target": "tf_keras", "keyword": "x"})) is None


def test_skip_reasons_and_placeholders_in_the_report():
    """A skip is reported by its reason (not a tuple repr); a target's "not selected" placeholder is no case."""
    class Report:
        def __init__(self, nodeid, longrepr):
            self.nodeid, self.when, self.outcome, self.passed, self.skipped = nodeid, "setup", "skipped", False, True
            self.failed, self.longrepr, self.longreprtext, self.user_properties = False, longrepr, str(longrepr), ()

    collector = Collector(stream=open("/dev/null", "w"))
    collector.pytest_runtest_logreport(Report("rnnparity/suite/test_tf1.py::test_tf1[tf1-x]",
                                              ("/x/test_tf1.py", 50, "Skipped: target tf1: not installed")))
    collector.pytest_runtest_logreport(Report("rnnparity/suite/test_tf1.py::test_tf1[tf1-not-selected]",
                                              ("/x/test_tf1.py", 50, "Skipped: no tf1 target selected")))
    assert collector.results == {"rnnparity/suite/test_tf1.py::test_tf1[tf1-x]":
                                 ("skipped", "target tf1: not installed")}
