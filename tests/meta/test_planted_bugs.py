"""The harness must catch planted porting bugs: each bug, planted into the reference with monkeypatch,
makes live conformance cases fail; without it the same cases pass (the control)."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.matrix.cases import case_from_id
from rnnparity.reference import bidirectional, cell, gru, layer, lstm


def _needs(target):
    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)


def swapped_lstm_gates(mp):
    mp.setattr(lstm, "LSTM_GATES", ("i", "c", "f", "o"))


def swapped_gru_gates(mp):
    mp.setattr(gru, "GRU_GATES", ("r", "z", "h"))


def transposed_recurrent_kernel(mp):
    original = cell.Cell.set_weights

    def set_weights(self, weights, owner="layer"):
        original(self, weights, owner)
        u = self.units
        blocks = np.split(self.recurrent_kernel, len(self.GATES), axis=-1)
        self.recurrent_kernel = np.concatenate([b.T for b in blocks], axis=-1)  # (u, u) blocks transposed
        assert self.recurrent_kernel.shape == (u, len(self.GATES) * u)

    mp.setattr(cell.Cell, "set_weights", set_weights)


def unreversed_backward_output(mp):
    mp.setattr(bidirectional, "restore_time_order", lambda y_rev, axis: y_rev)


def zero_instead_of_carried_output(mp):
    original = layer.scan

    def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
        return original(step, projected, initial_states, mask=mask, go_backwards=go_backwards,
                        zero_output_for_mask=not zero_output_for_mask)

    mp.setattr(layer, "scan", scan)


def states_updated_at_masked_steps(mp):
    original = layer.scan

    def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
        return original(step, projected, initial_states, mask=None, go_backwards=go_backwards,
                        zero_output_for_mask=zero_output_for_mask)

    mp.setattr(layer, "scan", scan)


# bug -> case ids that exercise it (ids from the shipped matrix, on both Keras targets)
PLANTED = {
    swapped_lstm_gates: ["lstm-seq-state-f32-keras3", "lstm-bidi_concat-seq-f32-tf_keras"],
    swapped_gru_gates: ["gru-seq-f32-keras3", "gru_reset_before-state-f32-tf_keras"],
    transposed_recurrent_kernel: ["simple_rnn-seq-f32-keras3", "lstm-f32-tf_keras", "gru-bwd-f32-keras3"],
    unreversed_backward_output: ["lstm-bidi_none-seq-f32-keras3", "gru-bidi_concat-seq-f32-tf_keras"],
    zero_instead_of_carried_output: ["lstm-seq-mask_right-f32-keras3", "gru-seq-mask_holes-f32-tf_keras"],
    states_updated_at_masked_steps: ["simple_rnn-mask_left-f32-keras3", "lstm-state-mask_right-f32-tf_keras"],
}
PARAMS = [pytest.param(bug, cid, id=f"{bug.__name__}-{cid}") for bug, ids in PLANTED.items() for cid in ids]


@pytest.mark.live
@pytest.mark.parametrize("bug, case_id", PARAMS)
def test_planted_bug_is_caught(bug, case_id, monkeypatch):
    case = case_from_id(case_id)
    _needs(case.target)
    _, clean = runner.check_live(case)
    assert clean == [], f"control: {case_id} must pass without the planted bug:\n{clean}"
    bug(monkeypatch)
    _, problems = runner.check_live(case)
    assert problems, f"planting {bug.__name__} did not make {case_id} fail"
    report = runner.failure_report(case_id, problems)
    assert case_id in report and "repro: rnnparity check --case" in report


@pytest.mark.live
def test_failure_report_reads_like_a_diagnosis(monkeypatch):
    """A planted gate swap must be reported with the output name, worst element and first timestep."""
    case = case_from_id("lstm-seq-state-f32-keras3")
    _needs(case.target)
    swapped_lstm_gates(monkeypatch)
    _, problems = runner.check_live(case)
    report = runner.failure_report(case.id, problems)
    assert "output [0] = whole sequence output (h at every step)" in report
    assert "output [2] = final c (carry state)" in report
    assert "first diverging timestep: t=0" in report
    assert "max abs error" in report and "framework" in report and "reference" in report
