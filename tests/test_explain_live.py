"""`explain` against the real framework: every layer x (plain, each Bidirectional merge mode) x the 16
flag combinations x both Keras targets (plus float64). The framework is the oracle for the number of
outputs, their container, shapes and dtypes; the order is checked through the outputs themselves:
the final h an explanation names equals the sequence output at the last processed step."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnparity import frameworks
from rnnparity.cases import FLAGS, LAYERS, TARGETS, WRAPPERS, Case
from rnnparity.divergences import divergence_for
from rnnparity.structure import explain


def _params():
    for target, layer, wrapper, flags in itertools.product(TARGETS, LAYERS, WRAPPERS,
                                                           itertools.product((False, True), repeat=4)):
        yield Case(layer=layer, wrapper=wrapper, target=target, **dict(zip(FLAGS, flags)))
    for target, wrapper in itertools.product(TARGETS, WRAPPERS):
        yield Case(layer="lstm", wrapper=wrapper, target=target, return_sequences=True,
                   return_state=True, dtype="f64")


def _param(case):
    known = divergence_for(case)
    marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
    return pytest.param(case, id=case.id, marks=[pytest.mark.live, *marks])


def _rejected_by_keras3(case):
    # Keras 3 Bidirectional always builds its backward copy with go_backwards=True (documented surprise)
    return case.target == "keras3" and case.wrapper != "none" and case.go_backwards


def _check_order(case, expl, outputs):
    """Each named final h equals its sequence output at the last step that layer processed."""
    if not (case.return_sequences and case.return_state) or expl.container == "array":
        return
    names = expl.names()
    seqs = {"": 0} if case.wrapper == "none" else ({"forward ": 0, "backward ": 1}
                                                  if WRAPPERS[case.wrapper] is None else {})
    for prefix, seq_index in seqs.items():
        h_index = names.index(f"{prefix}final h" + (" (memory state)" if case.layer == "lstm" else ""))
        # backward sequence outputs are flipped back to input order, so its last step is t=0
        last = 0 if prefix == "backward " else -1
        # Keras 3 casts Bidirectional outputs (not states) to the wrapper's dtype: compare in that dtype
        np.testing.assert_array_equal(outputs[seq_index][:, last],
                                      outputs[h_index].astype(outputs[seq_index].dtype),
                                      err_msg=f"{names[h_index]} is not output [{h_index}]")


@pytest.mark.parametrize("case", [_param(c) for c in _params()])
def test_explain_matches_the_framework(case):
    ok, why = frameworks.availability(case.target)
    if not ok:
        pytest.skip(why)
    adapter = frameworks.get(case.target)
    spec = case.layer_spec()
    if _rejected_by_keras3(case):
        with pytest.raises(ValueError, match="go_backwards"):
            adapter.build(spec, case.input_shape)
        return
    layer = adapter.build(spec, case.input_shape)
    rng = np.random.RandomState(case.seed)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(w.dtype) for w in layer.get_weights()])
    x = rng.normal(size=case.input_shape).astype(case.np_dtype)
    out = adapter.call(layer, x)
    expl = explain(spec, case.input_shape, case.dialect)
    got_container = type(out).__name__ if isinstance(out, (list, tuple)) else "array"
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    assert (got_container, len(outputs)) == (expl.container, len(expl.outputs)), (
        f"{case.id}: the framework returned a {got_container} of {len(outputs)}; explain says\n{expl}")
    for o, spec_o in zip(outputs, expl.outputs):
        assert (tuple(o.shape), str(o.dtype)) == (spec_o.shape, spec_o.dtype), (
            f"{case.id}: {spec_o.label()}: framework {tuple(o.shape)} {o.dtype}; explain says\n{expl}")
    _check_order(case, expl, outputs)
