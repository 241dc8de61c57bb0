"""The quick tier's activation sweep: each built-in name once (one layer/option, rotating), where the
default tier runs every name in all five layer/option slots. No framework: the names are given."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import pytest

from rnnparity.suite import test_activations as sweep

NAMES = ["elu", "exponential", "gelu", "hard_sigmoid", "linear", "relu", "sigmoid", "tanh"]


def _params(tier, monkeypatch):
    monkeypatch.setattr(sweep, "_names", lambda target: NAMES)
    monkeypatch.setattr(sweep.registry, "availability", lambda target: (True, ""))
    got = []
    options = {"--rnnparity-tier": tier, "--rnnparity-targets": "keras3", "--rnnparity-shard": None}
    metafunc = SimpleNamespace(fixturenames=["activation_case"],
                               config=SimpleNamespace(getoption=options.__getitem__),
                               parametrize=lambda name, params: got.extend(params))
    sweep.pytest_generate_tests(metafunc)
    return [p.values[0] for p in got]


def test_quick_sweep_runs_each_name_once_in_rotating_slots(monkeypatch):
    quick = _params("quick", monkeypatch)
    assert sorted(name for _, _, _, name in quick) == NAMES
    slots = Counter((cls, option) for _, cls, option, _ in quick)
    assert set(slots) == set(sweep._LAYERS)  # 8 names over the 5 slots: every slot used


@pytest.mark.parametrize("tier", ["default", "full"])
def test_other_tiers_run_every_name_in_every_slot(tier, monkeypatch):
    got = _params(tier, monkeypatch)
    assert sorted(got) == sorted(("keras3", cls, option, name) for name in NAMES for cls, option in sweep._LAYERS)
