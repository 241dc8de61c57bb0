"""Shards (`--rnnparity-shard i/n`, `rnnparity check --shard i/n`): disjoint, covering every case, the
same at collection as in `rnnparity list`. Checked on collected ids; nothing is run."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnnparity import cli
from rnnparity.cli.common import case_list
from rnnparity.targets import registry
from rnnparity.matrix.shard import Shard, parse_shard

SRC = Path(__file__).resolve().parents[1] / "src"
SUITE = SRC / "rnnparity" / "suite"


@pytest.mark.parametrize("tier", ["quick", "default", "full"])
def test_shards_are_disjoint_and_cover_every_case(tier):
    targets = ("keras3", "tf_keras", "tf1")
    every = case_list(tier, targets)
    n = 7
    shards = [[i for i in every if Shard(k, n).holds(i)] for k in range(1, n + 1)]
    assert case_list(tier, targets, shard=f"3/{n}") == shards[2]  # what `list`/`check --shard` use
    assert sorted(i for s in shards for i in s) == sorted(every)  # covering, and no id in two shards
    assert len(set(every)) == len(every)
    # balanced enough to be worth it: every shard within 25% of an even split
    assert all(abs(len(s) - len(every) / n) < 0.25 * len(every) / n for s in shards), [len(s) for s in shards]


def test_a_case_keeps_its_shard():
    # by id alone: the same on every machine and run (crc32, not Python's salted hash())
    assert Shard(1, 1).holds("anything")
    assert [Shard(i, 4).holds("lstm-seq-f32-keras3") for i in range(1, 5)].count(True) == 1
    assert Shard(2, 4).holds("lstm-seq-f32-keras3")  # zlib.crc32(b"lstm-seq-f32-keras3") % 4 == 1


@pytest.mark.parametrize("bad", ["0/4", "5/4", "2", "a/b", "1/0", "-1/3", "2/3/4"])
def test_a_bad_shard_is_a_one_line_error(bad):
    with pytest.raises(ValueError, match=r"--shard: expected i/n with 1 <= i <= n \(e.g. 2/8\), got"):
        parse_shard(bad, "--shard")
    assert parse_shard(None) is None and parse_shard("") is None and parse_shard(" 2/8 ") == (2, 8)


def test_check_and_list_reject_a_bad_shard(capsys):
    assert cli.main(["check", "--shard", "4/3", "--target", "keras3"]) == 2
    assert cli.main(["list", "--shard", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["rnnparity check: --shard: expected i/n with 1 <= i <= n (e.g. 2/8), got '4/3'",
                   "rnnparity list: --shard: expected i/n with 1 <= i <= n (e.g. 2/8), got 'x'"]


def _collected(*options, env=None):
    """Suite node ids pytest collects (the Keras and tf1 matrix and the replay of fixtures/)."""
    cmd = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
           str(SUITE / "test_keras.py"), str(SUITE / "test_tf1.py"), str(SUITE / "test_replay.py"),
           "--rnnparity-tier", "quick", *options]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})})
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_collection_shards_match_the_listed_shards():
    every = _collected()
    one = _collected("--rnnparity-shard", "1/2")
    two = _collected(env={"RNNPARITY_SHARD": "2/2"})  # the environment variable works the same
    assert one and two and not set(one) & set(two)
    assert sorted(one + two) == sorted(every)
    assert any("test_replay[" in n for n in one) and any("test_replay[" in n for n in two)
    # the matrix cases of a shard are exactly `rnnparity list --shard`'s
    listed = set(case_list("quick", registry.default_targets(), shard="1/2"))
    matrix = {n.split("[", 1)[1][:-1] for n in one if "test_replay[" not in n}
    assert matrix == listed
