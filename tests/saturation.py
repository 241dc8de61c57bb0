"""Saturated long-sequence checks, shared by tests/test_rounding.py and tests/meta/test_planted_bugs_long.py.

Each layer gets the seeded uniform(-0.6, 0.6) weights times a saturating scale, and a T=2000 input.
The scales put each layer at the edge of chaos: gates saturated, float32 rounding amplified past the
tolerance table in some seeds, float64 framework and reference still agreeing. (With the weights x8
every layer is chaotic at T=2000: the float64 framework and reference then disagree by O(1) as well,
measured, and no verdict can call that rounding.)
"""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.check import runner
from rnnparity.matrix.data import make_mask
from rnnparity.plan import Call, Plan, Reset, seeded_weights

STEPS, BATCH, FEATURES, UNITS = 2000, 2, 4, 16
SEEDS = range(6)

# key -> (Keras class, fixed config, Bidirectional wrapper or None, weight scale)
SATURATED = {
    "simple_rnn": ("SimpleRNN", {}, None, 1.4),
    "lstm": ("LSTM", {}, None, 3.5),
    "gru": ("GRU", {"reset_after": True}, None, 2.5),
    "gru_reset_before": ("GRU", {"reset_after": False}, None, 2.4),
    "bidi_lstm": ("LSTM", {}, {"merge_mode": "concat"}, 3.5),
    "bidi_gru": ("GRU", {"reset_after": True}, {"merge_mode": "concat"}, 2.5),
}


def needs(target):
    ok, reason = registry.availability(target)
    if not ok:
        pytest.skip(reason)


def saturated_check(target, key, seed, config=(), mask=None, initial_state=False, stateful=False):
    """(recording, mismatches) of runner.check_spec_live for a saturated T=2000 layer.

    ``mask``: a data.make_mask pattern; ``stateful``: two batches with the state carried, a reset
    and a third batch."""
    cls, fixed, wrapper, scale = SATURATED[key]
    spec = {"class": cls, "config": {"units": UNITS, "return_sequences": True, "return_state": True,
                                     "stateful": stateful, "dtype": "float32", **fixed, **dict(config)},
            "wrapper": wrapper}
    rng = np.random.RandomState(seed)

    def call(label, with_state=False):
        x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
        states = None
        if with_state:
            n = (2 if cls == "LSTM" else 1) * (1 if wrapper is None else 2)
            states = [rng.uniform(-0.5, 0.5, size=(BATCH, UNITS)).astype("float32") for _ in range(n)]
        m = None if mask is None else make_mask(mask, BATCH, STEPS, rng)
        return Call(x, m, states, label)

    first = call("call" if not stateful else "batch 1", initial_state)
    plan = Plan([first])
    if stateful:
        plan.steps += [call("batch 2 (state carried)"), Reset(), call("batch 3 (after reset)")]

    def weights(shapes):
        return [w * scale for w in seeded_weights(shapes, seed)]

    case_id = f"saturated-{key}-seed{seed}-{target}"
    return runner.check_spec_live(target, spec, plan, seed, case_id, first.x.shape, weights=weights)


def saturated_layer(target, key, seed, stateful=False, config=()):
    """(live layer, x): the layer and first input of `saturated_check`, for assert_parity."""
    cls, fixed, wrapper, scale = SATURATED[key]
    spec = {"class": cls, "config": {"units": UNITS, "return_sequences": True, "return_state": True,
                                     "stateful": stateful, "dtype": "float32", **fixed, **dict(config)},
            "wrapper": wrapper}
    x = np.random.RandomState(seed).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    adapter = registry.get(target)
    layer = adapter.build(spec, x.shape)
    shapes = [w.shape for w in adapter.get_weights(layer)]
    adapter.set_weights(layer, [w * scale for w in seeded_weights(shapes, seed)])
    return layer, x
