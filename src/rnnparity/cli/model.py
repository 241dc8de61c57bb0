"""`rnnparity check-model | record-model`: the commands on a user's model file (`explain PATH`: explain.py).

    rnnparity check-model model.keras [--inputs x.npz | --batch 4 --time 12 --seed 0] [--batches 3]
                          [--json F] [--junit-xml F] [--unsafe] [--framework keras3|tf_keras]
                          [--custom-objects mycells:MinimalCell] [--unsupported fail|skip]
    rnnparity record-model model.h5 --out recordings/model-tf_keras [--force]

Exit status: 0 passed, 1 a layer failed (or is unsupported under --unsupported=fail, the default, or
could not be recorded, or no layer was checked), 2 bad input.
"""
from __future__ import annotations

import datetime
import os
import platform
import sys

from .common import ILL_CONDITIONED_MODES, positive


def add_input_options(p, batches=True):
    p.add_argument("path", help="a .keras or .h5 model file")
    p.add_argument("--inputs", help=".npz with the model's inputs (one array, the input names, or "
                   "arr_0..arr_n); default: synthesised from the model's input specs")
    p.add_argument("--batch", type=positive, default=4, help="synthesised batch size (default 4)")
    p.add_argument("--time", type=positive, default=12, help="synthesised time steps (default 12)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthesised inputs (default 0)")
    if batches:
        p.add_argument("--batches", type=positive, default=1, help="consecutive batches (a stateful "
                       "model gets one more after a reset)")
    p.add_argument("--unsafe", action="store_true", help="load with safe mode off: the file may run "
                   "code it carries (Lambda layers, custom objects); only for files you trust")
    p.add_argument("--framework", choices=("keras3", "tf_keras"), help="load with this framework "
                   "(default: the one that wrote the file, from its keras_version)")
    add_custom_objects_option(p)


def add_custom_objects_option(p):
    p.add_argument("--custom-objects", metavar="MODULE:NAME[,MODULE:NAME]", action="append",
                   help="your own classes the file names (a custom cell, layer or activation): "
                   "imported from MODULE (the Python path or the current directory) and given to "
                   "Keras as custom_objects; repeatable")


def load_model_args(args):
    """(model, target, feed(k) -> the inputs of batch k) from the model options of `args`."""
    from ..model.files import load_inputs, load_model, synthesise_inputs

    model, target = load_model(args.path, unsafe=args.unsafe, framework=args.framework,
                               custom_objects=getattr(args, "custom_objects", None))
    if args.inputs:
        given = load_inputs(args.inputs, model)
        return model, target, lambda k: given
    return model, target, lambda k: synthesise_inputs(model, args.batch, args.time, args.seed + k)


def check_model_args(args):
    from ..model.check_model import check_model

    model, target, feed = load_model_args(args)
    try:
        report = check_model(model, feed, batches=getattr(args, "batches", 1),
                             atol=getattr(args, "atol", None), rtol=getattr(args, "rtol", None),
                             unsupported=getattr(args, "unsupported", "fail"),
                             ill_conditioned=getattr(args, "ill_conditioned", "warn"))
    except ValueError as exc:
        raise ValueError(f"{args.path}: {str(exc).removeprefix('check_model: ')}") from None
    report.model, report.unsafe = args.path, bool(args.unsafe)
    return report


def cmd_check_model(args):
    from ..report.model_report import junit_xml, to_json

    if getattr(args, "html", None):  # before loading a framework: a missing extra is said at once
        from ..report import html

        html.require()
    report = check_model_args(args)
    print(report.table())
    for option, render in ((args.json, to_json), (args.junit_xml, junit_xml)):
        if option:
            with open(option, "w") as f:
                f.write(render(report))
    if getattr(args, "html", None):
        from ..report import html

        size = html.write_model_page(args.html, report)
        print(f"HTML report: {args.html} ({size / 1e6:.2f} MB)")
    return 0 if report.passed else 1


def cmd_record_model(args):
    from .. import golden
    from ..targets import registry

    if os.path.exists(args.out) and not args.force:  # before loading anything
        print(f"rnnparity record-model: {args.out} already exists; pass --force to replace it",
              file=sys.stderr)
        return 2
    report = check_model_args(args)
    versions = registry.get(report.target).versions()
    meta = {"kind": "model", "model": os.path.basename(args.path), "target": report.target,
            "versions": versions, "backend": versions.get("backend", "tensorflow"),
            "platform": platform.platform(), "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "unsafe": report.unsafe, "batches": report.batches, "xfail": {}}
    missing = []
    with golden.Writer(args.out, meta, force=args.force) as writer:
        for row in report.layers:
            rec = report.recordings.get(row.name)
            if rec is None:
                missing.append(row)
                print(f"not recorded: {row.name} ({row.cls}): {row.message.splitlines()[0]}")
                continue
            if row.status == "xfail":
                writer.meta["xfail"][rec.case_id] = row.message.split("]", 1)[0].split("[", 1)[-1]
            rec.layer = None
            writer.add(rec)
            print(f"recorded {row.name} ({row.cls}, {row.outputs_checked}) as {rec.case_id}.npz; "
                  f"check: {row.status}")
    print(f"recorded {len(report.layers) - len(missing)} of {len(report.layers)} recurrent layers of "
          f"{args.path} ({report.target}) into {args.out}"
          + ("; UNSAFE: loaded with --unsafe" if report.unsafe else ""))
    return 1 if missing else 0


def add_parser(sub):
    c = sub.add_parser("check-model", help="check every recurrent layer of a .keras/.h5 model on "
                       "the inputs, masks and states it really receives")
    add_input_options(c)
    c.add_argument("--atol", type=float, help="absolute tolerance (default: the tolerance table)")
    c.add_argument("--rtol", type=float, help="relative tolerance (default: the tolerance table)")
    c.add_argument("--ill-conditioned", choices=ILL_CONDITIONED_MODES, default="warn",
                   help="a layer whose valid low-precision runs scatter as widely as its values (not "
                        "decidable beyond some step): warn (default: shown, the model still passes) "
                        "or fail")
    c.add_argument("--unsupported", choices=("fail", "skip"), default="fail", help="a layer the "
                   "reference cannot model (a custom cell...): fail the run (default), or skip it, "
                   "shown as skipped in the report and the JUnit file")
    c.add_argument("--json", help="write the report as JSON here")
    c.add_argument("--junit-xml", help="write JUnit XML here (one testcase per recurrent layer)")
    c.add_argument("--html", help="write the report as one self-contained HTML page (needs the "
                   "report extra)")
    c.set_defaults(func=cmd_check_model)

    r = sub.add_parser("record-model", help="record each recurrent layer's captured inputs, mask, "
                       "states, weights and outputs (a recording `compare` and replay read)")
    add_input_options(r)
    r.add_argument("--out", required=True, help="the recording directory to write")
    r.add_argument("--force", action="store_true", help="replace an existing recording")
    r.set_defaults(func=cmd_record_model)
