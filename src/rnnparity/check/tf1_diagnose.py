"""Diagnose a port of TF1 recurrent code: which known mistake reproduces its outputs?

    d = rp.diagnose_tf1("dynamic_rnn", cell, x, port_outputs, sequence_length=lengths)
    print(d)     # agrees / the mistakes that explain it / no known mistake, where it diverges

The same verdicts as rp.diagnose for Keras layers (rnnparity.check.diagnose), over the catalogue of
rnnparity.check.tf1_mistakes: each mistake (alone, then the likely pairs when no single one explains
the outputs) is applied to the reference's run, and explains the port when every output agrees with
the port's to the tolerance table while differing from TF's. A mistake with no effect on the inputs
given is never reported.
"""
from __future__ import annotations

import numpy as np

from ..reference.tf1_call import BIDIRECTIONAL, DYNAMIC, FUNCTIONS, Tf1Call, flatten
from . import tf1_mistakes as catalogue
from .diagnose import AGREES, EXPLAINED, UNEXPLAINED, Diagnosis, check_port, divergence, score, search


def _attempt(p, mistake):
    try:
        with np.errstate(all="ignore"):
            return [a for _, a in mistake.run(p)]
    except (ValueError, TypeError, IndexError, AttributeError, KeyError):  # not expressible here
        return None


def diagnose_problem(p: catalogue.Problem, port, tf=None, pairs=True, subject="the port",
                     oracle="TF") -> Diagnosis:
    """Diagnose a port's flat outputs ``port`` (TF's flattened order) for one call ``p``.

    ``tf``: TF's own flat outputs for the call, when known (else the reference's)."""
    items = catalogue.flat(p)
    names = [n for n, _ in items]
    baseline = [np.asarray(a) for a in tf] if tf is not None else [a for _, a in items]
    port = [np.asarray(a) for a in port]
    check_port([port], [baseline], oracle)
    precision, lengths = p.cell.dtype.name, [p.steps]
    time_axis = 0 if p.time_major else 1

    def fit(outputs):
        return score([outputs], [port], lengths, precision)

    where = divergence([baseline], [port], lengths, precision, time_axis, names, oracle)
    if fit(baseline) <= 1:
        return Diagnosis(AGREES, subject=subject, baseline=oracle, oracle=oracle)
    found, tried = search([m for m in catalogue.CATALOGUE if m.applies(p)], lambda m: _attempt(p, m),
                          lambda outputs: score([baseline], [outputs], lengths, precision) <= 1,
                          lambda m, outputs: fit(outputs), catalogue.combined, pairs)
    return Diagnosis(EXPLAINED if found else UNEXPLAINED, found, where, tried, subject,
                     baseline=oracle, oracle=oracle)


# -- from a TF1 call -------------------------------------------------------------------------------
def _cells(cell, cell_bw, bidirectional):
    from ..tf1 import cell_from_tf

    def reference(c, what):
        if isinstance(c, catalogue.ref.LegacyCell):
            if not c.built:
                raise ValueError(f"diagnose_tf1: {what} has no weights; call set_weights([...]) first")
            return c, False
        return cell_from_tf(c), True
    if bidirectional and cell_bw is None:
        raise ValueError("diagnose_tf1: the bidirectional functions need cell_bw")
    if not bidirectional and cell_bw is not None:
        raise ValueError("diagnose_tf1: cell_bw is only for static_bidirectional_rnn and "
                         "bidirectional_dynamic_rnn")
    pairs = [reference(cell, "cell")] + ([reference(cell_bw, "cell_bw")] if bidirectional else [])
    return tuple(c for c, _ in pairs), all(live for _, live in pairs)


def _batch_major(function, inputs, time_major):
    if function in DYNAMIC:
        x = np.asarray(inputs)
        if x.ndim != 3:
            raise ValueError(f"diagnose_tf1: {function} inputs must have rank 3, got shape {x.shape}")
        return np.swapaxes(x, 0, 1) if time_major else x
    if time_major:
        raise ValueError(f"diagnose_tf1: {function} has no time_major argument")
    if isinstance(inputs, np.ndarray) or not isinstance(inputs, (list, tuple)) or not len(inputs):
        raise ValueError(f"diagnose_tf1: {function} inputs must be a list of T (batch, input_size) arrays, "
                         f"as TF takes them")
    return np.stack([np.asarray(a) for a in inputs], axis=1)


def diagnose_tf1(function, cell, inputs, port_outputs, *, cell_bw=None, sequence_length=None,
                 initial_state=None, initial_state_fw=None, initial_state_bw=None, time_major=False,
                 pairs=True) -> Diagnosis:
    """Which known porting mistake makes the reference of a ``tf.compat.v1.nn`` call produce
    ``port_outputs``?

    ``function``: "static_rnn", "dynamic_rnn", "static_bidirectional_rnn" or
    "bidirectional_dynamic_rnn" (or the TF function itself). ``cell`` (and ``cell_bw``): a built TF
    legacy cell or a rnnparity.tf1 cell with its weights. ``inputs``, ``sequence_length``,
    ``initial_state`` (``initial_state_fw``/``initial_state_bw``) and ``time_major``: as the TF
    function takes them. ``port_outputs``: what the port returns, in the structure the TF function
    returns (or its arrays in TF's flattened order), or a callable taking the same arguments as the
    TF function after the cells (``port(inputs, sequence_length=..., initial_state=...)``)."""
    function = getattr(function, "__name__", function)
    if function not in FUNCTIONS:
        raise ValueError(f"diagnose_tf1: function must be one of {', '.join(FUNCTIONS)}, got {function!r}")
    bidirectional = function in BIDIRECTIONAL
    if bidirectional and initial_state is not None:
        raise ValueError(f"diagnose_tf1: {function} takes initial_state_fw and initial_state_bw, "
                         f"not initial_state")
    if not bidirectional and (initial_state_fw is not None or initial_state_bw is not None):
        raise ValueError(f"diagnose_tf1: {function} takes initial_state, not initial_state_fw/_bw")
    cells, live = _cells(cell, cell_bw, bidirectional)
    x = _batch_major(function, inputs, time_major)
    given = [initial_state_fw, initial_state_bw] if bidirectional else [initial_state]
    if any(g is None for g in given) and any(g is not None for g in given):
        raise ValueError("diagnose_tf1: give both initial_state_fw and initial_state_bw, or neither")
    init = None if given[0] is None else tuple(
        tuple(c.unpack_state(g, what)) for c, g, what in
        zip(cells, given, ("initial_state_fw", "initial_state_bw") if bidirectional else ("initial_state",)))
    lengths = None if sequence_length is None else np.asarray(sequence_length)
    p = catalogue.Problem(function, cells, x, lengths, init, time_major)
    kwargs = {"sequence_length": sequence_length}
    if bidirectional:
        kwargs.update(initial_state_fw=initial_state_fw, initial_state_bw=initial_state_bw)
    else:
        kwargs["initial_state"] = initial_state
    result = port_outputs(inputs, **kwargs) if callable(port_outputs) else port_outputs
    port = [a for _, a in flatten(result, "port")]
    x_tf = inputs if function in DYNAMIC else x  # the static functions' list, stacked once above
    tf = _tf_outputs(function, (cell, cell_bw) if bidirectional else cell, x_tf, kwargs, time_major,
                     cells[0].dtype.name) if live else None
    return diagnose_problem(p, port, tf=tf, pairs=pairs, subject=f"the port of {function}")


def _tf_outputs(function, cells, x, kwargs, time_major, dtype):
    """TF's own flat outputs for the call with the live cells: the oracle itself. ``x``: one array,
    as the tf1 adapter takes it (it unstacks it along time for the static functions)."""
    from ..targets import registry

    states = [kwargs.get(k) for k in ("initial_state_fw", "initial_state_bw")] \
        if function in BIDIRECTIONAL else kwargs.get("initial_state")
    if function in BIDIRECTIONAL and states[0] is None:
        states = None
    out = registry.get("tf1").run(function, cells, x, sequence_length=kwargs["sequence_length"],
                                  initial_states=states, dtype=None if states is not None else dtype,
                                  time_major=time_major)
    return [a for _, a in flatten(out, "tf")]


# -- a recorded case (the matrix, the suite, the mutation check) -----------------------------------
def recording_problem(rec) -> catalogue.Problem:
    """The Problem of a tf1 Recording (one call), on its inputs and weights."""
    call = Tf1Call.from_spec(rec.spec)
    call.set_weights(list(rec.weights))
    (step,) = rec.plan.calls
    x = np.swapaxes(step.x, 0, 1) if call.time_major else step.x
    init = None if step.initial_state is None else tuple(tuple(q) for q in step.initial_state)
    return catalogue.Problem(call.function, tuple(call.cells), x, step.sequence_length, init,
                             call.time_major)


def recording_mismatch(rec, outputs, subject="tf1's output"):
    """The failure report's diagnosis line (single mistakes, the reference as the baseline) for a
    tf1 Recording's flat ``outputs`` as a Mismatch of kind "diagnosis", or None unless exactly one
    mistake explains them. Never raises: it only adds to a report of a failure found otherwise."""
    from .compare import Mismatch

    try:
        d = diagnose_problem(recording_problem(rec), outputs, pairs=False, subject=subject,
                             oracle="the reference")
        line = d.line
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy on a failure already reported
        return None
    return None if line is None else Mismatch("diagnosis", line)
