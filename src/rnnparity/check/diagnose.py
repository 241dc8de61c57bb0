"""Diagnose a port: which known porting mistake reproduces its outputs?

    report = rp.diagnose(keras_layer, x, port_outputs)   # or port_outputs=port(x, mask, initial_state)
    print(report)              # agrees / the mistakes that explain it / no known mistake, where it diverges

The reference is run with each mistake of rnnparity.check.mistakes applied (alone, then the likely
pairs when no single one explains the outputs); a mistake *explains* the port when every output
agrees with the port's to the tolerance table (check/tolerances.py) while differing from Keras. A
mistake with no effect on these inputs is never reported (it cannot be told apart from a correct port).
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

import numpy as np

from ..plan import Call, Reset
from . import conv_lstm_mistakes
from . import mistakes as catalogue
from .compare import as_list, coarsest, elementwise_errors, first_bad_timestep
from .tolerances import tolerance

AGREES, EXPLAINED, UNEXPLAINED = "agrees", "explained", "unexplained"


@dataclass
class Finding:
    mistake: catalogue.Mistake
    score: float  # worst |port - mistaken reference| / tolerance bound (<= 1: reproduces)

    @property
    def name(self) -> str:
        return self.mistake.name

    @property
    def says(self) -> str:
        return self.mistake.says

    @property
    def pair(self) -> bool:
        return " + " in self.name


@dataclass
class Diagnosis:
    verdict: str  # "agrees", "explained" or "unexplained"
    findings: list = field(default_factory=list)  # ranked, best first
    divergence: str = ""  # where the port first differs from Keras (unexplained and explained)
    tried: int = 0  # mistakes and pairs run
    subject: str = "the port"
    baseline: str = "Keras"  # what the mistakes are applied to, in the diagnosis line
    oracle: str = "Keras"  # what the port is compared with: Keras, or TF for TF1 functions

    @property
    def names(self) -> list:
        return [f.name for f in self.findings]

    @property
    def line(self) -> str | None:
        """The one-line diagnosis when exactly one mistake explains the difference, else None."""
        if self.verdict != EXPLAINED or len(self.findings) != 1:
            return None
        f = self.findings[0]
        return (f"diagnosis: {self.subject} behaves like {self.baseline} with one known porting mistake "
                f"[{f.name}]: {f.says}")

    def __str__(self):
        if self.verdict == AGREES:
            return f"{self.subject} agrees with {self.oracle} (to the tolerance table)"
        if self.verdict == UNEXPLAINED:
            return (f"{self.subject} differs from {self.oracle} and no known mistake explains it "
                    f"({self.tried} mistakes and pairs tried)\n{self.divergence}")
        lines = [f"{self.subject} differs from {self.oracle}; {len(self.findings)} known mistake(s) reproduce "
                 f"its outputs ({self.tried} tried), most likely first:"]
        for k, f in enumerate(self.findings, 1):
            lines.append(f"  {k}. [{f.name}] {f.says} (error {f.score:.2g} of the tolerance)")
        return "\n".join(lines + [self.divergence])

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "tried": self.tried, "divergence": self.divergence,
                "findings": [{"name": f.name, "says": f.says, "score": f.score} for f in self.findings]}


# -- running a plan --------------------------------------------------------------------------------
def context(steps) -> catalogue.Context:
    calls = [s for s in steps if isinstance(s, Call)]
    return catalogue.Context(mask=any(c.mask is not None for c in calls),
                             initial_state=any(c.initial_state is not None for c in calls),
                             calls=len(calls), resets=any(isinstance(s, Reset) for s in steps))


def run(reference, steps, mistake=None) -> list:
    """The flat outputs (one list of arrays per call) of a copy of ``reference`` run through the
    plan's steps, with ``mistake`` applied."""
    ref = copy.deepcopy(reference)
    layer = mistake.layer(ref) if mistake else ref
    out = []
    for step in steps:
        if isinstance(step, Reset):
            if not (mistake and mistake.ignores_resets) and getattr(layer, "stateful", False):
                layer.reset_states()
            continue
        x, mask, init = step.x, step.mask, step.initial_state
        if mistake:
            x, mask, init = mistake.inputs(ref, x, mask, init)
        flat = [np.asarray(a) for a in as_list(layer(x, mask=mask, initial_state=init))]
        out.append(mistake.outputs(ref, flat) if mistake else flat)
    return out


def _steps_of(steps, reference) -> list:
    calls = [s for s in steps if isinstance(s, Call)]
    if not calls:
        raise ValueError("diagnose: nothing to diagnose: the plan has no call")
    return [int(np.shape(c.x)[catalogue.time_axis_of(reference)]) for c in calls]


def score(expected, actual, lengths, precision) -> float:
    """Worst error / tolerance bound over every output of every call (inf on a shape mismatch)."""
    if len(expected) != len(actual):
        return np.inf
    worst = 0.0
    for e_call, a_call, steps in zip(expected, actual, lengths):
        if len(e_call) != len(a_call):
            return np.inf
        for e, a in zip(e_call, a_call):
            e, a = np.asarray(e), np.asarray(a)
            if e.shape != a.shape:
                return np.inf
            if e.size == 0:
                continue
            tol = tolerance(coarsest(e.dtype, precision), steps)
            err = elementwise_errors(e, a, tol)[0]
            bound = tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(e), e.astype(np.float64), 0))
            worst = max(worst, float(np.max(err / bound)))
    return worst


def _position(index) -> str:
    """'unit 3', or a ConvLSTM step's 'position (1, 2, 0)' (spatial axes and filter, data_format order)."""
    return f"unit {index[0]}" if len(index) == 1 else f"position {tuple(index)}"


def divergence(expected, actual, lengths, precision, time_axis, names=None, oracle="Keras",
               rank=0) -> str:
    """Where ``actual`` first differs from the oracle's ``expected``: call, output, timestep, batch,
    unit (a ConvLSTM's: spatial position and filter; ``rank`` its spatial axes)."""
    for k, (e_call, a_call, steps) in enumerate(zip(expected, actual, lengths)):
        for i, (e, a) in enumerate(zip(e_call, a_call)):
            e, a = np.asarray(e), np.asarray(a)
            name = f" = {names[i]}" if names and i < len(names) else ""
            if e.shape != a.shape:
                return f"output [{i}]{name} has shape {a.shape}; {oracle} returns {e.shape}"
            tol = tolerance(coarsest(e.dtype, precision), steps)
            bad = elementwise_errors(e, a, tol)[2]
            if not bad.any():
                continue
            call = f"call {k + 1}, " if len(expected) > 1 else ""
            if e.ndim == rank + 3:  # a sequence: (batch, time, features) or (batch, time, *spatial, channels)
                t = first_bad_timestep(bad, time_axis)
                b, *u = (int(v) for v in np.argwhere(np.moveaxis(bad, time_axis, 0)[t])[0])
                index = (t, b, *u) if time_axis == 0 else (b, t, *u)
                return (f"first divergence from {oracle}: {call}output [{i}]{name}, timestep t={t}, "
                        f"batch {b}, {_position(u)}: {oracle} {float(e[index]):.7g}, "
                        f"port {float(a[index]):.7g}")
            b, *u = (int(v) for v in np.argwhere(bad)[0])
            return (f"first divergence from {oracle}: {call}output [{i}]{name}, batch {b}, {_position(u)}: "
                    f"{oracle} {float(e[(b, *u)]):.7g}, port {float(a[(b, *u)]):.7g}")
    return ""


def diagnose_plan(reference, steps, port, keras=None, pairs=True, subject="the port",
                  names=None) -> Diagnosis:
    """Diagnose a port's outputs ``port`` (flat arrays per call) over the plan ``steps``.

    ``keras``: the framework's own outputs for the plan, when known (else the reference's)."""
    lengths = _steps_of(steps, reference)
    precision = str(catalogue.sublayers(reference)[0].compute_dtype)
    time_axis = catalogue.time_axis_of(reference)
    baseline = keras if keras is not None else run(reference, steps)
    check_port(port, baseline)
    where = divergence(baseline, port, lengths, precision, time_axis, names, rank=spatial_rank(reference))
    if score(baseline, port, lengths, precision) <= 1:
        return Diagnosis(AGREES, subject=subject)
    ctx = context(steps)

    def fit(m, outputs):
        s = score(outputs, port, lengths, m.tolerance_dtype or precision)
        return s if m.fits_port is None or m.fits_port(port) else np.inf
    every = catalogue.CATALOGUE + conv_lstm_mistakes.CATALOGUE
    found, tried = search([m for m in every if m.applies(reference, ctx)],
                          lambda m: _attempt(reference, steps, m),
                          lambda outputs: score(baseline, outputs, lengths, precision) <= 1,
                          fit, catalogue.combined, pairs)
    return Diagnosis(EXPLAINED if found else UNEXPLAINED, found, where, tried, subject)


def search(mistakes, attempt, no_effect, fit, combine, pairs=True):
    """(findings ranked best first, how many mistakes and pairs were run): the mistakes whose
    outputs ``attempt(m)`` (None: not expressible here) reproduce the port, ``fit(m, outputs) <= 1``.
    A mistake with ``no_effect(outputs)`` (indistinguishable from a correct port) is never reported.
    When no single mistake explains the port, the pairs of effective mistakes of different groups
    (``combine([a, b])``; None: the two cannot be combined) are tried."""
    effective, found, tried = [], [], 0
    for m in mistakes:
        outputs = attempt(m)
        tried += 1
        if outputs is None or no_effect(outputs):
            continue
        effective.append(m)
        if (s := fit(m, outputs)) <= 1:
            found.append(Finding(m, s))
    if not found and pairs:
        for a, b in itertools.combinations(effective, 2):
            m = None if a.group == b.group else combine([a, b])
            if m is None:
                continue
            outputs = attempt(m)
            tried += 1
            if outputs is not None and (s := fit(m, outputs)) <= 1:
                found.append(Finding(m, s))
    found.sort(key=lambda f: f.score)
    return found, tried


def _attempt(reference, steps, mistake):
    try:
        with np.errstate(all="ignore"):
            return run(reference, steps, mistake)
    except (ValueError, TypeError, IndexError, AttributeError):  # not expressible for this layer
        return None


def possessive(name):
    return name + ("'" if name.endswith("s") else "'s")


def check_port(port, baseline, oracle="Keras"):
    """ValueError naming what the port's outputs should be, when their count or shapes differ."""
    if len(port) != len(baseline):
        raise ValueError(f"diagnose: port_outputs must hold one output structure per call "
                         f"({len(baseline)}), got {len(port)}")
    for k, (p, b) in enumerate(zip(port, baseline)):
        where = f" for call {k + 1}" if len(baseline) > 1 else ""
        want = [np.shape(a) for a in b]
        if len(p) != len(b):
            raise ValueError(f"diagnose: port_outputs{where} must hold {len(b)} array(s) in "
                             f"{possessive(oracle)} order (shapes {want}), got {len(p)}")
        for i, (pa, ba) in enumerate(zip(p, b)):
            if sorted(np.shape(pa)) != sorted(np.shape(ba)):  # axes swapped is a mistake to diagnose
                raise ValueError(f"diagnose: port_outputs{where} [{i}] must have shape "
                                 f"{np.shape(ba)}, got {np.shape(pa)}")
            if not np.issubdtype(np.asarray(pa).dtype, np.number):
                raise ValueError(f"diagnose: port_outputs{where} [{i}] must be numeric, got dtype "
                                 f"{np.asarray(pa).dtype}")


# -- the public entry point ------------------------------------------------------------------------
def _reference_of(layer):
    from ..reference import Bidirectional, RecurrentLayer
    from ..tf1 import is_tf1_cell

    if isinstance(layer, (RecurrentLayer, Bidirectional)):
        return layer, False
    if is_tf1_cell(layer):
        raise ValueError(f"diagnose: {type(layer).__name__} is a TF1 cell; diagnose a port of "
                         f"tf.compat.v1.nn code with rp.diagnose_tf1(function, cell, inputs, port_outputs)")
    from ..keras_to_reference import from_keras

    return from_keras(layer), True


def _supported(reference):
    for sub in catalogue.sublayers(reference):
        if type(sub.cell).__name__ not in ("SimpleRNNCell", "LSTMCell", "GRUCell", "ConvLSTMCell"):
            raise ValueError(f"diagnose: layer must be a SimpleRNN, LSTM or GRU (or RNN of one such "
                             f"cell), a ConvLSTM1D/2D/3D, or Bidirectional of one; got a layer of "
                             f"{type(sub.cell).__name__}")


def spatial_rank(reference) -> int:
    """How many spatial axes each step of the layer has: 0, or a ConvLSTM's 1, 2 or 3."""
    return getattr(catalogue.sublayers(reference)[0].cell, "rank", 0) or 0


def diagnose(layer, x, port_outputs, mask=None, initial_state=None, *, pairs=True) -> Diagnosis:
    """Which known porting mistake makes the reference of ``layer`` produce ``port_outputs``?

    ``layer``: a live Keras layer (keras 3 or tf_keras; stateful: from its current states) or a
    rnnparity reference layer. ``x``: one input, or a list of consecutive batches (a stateful layer
    carries its state through them). ``port_outputs``: the port's outputs in the structure Keras
    returns (an array, or output then states), one per batch for a list of batches; or a callable
    ``port(x, mask, initial_state) -> outputs``. ``mask``: one per batch for a list. ``initial_state``
    is given to the first batch. ``pairs=False`` tries single mistakes only."""
    reference, live = _reference_of(layer)
    _supported(reference)
    batches = list(x) if isinstance(x, (list, tuple)) else [x]
    masks = list(mask) if isinstance(mask, (list, tuple)) else [mask] * len(batches)
    if len(masks) != len(batches):
        raise ValueError(f"diagnose: mask must be one array per batch ({len(batches)}), got {len(masks)}")
    steps = [Call(np.asarray(b), None if m is None else np.asarray(m),
                  initial_state if k == 0 else None, f"batch {k + 1}")
             for k, (b, m) in enumerate(zip(batches, masks))]
    if initial_state is not None and not isinstance(initial_state, (list, tuple)):
        steps[0].initial_state = [initial_state]
    rank = spatial_rank(reference)
    for c in steps:
        if np.ndim(c.x) != rank + 3:
            layout = "(batch, time, features)" if not rank else "(batch, time, *spatial, channels)"
            raise ValueError(f"diagnose: x must have rank {rank + 3} {layout} (or a list of "
                             f"such batches), got shape {np.shape(c.x)}")
    if callable(port_outputs):
        port = [[np.asarray(a) for a in as_list(port_outputs(c.x, c.mask, c.initial_state))]
                for c in steps]
    else:
        given = list(port_outputs) if len(steps) > 1 else [port_outputs]
        port = [[np.asarray(a) for a in as_list(p)] for p in given]
    keras = None
    if live and not getattr(reference, "stateful", False):
        keras = _framework_outputs(layer, steps)
    names = _names(layer, steps[0].x.shape)
    subject = f"the port of {type(layer).__name__} {getattr(layer, 'name', '')}".rstrip()
    return diagnose_plan(reference, steps, port, keras=keras, pairs=pairs, subject=subject, names=names)


def _framework_outputs(layer, steps):
    """The live (non-stateful) layer's own outputs for each call: the oracle itself."""
    from ..keras_to_reference import dialect_of
    from ..targets import registry

    adapter = registry.get({"keras3": "keras3", "keras2": "tf_keras"}[dialect_of(layer)])
    return [[np.asarray(a) for a in as_list(adapter.call(layer, c.x, c.mask, c.initial_state))]
            for c in steps]


def _names(layer, shape):
    try:
        from ..output_structure import explain

        return explain(layer, shape).names()
    except Exception:  # noqa: BLE001 - names are a courtesy
        return None


def one_line(reference, steps, outputs, subject) -> str | None:
    """The diagnosis line of a failure report: ``outputs`` (a target's, per call) against the
    reference (before its first call), single mistakes only; None unless exactly one mistake
    explains them. Never raises: it only adds to a report of a failure found otherwise."""
    try:
        _supported(reference)
        port = [[np.asarray(a) for a in as_list(o)] for o in outputs]
        diagnosis = diagnose_plan(reference, steps, port, pairs=False, subject=subject)
        diagnosis.baseline = "the reference"
        return diagnosis.line
    except Exception:  # noqa: BLE001 - a diagnosis is a courtesy on a failure already reported
        return None


def diagnosis_mismatch(reference, steps, outputs, subject):
    """The diagnosis line as a Mismatch of kind "diagnosis" (reports show it, never count it), or None."""
    from .compare import Mismatch

    line = one_line(reference, steps, outputs, subject)
    return None if line is None else Mismatch("diagnosis", line)
