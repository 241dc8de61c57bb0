"""Recordings keep every structure the matrix produces: stacked cells' nested state lists (outputs and
initial states) and bfloat16 arrays (mixed_bfloat16) round-trip through a fixture file exactly, and the
replayed reference agrees with the recorded framework outputs."""
from __future__ import annotations

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity import golden
from rnnparity.check import runner
from rnnparity.matrix.cases import case_from_id
from rnnparity.keras_to_reference import from_spec

IDS = (
    "lstm-stacked-seq-state-f32-tf_keras",  # [out, [h1, c1], h2]-style nested states
    "lstm-stacked-bidi_none-seq-state-mask_full_row-init-f32-keras3",  # nested initial states
    "gru-stacked-state-init-f32-keras3",
    "lstm-seq-state-mixed_bf16-keras3",  # bfloat16 outputs
    "lstm-seq-state-mixed_bf16-tf_keras",
)


def _same(a, b):
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return not isinstance(b, (list, tuple)) and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _replay(rec):
    def build():
        ref = from_spec(rec.spec, rec.dialect)
        if rec.weights is not None:
            ref.set_weights(list(rec.weights))
        return ref
    return runner.verify(rec, build)


def test_trees_round_trip():
    out = (np.zeros((2, 3), "float32"), [np.ones((2, 3), "float32"), np.full((2, 3), 2, "float32")],
           np.full((2, 3), 3, "float32"))
    meta = golden._container(out)
    assert meta["n"] == 4 and "tree" in meta
    assert _same(golden._rebuild(meta["tree"], iter(golden._leaves(out))), out)
    assert "tree" not in golden._container([np.zeros(1), np.zeros(1)])  # the flat form is unchanged


@pytest.mark.live
@pytest.mark.parametrize("case_id", IDS)
def test_recording_keeps_nested_states_and_bfloat16(case_id):
    case = case_from_id(case_id)
    ok, why = registry.availability(case.target)
    if not ok:
        pytest.skip(why)
    rec = runner.record(case)
    assert rec.outcome.error is None, rec.outcome.error
    loaded = golden.read_case(golden.case_bytes(rec), case_id)
    assert len(loaded.outcome.outputs) == len(rec.outcome.outputs)
    for recorded, read in zip(rec.outcome.outputs, loaded.outcome.outputs):
        assert _same(recorded, read), (recorded, read)
    for a, b in zip(rec.plan.steps, loaded.plan.steps):
        if hasattr(a, "initial_state") and a.initial_state is not None:
            assert _same(list(a.initial_state), list(b.initial_state))
    problems = _replay(loaded)
    assert not problems, runner.failure_report(case_id, problems)
