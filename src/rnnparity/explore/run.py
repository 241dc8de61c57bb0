"""One configuration -> one outcome, from the verdict pipeline (`runner.check_spec_live`) and the
registry of known framework bugs (`check/divergences.py`).

Outcomes:
- ``agree``: every output within the tolerance table;
- ``agree within rounding``: the rounding verdict says the differences are rounding;
- ``ill-conditioned``: the rounding verdict cannot decide (the envelope is as large as the values);
- ``known framework bug``: it fails where a registered divergence applies (its key is kept);
- ``refused alike``: the framework and the reference both reject the configuration, at the same step;
- ``reference refuses an option``: the framework runs it, the reference refuses it with a clear error
  (ValueError / TypeError / NotImplementedError naming what it does not model);
- ``framework crash``: the framework accepted the configuration, then failed on a call with an
  internal error (not a ValueError / TypeError rejection) where the reference ran through;
- ``UNEXPLAINED``: anything else: values beyond rounding, one side raising where the other does not,
  a reference crash, or the verdict itself crashing.

``framework crash`` and ``UNEXPLAINED`` are the findings: each is shrunk and written as a repro.
"""
from __future__ import annotations

import re
import time
import types
from dataclasses import dataclass, field

from . import conv_space, space

AGREE = "agree"
ROUNDING = "agree within rounding"
ILL = "ill-conditioned"
KNOWN = "known framework bug"
REFUSED_ALIKE = "refused alike"
REF_REFUSES = "reference refuses an option"
FW_CRASH = "framework crash"
UNEXPLAINED = "UNEXPLAINED"
OUTCOMES = (AGREE, ROUNDING, ILL, KNOWN, REFUSED_ALIKE, REF_REFUSES, FW_CRASH, UNEXPLAINED)
FINDINGS = (FW_CRASH, UNEXPLAINED)
# a deliberate rejection (of a configuration, an argument) rather than a failure inside the framework
REJECTIONS = ("ValueError", "TypeError", "NotImplementedError")
_VIEW_DTYPES = {"float32": "f32", "float64": "f64", "float16": "f16", "mixed_float16": "mixed_f16"}


@dataclass
class Result:
    config: dict
    outcome: str
    detail: str = ""  # one line: the reason, the error, the known bug's key
    signature: str = ""  # what a shrunk configuration must keep showing (outcome + kind of problem)
    report: str = ""  # the full failure report, for a finding
    seconds: float = 0.0
    known_key: str | None = None
    recording: object = field(default=None, repr=False)

    @property
    def finding(self) -> bool:
        return self.outcome in FINDINGS


def run_config(config) -> Result:
    """Build the live layer of ``config``, run its plan on the framework and on the reference, and
    classify what the verdict says."""
    from ..check import runner

    start = time.perf_counter()
    try:
        rec, problems = runner.check_spec_live(
            config["target"], space.spec_of(config), space.plan_of(config), config["seed"],
            space.config_id(config), space.input_shape(config), weights=space.weights_of(config))
        result = classify(config, rec, problems)
        result.recording = rec
    except Exception as exc:  # noqa: BLE001 - the verdict itself crashed: a finding
        import traceback

        result = Result(config, UNEXPLAINED, f"the verdict crashed: {type(exc).__name__}: {exc}"[:300],
                        f"{UNEXPLAINED}:verdict-crash:{type(exc).__name__}", traceback.format_exc())
    result.seconds = time.perf_counter() - start
    return result


def rounding_status(verdict):
    """"pass" | "fail" | "ill-conditioned" | None (no rounding verdict was needed)."""
    if verdict is None:
        return None
    status = getattr(verdict, "status", None)
    if status is None:  # the verdict of check/rounding.py before the envelope: passed or not
        status = "pass" if getattr(verdict, "passed", False) else "fail"
    return status


def classify(config, rec, problems) -> Result:
    from ..check.runner import failure_report

    status = rounding_status(rec.rounding)
    real = [p for p in problems if p.kind not in ("rounding", "diagnosis")]
    fw_error = rec.outcome.error
    if not real:
        if status == "ill-conditioned":
            return Result(config, ILL, _first_line(rec.rounding))
        if fw_error is not None:
            return Result(config, REFUSED_ALIKE, f"{fw_error[1]}: {fw_error[2]}"[:200])
        return Result(config, ROUNDING if status == "pass" else AGREE)
    report = failure_report(space.config_id(config), problems, repro=None)
    if status == "ill-conditioned" and all(p.kind == "values" for p in real):
        return Result(config, ILL, _first_line(rec.rounding), report=report)
    known = known_bug(config)
    if known is not None:
        return Result(config, KNOWN, known.key, report=report, known_key=known.key)
    errors = [p for p in real if p.kind == "error"]
    if errors:
        return _error_outcome(config, errors[0].message, fw_error, report)
    kinds = sorted({p.kind for p in real})
    precision = next((p.precision for p in real if p.precision), config["dtype"])
    first = real[0].message.splitlines()[0]
    return Result(config, UNEXPLAINED, f"{'/'.join(kinds)} differ ({precision}): {first}"[:300],
                  f"{UNEXPLAINED}:{'+'.join(kinds)}:{precision}", report)


_REFERENCE_RAISED = re.compile(r"(?:building the reference raised|the reference raised) (\w+)")


def _error_outcome(config, message, fw_error, report) -> Result:
    head = message.splitlines()[0]
    ref = _REFERENCE_RAISED.search(message)
    if fw_error is None:  # the framework ran through; the reference raised
        kind = ref.group(1) if ref else "?"
        if kind in REJECTIONS:
            refusal = message.split(f"{kind}", 1)[-1].split(": ", 1)[-1].splitlines()[0]
            return Result(config, REF_REFUSES, refusal[:200], report=report)
        return Result(config, UNEXPLAINED, f"the reference crashed: {head}"[:300],
                      f"{UNEXPLAINED}:reference-raises:{kind}", report)
    if "but the reference" in message:  # the framework raised; the reference accepted / ran through
        if fw_error[1] not in REJECTIONS:
            return Result(config, FW_CRASH, f"{fw_error[1]}: {fw_error[2]}"[:300],
                          f"{FW_CRASH}:{fw_error[1]}", report)
        return Result(config, UNEXPLAINED, f"the framework rejects it, the reference does not: {head}"[:300],
                      f"{UNEXPLAINED}:framework-rejects:{fw_error[1]}", report)
    return Result(config, UNEXPLAINED, f"both raise, differently: {head}"[:300],
                  f"{UNEXPLAINED}:errors-differ:{fw_error[1]}", report)


def _first_line(verdict) -> str:
    try:
        return verdict.report().splitlines()[0][:200]
    except Exception:  # noqa: BLE001 - a verdict without a report
        return ""


# -- the registry of known bugs ------------------------------------------------------------------
def registry_view(config):
    """The Case fields the divergence registry reads (divergences.divergence_for_call), for a
    configuration."""
    first = config["cells"][0]
    layer = {"SimpleRNNCell": "simple_rnn", "LSTMCell": "lstm"}.get(first["class"]) or (
        "gru" if first.get("reset_after", True) else "gru_reset_before")
    cell = {"RNN_cell": "rnn_cell", "stacked": "stacked"}.get(config["kind"], "layer")
    wrapper = config["wrapper"]
    flags = config["flags"]
    view = types.SimpleNamespace(
        target=config["target"], layer=layer, cell=cell, dtype=_VIEW_DTYPES[config["dtype"]],
        wrapper="none" if wrapper is None else f"bidi_{str(wrapper['merge_mode']).lower()}",
        return_sequences=flags["return_sequences"], return_state=flags["return_state"],
        go_backwards=flags["go_backwards"], stateful=flags["stateful"], time_major=False,
        backward_layer=bool(wrapper and wrapper["backward"]),
        unroll=flags["unroll"], mask=config["mask"], initial_state=config["initial_state"],
        batch=config["batch"], activation=first.get("activation"),
        recurrent_activation=first.get("recurrent_activation"),
        # what divergences.call_view reads off a live layer: RNN([cells]) wraps the cells in a
        # StackedRNNCells of the default (float32) policy, whatever the layer's dtype
        layer_dtype=config["dtype"], stacked_dtype="float32" if cell == "stacked" else None,
        stacked_kinds=tuple({"SimpleRNNCell": "simple_rnn", "LSTMCell": "lstm", "GRUCell": "gru"}.get(
            c["class"], c["class"]) for c in config["cells"]) if cell == "stacked" else None)
    if conv_space.is_conv(config):  # a ConvLstmCase's fields, and the masks its calls get
        vars(view).update(conv_space.registry_fields(config), masks=conv_space.masks_of(space.plan_of(config)))
    return view


def known_bug(config):
    """The registered divergence this configuration meets, or None (every cell's activations are
    looked up, a stacked cell's too)."""
    from ..check import divergences

    view = registry_view(config)
    known = divergences.divergence_for_call(view)
    if known is not None:
        return known
    cells = config["cells"] + ([config["wrapper"]["backward"]] if config["wrapper"] and
                               config["wrapper"]["backward"] else [])
    for cell in cells:
        for option in ("activation", "recurrent_activation"):
            name = cell.get(option)
            if isinstance(name, str) and divergences.activation_divergence(config["target"], name):
                return divergences.activation_divergence(config["target"], name)
    return None
