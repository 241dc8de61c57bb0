"""`rnnparity diagnose`: which known porting mistake explains a port's outputs (rnnparity.check.diagnose).

    rnnparity diagnose --case lstm-seq-state-f32-keras3 --write-inputs in.npz   # the inputs to feed
    rnnparity diagnose --case lstm-seq-state-f32-keras3 --outputs port.npz      # the diagnosis
    rnnparity diagnose --model m.keras --layer encoder/lstm --write-inputs in.npz
    rnnparity diagnose --model m.keras --layer encoder/lstm --outputs port.npz [--json F]

The files (rnnparity.port_io documents them in full; k counts the calls from 0, i the arrays of one
call in the order Keras returns them: the output, then the states):
- inputs (written, .npz or .json by the name): everything a port runs on and nothing else to read:
  call{k}_x, call{k}_mask (when masked), call{k}_initial_state{j} (when given), `plan` (one string per
  step, "call" or "reset": a stateful layer's reset_states() between calls), the weights in Keras'
  layout named forward/cell0/kernel, forward/cell0/recurrent_kernel, forward/cell0/bias (backward/...
  for a Bidirectional, cell1/... for stacked cells), `layer` (its class, config and gate order) and
  `output_names`;
- outputs (read, .npz or .json): call{k}_output{i}, every array of every call, nothing else.
A case runs with the matrix's seeded weights (those of `rnnparity check --case`); a model layer with
its own, on the inputs it really receives from the model.

A tf1 case (`--case tf1-dynamic_rnn-basic_lstm-...`) is one call of a tf.compat.v1.nn function: the
inputs file holds call0_x (as the function takes it: time-major with time_major; the static functions
take it unstacked along axis 1), call0_sequence_length (when given), call0_initial_state{j} (the state
parts in TF's order, (c, h) for LSTM cells, forward cell first) and `output_names`, TF's flattened
output order, which call0_output{i} of the outputs file follows.
"""
from __future__ import annotations

import json
import re

import numpy as np

from ..check.compare import as_list
from ..check.diagnose import possessive
from .. import port_io
from ..plan import Call
from ..targets import installed, registry
from .common import SHOW_TF_LOGS, unknown_case
from .model import add_custom_objects_option, load_model_args
from .record import record_one


def case_plan(case_id):
    """(reference, plan steps, Keras' outputs per call, output names) for a matrix case: the live
    layer runs the plan; the reference is copied from it before its first call."""
    from ..check.runner import record
    from ..keras_to_reference import from_keras
    from ..matrix.tiers import case_of

    case = case_of(case_id)  # a Keras or ConvLSTM case (tf1 cases have their own diagnose path)
    copied = {}
    rec = record(case, on_built=lambda layer: copied.setdefault("ref", from_keras(layer)))
    if rec.outcome.error is not None:
        raise ValueError(f"case {case_id}: the framework raised {rec.outcome.error[1]}: "
                         f"{rec.outcome.error[2]} (nothing to diagnose)")
    from ..check.runner import output_names

    names = output_names(rec, rec.plan.calls[0].x.shape)
    return copied["ref"], list(rec.plan.steps), [flat(o) for o in rec.outcome.outputs], names


def model_plan(args):
    """The same for one recurrent layer of a model file, on the inputs it receives from the model."""
    from ..model.capture import recurrent_layers
    from ..keras_to_reference import from_keras
    from ..model.check_model import forward, is_stateful, layer_plan

    args.path = args.model
    model, target, feed = load_model_args(args)
    found = [f for f in recurrent_layers(model) if f.name == args.layer]
    if not found:
        names = ", ".join(f.name for f in recurrent_layers(model))
        raise ValueError(f"--layer {args.layer!r}: no recurrent layer of that name in {args.model}; "
                         f"its recurrent layers are: {names}")
    stateful = [f for f in found if is_stateful(f.layer)]
    entries, stopped = forward(model, found, stateful, feed, args.batches)
    entry = entries[0]
    if entry.error is not None or not entry.calls:
        raise ValueError(f"--layer {args.layer!r}: the layer raised or was never called "
                         f"({stopped or entry.error})")
    reference = from_keras(found[0].layer)
    if getattr(reference, "stateful", False):
        reference.reset_states()  # the live layer was reset before the first batch
    return reference, list(layer_plan(entry).steps), [flat(o) for o in entry.outputs], None


def flat(outputs):
    return [np.asarray(a) for a in as_list(outputs)]


def write_inputs(path, steps, reference, names=None):
    """The port's inputs file (.npz, or .json by its name; format: rnnparity.port_io): the calls'
    inputs, masks and states, the plan, the weights in Keras' layout, named, the layer's config."""
    port_io.write_port_inputs(path, reference, steps, names)


def write_outputs(path, outputs):
    np.savez(path, **{f"call{k}_output{i}": a for k, call in enumerate(outputs) for i, a in enumerate(call)})


_KEY = re.compile(r"call(\d+)_output(\d+)$")


def read_outputs(path, expected, oracle="Keras"):
    """The port's outputs per call from an .npz, checked against the layout of the oracle's
    ``expected`` (Keras', or TF's for a tf1 case)."""
    data = port_io.read_port_file(path, "--outputs")
    want = {f"call{k}_output{i}": np.shape(a) for k, call in enumerate(expected) for i, a in enumerate(call)}
    keys = set(data)
    if keys != set(want):
        bad = sorted(k for k in keys if k not in want)
        missing = sorted(k for k in want if k not in keys)
        raise ValueError(f"--outputs {path}: expected the arrays {', '.join(sorted(want))} (call<k>_output<i>: "
                         f"call k's i-th array in {possessive(oracle)} order); "
                         + (f"missing {', '.join(missing)}" if missing else "")
                         + ("; " if missing and bad else "") + (f"unexpected {', '.join(bad)}" if bad else ""))
    for key, shape in want.items():
        if sorted(data[key].shape) != sorted(shape):  # axes swapped is a mistake to diagnose
            raise ValueError(f"--outputs {path}: {key} must have shape {shape} (as {oracle} returns it), "
                             f"got {data[key].shape}")
    return [[data[f"call{k}_output{i}"] for i in range(len(call))] for k, call in enumerate(expected)]


# -- tf1 cases --------------------------------------------------------------------------------------
def tf1_case_record(case_id):
    """(case, TF's record) of a tf1 case, run live (rnnparity.check.tf1_records)."""
    from ..check.tf1_records import run_live
    from ..matrix.tf1_cases import Tf1Case

    case = Tf1Case.from_id(case_id)
    try:
        return case, run_live(case)
    except Exception as exc:  # noqa: BLE001 - TF refusing the configuration leaves nothing to diagnose
        raise ValueError(f"case {case_id}: TF raised {type(exc).__name__}: {exc} (nothing to diagnose)") \
            from None


def write_tf1_inputs(path, case, record):
    from ..check.tf1_records import case_problem

    p = case_problem(case, record)
    arrays = {"call0_x": record["inputs"]["x"], "output_names": np.array(record["output_names"])}
    if p.lengths is not None:
        arrays["call0_sequence_length"] = np.asarray(p.lengths)
    for j, part in enumerate(part for parts in (p.init or ()) for part in parts):
        arrays[f"call0_initial_state{j}"] = np.asarray(part)
    np.savez(path, **arrays)


def diagnose_tf1_record(case, record, outputs_path, pairs=True, subject=None):
    from ..check.tf1_diagnose import diagnose_problem
    from ..check.tf1_records import case_problem

    (port,) = read_outputs(outputs_path, [record["outputs"]], oracle="TF")
    return diagnose_problem(case_problem(case, record), port, tf=record["outputs"], pairs=pairs,
                            subject=subject or f"the port ({outputs_path})")


# -- recordings (scripts/mutation_check.py) ---------------------------------------------------------
def write_case_recordings(case_ids, directory):
    """Record each case on its framework into ``directory``/<id>.npz (a recording: spec, weights, plan,
    the framework's outputs), for `diagnose_recorded` and `write_reference_outputs`."""
    from pathlib import Path

    from ..golden import case_bytes
    from ..plan import Tf1Spec

    for case_id in case_ids:
        rec = record_one(case_id)
        if isinstance(rec.spec, Tf1Spec) and rec.outcome.error:
            raise ValueError(f"case {case_id}: TF raised {rec.outcome.error[1]}: {rec.outcome.error[2]} "
                             f"(nothing to diagnose)")
        (Path(directory) / f"{case_id}.npz").write_bytes(case_bytes(rec))


def _read_recording(path):
    from pathlib import Path

    from ..golden import read_case

    return read_case(Path(path).read_bytes(), str(path))


def diagnose_recorded(recording, outputs_path):
    """What `rnnparity diagnose --case ID --outputs F` reports, on a recorded case (no framework)."""
    from ..check.diagnose import diagnose_plan
    from ..check.tf1_records import record_of
    from ..matrix.tf1_cases import Tf1Case
    from ..plan import Tf1Spec

    rec = _read_recording(recording)
    if isinstance(rec.spec, Tf1Spec):
        case = Tf1Case.from_id(rec.case_id)
        return diagnose_tf1_record(case, record_of(case, rec), outputs_path)
    reference, steps, keras, names = recorded_plan(rec)
    return diagnose_plan(reference, steps, read_outputs(outputs_path, keras), keras=keras, names=names)


def recorded_plan(rec):
    """``case_plan`` from a read recording (no framework): the reference is built from its spec and
    weights."""
    from ..check.runner import output_names, reference_factory

    names = output_names(rec, rec.plan.calls[0].x.shape)
    return reference_factory(rec)(), list(rec.plan.steps), [flat(o) for o in rec.outcome.outputs], names


def write_reference_outputs(recording, path):
    """The *reference's* outputs for a recorded case (in the outputs layout): run in a copy of
    rnnparity whose reference has a planted bug, they are the outputs of a port with that bug
    (scripts/mutation_check.py). Needs no framework."""
    from ..check.diagnose import run
    from ..check.tf1_records import record_of, run_reference
    from ..matrix.tf1_cases import Tf1Case
    from ..plan import Tf1Spec

    rec = _read_recording(recording)
    if isinstance(rec.spec, Tf1Spec):
        case = Tf1Case.from_id(rec.case_id)
        write_outputs(path, [run_reference(case, record_of(case, rec))])
        return
    reference, steps, _, _ = recorded_plan(rec)
    write_outputs(path, run(reference, steps))


def cmd_diagnose(args):
    from ..check.diagnose import diagnose_plan

    if bool(args.case) == bool(args.model):
        raise ValueError("give either --case ID or --model PATH --layer NAME")
    if args.model and not args.layer:
        raise ValueError("--model needs --layer NAME (the recurrent layer's path, e.g. encoder/lstm)")
    if not args.outputs and not args.write_inputs:
        raise ValueError("give --outputs port.npz (the port's outputs) and/or --write-inputs F")
    if args.case:
        complaint = unknown_case(args.case)
        if complaint:
            raise ValueError(complaint)
    if args.outputs:  # a file that is no outputs file is said before any framework runs
        port_io.read_port_file(args.outputs, "--outputs")
    if args.case:
        if args.case.startswith("tf1-"):
            installed.import_quietly("tf1", show_logs=SHOW_TF_LOGS)
            return _diagnose_tf1_case(args)
        installed.import_quietly(registry.target_of(args.case), show_logs=SHOW_TF_LOGS)
        reference, steps, keras, names = case_plan(args.case)
    else:
        reference, steps, keras, names = model_plan(args)
    if args.write_inputs:
        write_inputs(args.write_inputs, steps, reference, names)
        print(f"wrote the inputs of {sum(isinstance(s, Call) for s in steps)} call(s), the weights "
              f"(Keras' layout, named forward/cell0/kernel...) and the layer's description to "
              f"{args.write_inputs} (the format: `pydoc rnnparity.port_io`)")
    if not args.outputs:
        return 0
    port = read_outputs(args.outputs, keras)
    subject = f"the port ({args.outputs})"
    diagnosis = diagnose_plan(reference, steps, port, keras=keras, pairs=not args.no_pairs,
                              subject=subject, names=names)
    return _report(diagnosis, args)


def _diagnose_tf1_case(args):
    case, record = tf1_case_record(args.case)
    if args.write_inputs:
        write_tf1_inputs(args.write_inputs, case, record)
        print(f"wrote the inputs of {case.function} to {args.write_inputs}; the outputs file holds "
              f"call0_output<i> in this order: {', '.join(record['output_names'])}")
    if not args.outputs:
        return 0
    return _report(diagnose_tf1_record(case, record, args.outputs, pairs=not args.no_pairs), args)


def _report(diagnosis, args):
    print(diagnosis)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(diagnosis.to_dict(), f, indent=1)
    return {"agrees": 0, "explained": 1}.get(diagnosis.verdict, 3)


def add_parser(sub):
    d = sub.add_parser("diagnose", help="name the known porting mistake that explains a port's outputs",
                       description=__doc__.split("\n\n")[0])
    d.add_argument("--case", help="a case id of the matrix (`rnnparity list`)")
    d.add_argument("--model", help="a .keras or .h5 model file (with --layer)")
    d.add_argument("--layer", help="the recurrent layer of --model, by its path of names")
    d.add_argument("--outputs", help="the port's outputs, .npz or .json: call<k>_output<i>")
    d.add_argument("--write-inputs", help="write everything the port must run on here (.npz, or "
                   ".json by its name): inputs, masks, states, plan, the weights in Keras' layout "
                   "(forward/cell0/kernel...) and the layer's config")
    d.add_argument("--json", help="write the diagnosis as JSON here")
    d.add_argument("--no-pairs", action="store_true", help="try single mistakes only")
    for option, kwargs in (("--inputs", {}), ("--batch", {"type": int, "default": 4}),
                           ("--time", {"type": int, "default": 12}), ("--seed", {"type": int, "default": 0}),
                           ("--batches", {"type": int, "default": 1}),
                           ("--framework", {"choices": ("keras3", "tf_keras")})):
        d.add_argument(option, help="with --model: as for check-model", **kwargs)
    d.add_argument("--unsafe", action="store_true", help="with --model: as for check-model")
    add_custom_objects_option(d)
    d.set_defaults(func=cmd_diagnose)

