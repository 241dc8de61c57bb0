"""The rounding verdict must not excuse a porting bug: planted into the reference, each bug makes the
saturated T=2000 check fail *after* the rounding envelope is estimated (the verdict is reached and
says "not rounding"), while the same check passes without it (the control, within rounding or
outright).

The bugs are the planted bugs of test_planted_bugs.py plus monkeypatch forms of more mutants of
scripts/mutation_check.py, and one the envelope catches on the reference itself: a reference that
carries a float32 layer's recurrence in float16 (its maths are right; its own run lies outside the
envelope of valid float32 computations, which the envelope's runs estimate in float64 at float32's
ulp, whatever precision the reference's float32 code computes in).
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.check import verdict as verdicts
from rnnparity.reference import activations, bidirectional, cell, gru, layer, simple_rnn
from tests.meta.test_planted_bugs import (states_updated_at_masked_steps, swapped_gru_gates,
                                          swapped_lstm_gates, transposed_recurrent_kernel,
                                          unreversed_backward_output, zero_instead_of_carried_output)
from tests.saturation import needs, saturated_check

TARGET = "keras3"
SEED = 0  # seed 0 needs the rounding verdict for simple_rnn, lstm, gru and both Bidirectionals


def _patch_scan(mp, **overrides):
    original = layer.scan

    def scan(step, projected, initial_states, mask=None, go_backwards=False, zero_output_for_mask=False):
        kwargs = {"mask": mask, "go_backwards": go_backwards, "zero_output_for_mask": zero_output_for_mask}
        return original(step, projected, initial_states, **{**kwargs, **overrides})

    mp.setattr(layer, "scan", scan)


def go_backwards_not_reversed(mp):
    _patch_scan(mp, go_backwards=False)


def initial_state_ignored(mp):
    original = layer.RecurrentLayer._initial_states

    def _initial_states(self, batch, initial_state):
        states = original(self, batch, initial_state)  # checked, then dropped
        return self.cell.zero_states(batch) if initial_state is not None else states

    mp.setattr(layer.RecurrentLayer, "_initial_states", _initial_states)


def stateful_state_not_carried(mp):
    original = layer.RecurrentLayer.run

    def run(self, x, mask=None, initial_state=None, training=None):
        out = original(self, x, mask=mask, initial_state=initial_state, training=training)
        if self.stateful:
            self.states = self.cell.zero_states(self.states[0].shape[0])
        return out

    mp.setattr(layer.RecurrentLayer, "run", run)


def gru_reset_after_bias_rows_swapped(mp):
    original = cell.Cell.set_weights

    def set_weights(self, weights, owner="layer"):
        original(self, weights, owner)
        if self.reset_after and self.bias is not None:
            self.bias = self.bias[::-1].copy()  # recurrent row read as the input row

    mp.setattr(gru.GRUCell, "set_weights", set_weights, raising=False)


def simple_rnn_bias_dropped(mp):
    mp.setattr(simple_rnn.SimpleRNNCell, "input_bias", lambda self: self.bias * 0, raising=False)


def bidi_state_order_swapped(mp):
    original = bidirectional.Bidirectional.__call__

    def call(self, x, mask=None, initial_state=None, training=None):
        out = original(self, x, mask=mask, initial_state=initial_state, training=training)
        if not self.return_state:
            return out
        n, k = (1 if self.merge_mode is not None else 2), len(self.forward_layer.state_names)
        return type(out)(list(out[:n]) + list(out[n + k:]) + list(out[n:n + k]))

    mp.setattr(bidirectional.Bidirectional, "__call__", call)


def hard_sigmoid_dialect_swapped(mp):
    mp.setitem(activations._TABLES["keras2"], "hard_sigmoid", activations.hard_sigmoid_keras3)


def float16_recurrence(mp):
    """A float32 layer's outputs and states rounded to float16 at every step; float64 untouched."""
    original = layer.scan

    def scan(step, projected, initial_states, **kwargs):
        if projected.dtype != np.float32:
            return original(step, projected, initial_states, **kwargs)

        def low(x_t, states):
            output, new_states = step(x_t, states)
            as16 = [s.astype(np.float16).astype(np.float32) for s in [output, *new_states]]
            return as16[0], as16[1:]

        return original(low, projected, initial_states, **kwargs)

    mp.setattr(layer, "scan", scan)


# bug -> (saturated layer key, saturated_check options[, target])
PLANTED_LONG = {
    swapped_lstm_gates: ("lstm", {}),
    swapped_gru_gates: ("gru", {}),
    transposed_recurrent_kernel: ("simple_rnn", {}),
    unreversed_backward_output: ("bidi_gru", {}),
    zero_instead_of_carried_output: ("lstm", {"mask": "holes"}),
    states_updated_at_masked_steps: ("gru", {"mask": "right"}),
    go_backwards_not_reversed: ("gru_reset_before", {"config": {"go_backwards": True}}),
    initial_state_ignored: ("lstm", {"initial_state": True}),
    stateful_state_not_carried: ("gru", {"stateful": True}),
    gru_reset_after_bias_rows_swapped: ("gru", {}),
    simple_rnn_bias_dropped: ("simple_rnn", {}),
    bidi_state_order_swapped: ("bidi_lstm", {}),
    hard_sigmoid_dialect_swapped: ("lstm", {"config": {"recurrent_activation": "hard_sigmoid"}}, "tf_keras"),
    float16_recurrence: ("gru", {}),
}


@pytest.mark.live
@pytest.mark.parametrize("bug", list(PLANTED_LONG), ids=[b.__name__ for b in PLANTED_LONG])
def test_planted_bug_is_caught_at_t2000_despite_the_rounding_verdict(bug, monkeypatch):
    key, options, target = (*PLANTED_LONG[bug], TARGET)[:3]
    needs(target)
    rec, clean = saturated_check(target, key, SEED, **options)
    assert clean == [], f"control: {rec.case_id} must pass without the planted bug"
    bug(monkeypatch)
    rec, problems = saturated_check(target, key, SEED, **options)
    assert problems, f"planting {bug.__name__} did not make {rec.case_id} fail"
    assert rec.verdict.status == verdicts.FAIL, rec.verdict.summary()
    plain = [p for p in problems if p.kind not in ("rounding", "diagnosis")]
    if verdicts.eligible(plain):  # a values-only mismatch: the verdict was reached and refused it
        assert rec.rounding is not None and not rec.rounding.passed
        assert any(p.message.startswith("rounding verdict: FAIL, not rounding") for p in problems)
    if bug is float16_recurrence:  # right maths, too low a precision: the reference's own run tells
        assert rec.rounding.reference_outside
        assert "the reference computes less accurately than valid float32 computations" in \
            rec.rounding.report()


@pytest.mark.live
def test_seed_used_here_needs_the_rounding_verdict_without_a_bug():
    """The controls are not trivially inside the table: at SEED the plain layers need the verdict."""
    needs(TARGET)
    for key in ("simple_rnn", "lstm", "gru", "bidi_lstm", "bidi_gru"):
        rec, problems = saturated_check(TARGET, key, SEED)
        assert problems == [] and rec.rounding is not None and rec.rounding.passed, key
