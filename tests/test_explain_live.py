"""`explain` against the real framework: every layer x (plain, each Bidirectional merge mode) x the 16
flag combinations x both Keras targets (plus float64 and time_major). The framework is the oracle for
the number of outputs, their container, shapes and dtypes, and for which configurations have no
outputs at all (explain raises `Rejected` exactly where the framework raises, naming its error); the
order is checked through the outputs themselves: the final h an explanation names equals the sequence
output at the last processed step."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from rnnparity.targets import registry
from rnnparity.matrix.cases import FLAGS, LAYERS, TARGETS, WRAPPERS, Case
from rnnparity.check.divergences import divergence_for
from rnnparity.output_structure import _BROKEN_BY_BUG, Rejected, explain


def _params():
    for target, layer, wrapper, flags in itertools.product(TARGETS, LAYERS, WRAPPERS,
                                                           itertools.product((False, True), repeat=4)):
        yield Case(layer=layer, wrapper=wrapper, target=target, **dict(zip(FLAGS, flags)))
    for target, wrapper in itertools.product(TARGETS, WRAPPERS):
        yield Case(layer="lstm", wrapper=wrapper, target=target, return_sequences=True,
                   return_state=True, dtype="f64")
    for target, layer, wrapper in itertools.product(TARGETS, LAYERS, ("none", "bidi_concat", "bidi_none")):
        yield Case(layer=layer, wrapper=wrapper, target=target, return_sequences=True,
                   return_state=True, time_major=True)


def _param(case):
    known = divergence_for(case)
    if known is not None and known.key in _BROKEN_BY_BUG:
        known = None  # explain says the configuration fails: checked below like any rejection
    marks = [pytest.mark.xfail(strict=True, reason=known.xfail_reason())] if known else []
    return pytest.param(case, id=case.id, marks=[pytest.mark.live, *marks])


def _run(adapter, case, spec):
    """The framework's outputs, or the exception it raised at construction, build or first call."""
    try:
        layer = adapter.build(spec, case.input_shape)
        rng = np.random.RandomState(case.seed)
        layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(w.dtype) for w in layer.get_weights()])
        x = rng.normal(size=case.input_shape).astype(case.np_dtype)
        return adapter.call(layer, x), None
    except Exception as exc:  # noqa: BLE001 - the framework refusing is an answer too
        return None, exc


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
        np.testing.assert_array_equal(np.take(outputs[seq_index], last, axis=0 if case.time_major else 1),
                                      outputs[h_index].astype(outputs[seq_index].dtype),
                                      err_msg=f"{names[h_index]} is not output [{h_index}]")


@pytest.mark.parametrize("case", [_param(c) for c in _params()])
def test_explain_matches_the_framework(case):
    ok, why = registry.availability(case.target)
    if not ok:
        pytest.skip(why)
    adapter = registry.get(case.target)
    spec = case.layer_spec()
    out, error = _run(adapter, case, spec)
    try:
        expl, rejected = explain(spec, case.input_shape, case.dialect), None
    except Rejected as exc:
        expl, rejected = None, str(exc)
    if error is not None:
        assert rejected, f"{case.id}: the framework raised {type(error).__name__}: {error}; explain says\n{expl}"
        known = divergence_for(case)
        # explain names the framework's own error: its message up to the first full stop, or the bug
        said = str(error).split(". ")[0].splitlines()[0]
        assert type(error).__name__ in rejected and (said in rejected or (known and known.key in rejected)), (
            f"{case.id}: the framework raised {type(error).__name__}: {error}; explain says: {rejected}")
        return
    assert not rejected, f"{case.id}: explain says {rejected!r}, but the framework returned outputs"
    got_container = type(out).__name__ if isinstance(out, (list, tuple)) else "array"
    outputs = list(out) if isinstance(out, (list, tuple)) else [out]
    assert (got_container, len(outputs)) == (expl.container, len(expl.outputs)), (
        f"{case.id}: the framework returned a {got_container} of {len(outputs)}; explain says\n{expl}")
    for o, spec_o in zip(outputs, expl.outputs):
        assert (tuple(o.shape), str(o.dtype)) == (spec_o.shape, spec_o.dtype), (
            f"{case.id}: {spec_o.label()}: framework {tuple(o.shape)} {o.dtype}; explain says\n{expl}")
    _check_order(case, expl, outputs)
