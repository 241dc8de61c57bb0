"""The shipped tf1 suite (src/rnnparity/suite/test_tf1.py): its cases, the target selection, and the
registry of known TF bugs. No TensorFlow needed: this is the parametrization, not the live run."""
from __future__ import annotations

import dataclasses

import pytest

from rnnparity.check import divergences
from rnnparity.suite.test_replay import case_of
from rnnparity.suite.test_tf1 import tf1_params
from rnnparity.matrix.tf1_cases import tf1_cases


def _marks(param, name):
    return [m for m in param.marks if m.name == name]


def test_every_default_tier_case_is_a_param_when_tf1_is_selected():
    params = tf1_params("default", ("keras3", "tf1"))
    assert [p.id for p in params] == [c.id for c in tf1_cases("default")] and len(params) == 288
    assert not any(p.marks for p in params)  # no TF bug registered for tf1 today
    assert len(tf1_params("full", ("tf1",))) == 864


def test_an_unselected_tf1_target_is_one_visible_skip():
    (param,) = tf1_params("default", ("keras3", "tf_keras"))
    (skip,) = _marks(param, "skip")
    assert param.id == "tf1-not-selected"
    assert skip.kwargs["reason"] == "no tf1 target selected (--rnnparity-targets=keras3,tf_keras)"


def test_a_registered_tf1_bug_is_a_strict_xfail_live_and_in_replay(monkeypatch):
    bug = dataclasses.replace(divergences.REGISTRY[0], key="tf1-planted", targets=("tf1",),
                              applies=lambda c: c.cell == "basic_lstm" and c.seqlen == "ragged")
    monkeypatch.setattr(divergences, "REGISTRY", (*divergences.REGISTRY, bug))
    params = tf1_params("default", ("tf1",))
    marked = {p.id for p in params if _marks(p, "xfail")}
    assert marked == {c.id for c in tf1_cases() if c.cell == "basic_lstm" and c.seqlen == "ragged"}
    xfail = _marks(next(p for p in params if p.id in marked), "xfail")[0]
    assert xfail.kwargs["strict"] and "[tf1-planted]" in xfail.kwargs["reason"]
    # the replay suite looks recorded tf1 cases up in the same registry
    assert divergences.divergence_for(case_of(sorted(marked)[0])) is bug
    # and no Keras registry entry is ever applied to a tf1 case
    assert all(divergences.divergence_for(c) in (None, bug) for c in tf1_cases())


@pytest.mark.parametrize("case_id", ["lstm-seq-state-f32-keras3",
                                     "tf1-dynamic_rnn-gru_cell-seqlen_none-batch_major-zero_init-f32"])
def test_replay_reads_both_kinds_of_case_id(case_id):
    assert case_of(case_id).id == case_id
