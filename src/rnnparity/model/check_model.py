"""`rp.check_model`: every recurrent layer of a user's model, checked on what it really receives.

    report = rp.check_model(model, x)          # a live Keras 3 or tf_keras model, or a .keras/.h5 path
    report.passed; report.layers               # one row per recurrent layer
    print(report)                              # the table `rnnparity check-model` prints

One forward pass (rnnparity.model.capture) records each recurrent layer's inputs, mask and initial states
and what it returned; a reference copy of the layer (rp.from_keras) then runs on exactly that and
the outputs are compared (rnnparity.check.runner: structure -> shape -> dtype -> values, the tolerance
table, the rounding verdict for a float16/float32 values mismatch). Stateful layers are reset
first, then `batches` consecutive batches run through one reference copy, then a reset and one more.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import numpy as np

from ..check import runner, verdict as verdicts
from .capture import capturing, mask_source, one_line, recurrent_layers
from ..check.compare import as_list, coarsest, elementwise_errors, first_bad_timestep
from ..keras_to_reference import dialect_of, from_keras
from ..plan import LayerSpec, Outcome, Plan, Recording, Reset
from ..check.divergences import call_view, divergence_for_call
from ..layer_spec import key_flags, layer_spec
from ..check.tolerances import LONG_SEQUENCE, tolerance

from .statuses import STATUSES, checked_policy, gate_passes, outcome  # noqa: F401 - STATUSES re-exported
TARGET_OF_DIALECT = {"keras3": "keras3", "keras2": "tf_keras"}


@dataclass
class LayerResult:
    """One recurrent layer of the model: the row of the report."""
    name: str  # its path of names: 'encoder/lstm' inside the nested model 'encoder'
    cls: str  # 'LSTM', 'Bidirectional(GRU)', 'TimeDistributed(SimpleRNN)', 'RNN(LSTMCell)'
    status: str  # one of STATUSES
    max_abs_error: float | None = None
    first_diverging_step: int | None = None
    mask_source: str = "none"
    message: str = ""
    flags: str = ""
    outputs_per_call: int = 0
    calls: int = 0

    @property
    def checked(self) -> bool:
        """Whether its outputs were compared (not an unsupported layer's, nor a call that raised)."""
        return self.status != "unsupported" and self.calls > 0 and self.outputs_per_call > 0

    @property
    def outputs_checked(self) -> str:
        if not self.checked:
            return "none"
        return f"{self.outputs_per_call} x {self.calls} call{'s' if self.calls != 1 else ''}"

    def to_dict(self) -> dict:
        return {"name": self.name, "class": self.cls, "status": self.status,
                "max_abs_error": self.max_abs_error, "first_diverging_step": self.first_diverging_step,
                "mask_source": self.mask_source, "flags": self.flags,
                "outputs_per_call": self.outputs_per_call, "calls": self.calls, "checked": self.checked,
                "message": self.message}


@dataclass
class ModelReport:
    model: str  # the model's name, or the file it was loaded from
    target: str  # keras3 or tf_keras
    layers: list
    versions: dict = field(default_factory=dict)
    unsafe: bool = False  # the file was loaded with safe mode off
    batches: int = 1
    recordings: dict = field(default_factory=dict, repr=False)  # row name -> Recording
    ill_conditioned: str = "warn"  # whether an ill-conditioned row fails the model ("fail") or not
    unsupported: str = "fail"  # the policy for unsupported layers: "fail" or "skip" (statuses.py)
    tolerance: str = ""  # the tolerance the rows were compared with, in words

    @property
    def passed(self) -> bool:
        """Every row passed, is a registered framework bug, is ill-conditioned (under
        ill_conditioned="warn"), or is skipped (an unsupported layer under unsupported="skip"), and
        at least one layer was checked."""
        return gate_passes([r.status for r in self.layers], self.unsupported, self.ill_conditioned)

    def outcome(self, row) -> str:
        """passed / failed / xfailed / skipped / ill-conditioned: what the gate makes of a row."""
        return outcome(row.status, self.unsupported, self.ill_conditioned)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "model": self.model, "framework": self.target,
                "versions": self.versions, "unsafe": self.unsafe, "batches": self.batches,
                "unsupported": self.unsupported, "tolerance": self.tolerance,
                "layers": [{**r.to_dict(), "outcome": self.outcome(r)} for r in self.layers]}

    def table(self) -> str:
        from ..report.model_report import text_report

        return text_report(self)

    __str__ = table


# -- the check ---------------------------------------------------------------------------------
def check_model(model, inputs=None, *, atol=None, rtol=None, batches=1, unsafe=False,
                framework=None, unsupported="fail", custom_objects=None,
                ill_conditioned="warn") -> ModelReport:
    """Check every recurrent layer of ``model`` on the inputs, mask and states it really receives.

    ``model``: a live Keras 3 or tf_keras model, or the path of a .keras/.h5 file (loaded safely:
    see rnnparity.model.files; ``unsafe=True`` turns safe mode off and the report says so;
    ``framework`` forces keras3 or tf_keras). ``inputs``: what ``model(inputs)`` takes; a callable
    ``inputs(k)`` giving the k-th batch (k = 0 .. batches); or None to synthesise them from the
    model's input specs (rnnparity.model.files.synthesise_inputs). ``atol``/``rtol`` override the
    tolerance table. ``batches``: consecutive forward passes (a stateful model gets one more after a
    reset of its stateful layers). ``unsupported``: "fail" (default) or "skip": whether a layer the
    reference cannot model (a custom cell...) fails the report or is skipped, visibly (its row stays
    "unsupported"; ``report.passed`` and the reports count it as a skip). ``custom_objects``: for a
    path, the user's classes the file names ({name: class}, or "module:name" strings), as Keras'
    custom_objects. ``ill_conditioned``: "warn" (default: a row whose valid low-precision runs
    scatter as widely as its values is shown and does not fail the report) or "fail". Raises
    ValueError for bad input (no recurrent layer, inputs that do not fit the
    model), in one line."""
    tolerance("float32", atol=atol, rtol=rtol)  # a bad override fails before anything runs
    verdicts.check_mode(ill_conditioned)
    checked_policy(unsupported)
    if isinstance(batches, bool) or not isinstance(batches, (int, np.integer)) or batches < 1:
        raise ValueError(f"check_model: batches must be an integer >= 1, got {batches!r}")
    source = None
    if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
        from .files import load_model

        source = str(model)
        model, _ = load_model(source, unsafe=unsafe, framework=framework, custom_objects=custom_objects)
    target = _target_of(model)
    found = recurrent_layers(model)
    if not found:
        raise ValueError(f"check_model: {_name(model, source)} has no recurrent layer (SimpleRNN, "
                         f"LSTM, GRU, RNN or Bidirectional, also inside nested models and "
                         f"TimeDistributed)")
    feed = _feeder(model, inputs)
    stateful = [f for f in found if is_stateful(f.layer)]
    entries, stopped = forward(model, found, stateful, feed, batches)
    report = ModelReport(_name(model, source), target, [], _versions(target), unsafe=bool(unsafe),
                         batches=batches, unsupported=unsupported, tolerance=tolerance_words(atol, rtol),
                         ill_conditioned=ill_conditioned)
    for entry in entries:
        row, rec = check_captured(entry, target, atol, rtol, stopped)
        report.layers.append(row)
        if rec is not None:
            report.recordings[row.name] = rec
    return report


def tolerance_words(atol, rtol) -> str:
    """The tolerance the rows are compared with, as the report header says it."""
    table = tolerance("float32")
    if atol is None and rtol is None:
        long = tolerance("float32", LONG_SEQUENCE + 1)
        return (f"the tolerance table (float32: atol={table['atol']:g}, rtol={table['rtol']:g}; beyond "
                f"{LONG_SEQUENCE} steps atol={long['atol']:g}, rtol={long['rtol']:g})")
    given = ", ".join(f"{k}={v:g}" for k, v in (("atol", atol), ("rtol", rtol)) if v is not None)
    kept = ", ".join(f"{k}={table[k]:g}" for k, v in (("atol", atol), ("rtol", rtol)) if v is None)
    return f"{given} (given)" + (f", {kept} (the float32 table)" if kept else "")


def _name(model, source):
    return source or f"model {getattr(model, 'name', type(model).__name__)!r}"


def _target_of(model):
    try:
        return TARGET_OF_DIALECT[dialect_of(model)]
    except TypeError as exc:
        raise ValueError(f"check_model: {exc}") from None


def _versions(target):
    from ..targets import registry

    v = registry.get(target).versions()
    return {k: v[k] for k in ("tensorflow", "keras", "backend") if k in v}


def is_stateful(layer):
    return bool(getattr(layer, "stateful", False))


def _feeder(model, inputs):
    if callable(inputs) and not hasattr(inputs, "shape"):
        return inputs
    if inputs is None:
        from .files import synthesise_inputs

        return lambda k: synthesise_inputs(model, seed=k)
    return lambda k: inputs


def _reset(found):
    """Reset each stateful layer the way its framework does (reset_states / reset_state), so a layer
    that already ran (the user's own predict or fit) starts from zeros, as its reference does. A
    Bidirectional holds its states in its two sub-layers (tf_keras' wrapper has no `states` of its
    own): it is reset when either has been built."""
    from ..targets import registry

    for f in found:
        holders = [getattr(f.layer, name) for name in ("forward_layer", "backward_layer")
                   if hasattr(f.layer, name)] or [f.layer]
        if any(not all(s is None for s in _flat(getattr(h, "states", None))) for h in holders):
            registry.get(_target_of(f.layer)).reset(f.layer)


def _flat(states):
    if isinstance(states, (list, tuple)):
        return [s for part in states for s in _flat(part)]
    return [states]


def forward(model, found, stateful, feed, batches):
    """Run the passes under capture; return (entries, the exception that stopped them or None).
    A stateful layer's entry gets `resets`: the call counts at which its states were reset."""
    passes = [(k, f"batch {k + 1}" + (" (states carried)" if k and stateful else "")) for k in range(batches)]
    if stateful:
        passes.append((batches, "after reset_states()"))
    current = {"label": ""}

    def label(entry):
        return current["label"]

    _reset(stateful)
    with capturing(found, label) as entries:
        for k, what in passes:
            if k == batches:
                _reset(stateful)
                for entry in entries:
                    if is_stateful(entry.found.layer):
                        entry.resets.append(len(entry.calls))
            current["label"] = what
            x = feed(k)
            try:
                model(x, training=False)
            except Exception as exc:  # noqa: BLE001 - named below: a layer's, or the inputs'
                if any(e.error is not None for e in entries):  # the row of that layer says it
                    return entries, exc
                from .files import input_shape_problem

                problem = input_shape_problem(model, x)
                if problem:  # Keras' own message prints the values, cut at the first line
                    raise ValueError(f"check_model: the inputs do not fit the model: {problem}") from None
                raise ValueError(f"check_model: the model raised {type(exc).__name__} on the inputs "
                                 f"({describe_inputs(x)}): {one_line(exc)}") from None
    return entries, None


def describe_inputs(x):
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {describe_inputs(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(describe_inputs(v) for v in x) + "]"
    a = np.asarray(x)
    return f"{a.dtype} {a.shape}"


# -- one layer -----------------------------------------------------------------------------------
def layer_plan(entry):
    steps = []
    for i, call in enumerate(entry.calls):
        if i in entry.resets:
            steps.append(Reset())
        steps.append(call)
    return Plan(steps)


def recording(entry, target, spec) -> Recording:
    """The captured calls of one layer as a Recording (golden.py stores it; runner.verify replays it)."""
    layer = entry.found.layer
    dialect = dialect_of(layer)
    time_major = bool(getattr(getattr(layer, "forward_layer", layer), "time_major", False))
    case_id = f"{re.sub(r'[^A-Za-z0-9_.]', '_', entry.found.name)}-{target}"
    weights = [np.asarray(w) for w in layer.get_weights()]
    return Recording(case_id, spec, layer_plan(entry), weights,
                            Outcome(list(entry.outputs)), dialect, 0 if time_major else 1,
                            layer=layer)


def check_captured(entry, target, atol=None, rtol=None, stopped=None):
    """(LayerResult, Recording or None) for one captured layer."""
    found = entry.found
    row = LayerResult(found.name, found.cls, "fail", mask_source=mask_source(entry),
                      flags=key_flags(found.layer), calls=len(entry.outputs),
                      outputs_per_call=len(as_list(entry.outputs[0])) if entry.outputs else 0)
    try:
        reference = from_keras(found.layer)
    except Exception as exc:  # noqa: BLE001 - whatever the reference cannot model is a row
        row.status, row.message = "unsupported", f"{found.name}: {one_line(exc)}"
        return row, None
    if entry.unsupported:
        row.status, row.message = "unsupported", entry.unsupported
        return row, None
    if entry.error is not None:
        known = known_bug(target, found.layer, entry.calls)
        why = f"the framework raised {type(entry.error).__name__}: {one_line(entry.error)}"
        row.status = "xfail" if known else "fail"
        row.message = f"{found.name}: " + (f"known framework bug [{known.key}]: {why}" if known else why)
        return row, None
    if not entry.calls:
        where = f"; the forward pass stopped with {type(stopped).__name__}" if stopped else ""
        row.message = f"{found.name}: the model's forward pass never called this layer{where}"
        return row, None
    if getattr(reference, "stateful", False):
        reference.reset_states()  # the live layer was reset before the first batch
    pristine = copy.deepcopy(reference)  # before its first call: the rounding envelope, the diagnosis
    try:
        spec = layer_spec(found.layer)
    except ValueError:  # still checked against its from_keras copy; no recording
        spec = None
    rec = recording(entry, target, spec or LayerSpec(type(found.layer).__name__, {
        "dtype": str(getattr(found.layer, "compute_dtype", None) or "float32")}))
    verdict = verdicts.judge(rec, lambda: reference, pristine=pristine, atol=atol, rtol=rtol,
                             known=known_bug(target, found.layer, entry.calls), subject=f"{target}'s output")
    stats, problems = verdict.compared, verdict.problems
    row.max_abs_error = float(stats.max_abs) if stats.elements else None
    row.first_diverging_step = (None if verdict.status == verdicts.PASS else  # beyond rounding only
                                _first_diverging_step(problems, rec, verdict.reference, atol, rtol))
    keep = rec if spec is not None else None
    if verdict.status == verdicts.PASS:
        row.status = "pass"
        row.message = within_rounding(verdict, atol, rtol) if verdict.rounding is not None else ""
        return row, keep
    ill = verdict.status == verdicts.ILL_CONDITIONED
    report = runner.failure_report(found.name, problems, repro=None, ill_conditioned=ill)
    if ill:
        row.status, row.message = verdicts.ILL_CONDITIONED, report
        return row, keep
    known = verdict.known
    row.status = "xfail" if known else "fail"
    row.message = f"known framework bug [{known.key}]: {known.reason}\n{report}" if known else report
    return row, keep


def within_rounding(verdict, atol, rtol) -> str:
    """Why a row beyond the tolerance passed: the tolerance used, then the rounding verdict."""
    return (f"beyond the tolerance used ({tolerance_words(atol, rtol)}); passed because the rounding "
            f"verdict shows the differences are rounding (every value within the rounding envelope of "
            f"the case, estimated from randomly rounded runs of the reference):\n"
            + verdict.rounding.report())


def _first_diverging_step(problems, rec, ours, atol, rtol):
    steps = []
    precision = rec.spec.config.get("dtype")
    for p in problems:
        if p.kind != "values" or p.call is None or ours is None:
            continue
        e = np.asarray(as_list(rec.outcome.outputs[p.call])[p.output])
        a = np.asarray(as_list(ours.outputs[p.call])[p.output])
        if e.ndim != 3 or e.shape != a.shape:
            continue
        length = rec.plan.calls[p.call].x.shape[rec.time_axis]
        tol = tolerance(coarsest(e.dtype, precision), length, atol, rtol)
        bad = elementwise_errors(e, a, tol)[2]
        if bad.any():
            steps.append(first_bad_timestep(bad, rec.time_axis))
    return min(steps) if steps else None


def known_bug(target, layer, calls):
    """The registered framework bug one of the layer's calls meets, or None."""
    for call in calls or [None]:
        x = call.x if call is not None else np.zeros((1, 1, 1), "float32")
        try:
            view = call_view(target, layer, x, call.mask if call else None,
                              call.initial_state if call else None)
        except Exception:  # noqa: BLE001 - a layer the registry cannot describe has no entry
            return None
        known = divergence_for_call(view)
        if known is not None:
            return known
    return None

