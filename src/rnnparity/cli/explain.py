"""`rnnparity explain`: what a layer returns (outputs in order, names, shapes, dtypes), or, given a
.keras/.h5 file, what each of its recurrent layers returns (checked on the live model).

    rnnparity explain LSTM --units 4 --return-sequences --return-state --input-shape 2,5,3
    rnnparity explain model.keras
"""
from __future__ import annotations

import os
import sys

from .common import KERAS_TARGETS, shape_arg
from .model import add_custom_objects_option, load_model_args

LAYER_NAMES = ("SimpleRNN", "LSTM", "GRU")


def cmd_explain(args):
    from ..output_structure import Rejected, explain

    if args.layer not in LAYER_NAMES:
        if not (os.path.exists(args.layer) or args.layer.endswith((".keras", ".h5", ".hdf5"))):
            raise ValueError(f"expected a layer ({', '.join(LAYER_NAMES)}) or a model file (.keras, "
                             f".h5), got {args.layer!r}")
        args.path = args.layer
        return cmd_explain_model(args)
    missing = [o for o, v in (("--units", args.units), ("--input-shape", args.input_shape)) if v is None]
    if missing:
        raise ValueError(f"explain {args.layer} needs {' and '.join(missing)}")
    config = {"units": args.units, "dtype": args.dtype}
    for flag in ("return_sequences", "return_state", "go_backwards", "stateful", "time_major"):
        if getattr(args, flag):
            config[flag] = True
    wrapper = None
    if args.bidirectional is not None:
        wrapper = {"merge_mode": None if args.bidirectional == "none" else args.bidirectional}
    spec = {"class": args.layer, "config": config, "wrapper": wrapper}
    try:
        print(explain(spec, args.input_shape, "keras3" if args.target == "keras3" else "keras2"))
    except Rejected as exc:  # not a usage error: the configuration has no outputs to describe
        print(f"rnnparity {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_explain_model(args):
    from ..model.capture import capturing, recurrent_layers
    from ..check.compare import as_list
    from ..output_structure import explain

    model, _, feed = load_model_args(args)
    x = feed(0)
    found = recurrent_layers(model)
    if not found:
        raise ValueError(f"{args.path} has no recurrent layer")
    with capturing(found, lambda entry: "call") as entries:
        model(x, training=False)
    status = 0
    for entry in entries:
        head = f"{entry.found.name} ({entry.found.cls})"
        if not entry.outputs:
            print(f"{head}: not called by the model's forward pass\n")
            status = 1
            continue
        shape = entry.calls[0].x.shape
        try:
            explanation = explain(entry.found.layer, shape)
        except ValueError as exc:
            print(f"{head}: {exc}\n")
            status = 1
            continue
        live = [(tuple(o.shape), str(o.dtype)) for o in as_list(entry.outputs[0])]
        said = [(o.shape, o.dtype) for o in explanation.outputs]
        print(f"{head}:\n  " + str(explanation).replace("\n", "\n  "))
        if live == said:
            what = "this output" if len(live) == 1 else f"these {len(live)} outputs"
            print(f"  (checked: the live layer returned {what} on this input)\n")
        else:
            print(f"  MISMATCH: the live layer returned {live}\n")
            status = 1
    return status


def add_parser(sub):
    e = sub.add_parser("explain", help="what a layer returns: outputs in order, names, shapes, dtypes; "
                       "or, given a .keras/.h5 file, what each of its recurrent layers returns")
    e.add_argument("layer", metavar="LAYER_OR_PATH", help=f"{', '.join(LAYER_NAMES)}, or a model file")
    e.add_argument("--units", type=int, help="units (with a layer name)")
    e.add_argument("--input-shape", type=shape_arg, help="batch,time,features (with a layer name)")
    for flag in ("return-sequences", "return-state", "go-backwards", "stateful", "time-major"):
        e.add_argument(f"--{flag}", action="store_true")
    e.add_argument("--bidirectional", choices=("concat", "sum", "mul", "ave", "none"))
    e.add_argument("--dtype", default="float32", choices=("float32", "float64", "float16"))
    e.add_argument("--target", default="keras3", choices=KERAS_TARGETS)
    for option, kwargs in (("--batch", {"type": int, "default": 4}), ("--time", {"type": int, "default": 12}),
                           ("--seed", {"type": int, "default": 0}), ("--inputs", {}),
                           ("--framework", {"choices": KERAS_TARGETS})):
        e.add_argument(option, help="with a model file: as for check-model", **kwargs)
    e.add_argument("--unsafe", action="store_true", help="with a model file: as for check-model")
    add_custom_objects_option(e)
    e.set_defaults(func=cmd_explain)
