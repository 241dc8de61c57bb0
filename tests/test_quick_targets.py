"""Targets that run their quick grid whatever the tier (--rnnparity-quick-targets, the ini value
rnnparity_quick_targets): the repository's test command runs the slow targets' quick grid, their tox
envs and `rnnparity check` run the tier asked for. No framework needed."""
from __future__ import annotations

import tomllib
from argparse import Namespace
from pathlib import Path

from rnnparity.cli import check_suite
from rnnparity.matrix import tiers
from rnnparity.plugin import cases_by_target, quick_targets

ROOT = Path(__file__).resolve().parents[1]


class Config:
    """What the plugin reads of a pytest config."""

    def __init__(self, tier="default", option=None, ini=""):
        self.options = {"--rnnparity-tier": tier, "--rnnparity-quick-targets": option}
        self.ini = {"rnnparity_quick_targets": ini}

    def getoption(self, name):
        return self.options[name]

    def getini(self, name):
        return self.ini[name]


def test_the_option_wins_over_the_ini_value_and_an_empty_option_means_none():
    assert quick_targets(Config(ini="torch keras3-torch")) == ("torch", "keras3-torch")
    assert quick_targets(Config(option="tflite", ini="torch")) == ("tflite",)
    assert quick_targets(Config(option="", ini="torch")) == ()


def test_a_quick_target_runs_its_quick_grid_the_others_the_tier():
    got = cases_by_target(Config(ini="torch"), ("keras3", "torch", "tflite"))
    assert [c.id for c in got] == [c.id for c in tiers.cases("default", ("keras3",))
                                   + tiers.cases("quick", ("torch",)) + tiers.cases("default", ("tflite",))]
    # without quick targets: exactly the tier's cases, in their order
    plain = cases_by_target(Config(), ("keras3", "torch", "tflite"))
    assert [c.id for c in plain] == [c.id for c in tiers.cases("default", ("keras3", "torch", "tflite"))]


def test_the_checkout_test_command_runs_the_torch_targets_quick_and_their_tox_envs_the_default_tier():
    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert set(ini["rnnparity_quick_targets"].split()) == {"torch", "keras3-torch"}
    tox = (ROOT / "tox.ini").read_text()
    for env in ("torch", "keras3-torch"):
        section = tox.split(f"[testenv:{env}]", 1)[1].split("\n[", 1)[0]
        assert "--rnnparity-quick-targets=" in section, env


def test_rnnparity_check_runs_every_target_on_the_tier_asked_for():
    args = Namespace(tier="default", target="torch,keras3", replay=False, shard=None, numprocesses=None,
                     keyword=None, junit_xml=None)
    assert "--rnnparity-quick-targets=" in check_suite.pytest_argv(args)
