"""`rnnparity explain`: what a layer returns (outputs in order, names, shapes, dtypes), or, given a
.keras/.h5 file, what each of its recurrent layers returns (checked on the live model).

    rnnparity explain LSTM --units 4 --return-sequences --return-state --input-shape 2,5,3
    rnnparity explain ConvLSTM2D --filters 8 --kernel-size 3 --strides 2 --padding same --input-shape 4,10,64,64,1
    rnnparity explain model.keras
"""
from __future__ import annotations

import argparse
import os
import sys

from ..output_structure import CONV_LSTM_RANKS
from .common import KERAS_TARGETS
from .model import add_custom_objects_option, load_model_args

LAYER_NAMES = ("SimpleRNN", "LSTM", "GRU", *CONV_LSTM_RANKS)
# the ConvLSTM arguments (argparse dest -> config key); --filters and --kernel-size are required
CONV_OPTIONS = {"filters": "filters", "kernel_size": "kernel_size", "strides": "strides",
                "padding": "padding", "dilation_rate": "dilation_rate", "data_format": "data_format"}


def ints_arg(text):
    """argparse type: "3" -> 3, "3,2" -> (3, 2) (a ConvLSTM's kernel_size, strides, dilation_rate)."""
    try:
        values = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an int or ints separated by commas (3 or 3,2), "
                                         f"got {text!r}") from None
    return values[0] if len(values) == 1 else values


def layer_config(args):
    """The layer's config from the options, refusing the options the layer does not take."""
    conv = args.layer in CONV_LSTM_RANKS
    given = [f"--{dest.replace('_', '-')}" for dest in CONV_OPTIONS if getattr(args, dest) is not None]
    if conv:
        rank = CONV_LSTM_RANKS[args.layer]
        missing = [o for o, v in (("--filters", args.filters), ("--kernel-size", args.kernel_size),
                                  ("--input-shape", args.input_shape)) if v is None]
        if args.units is not None:
            raise ValueError(f"explain {args.layer} takes --filters, not --units")
        if args.time_major:
            raise ValueError(f"explain {args.layer}: a ConvLSTM has no time_major (Keras 3 has no such "
                             f"argument; tf_keras accepts it and ignores it)")
        if not missing and len(args.input_shape) != rank + 3:
            spatial = ",".join("hwd"[:rank]) if rank > 1 else "length"
            layout = (f"channels,{spatial}" if args.data_format == "channels_first" else f"{spatial},channels")
            raise ValueError(f"explain {args.layer}: --input-shape must have {rank + 3} numbers, batch,time,"
                             f"{layout}; got {','.join(map(str, args.input_shape))}")
        config = {key: getattr(args, dest) for dest, key in CONV_OPTIONS.items() if getattr(args, dest) is not None}
    else:
        missing = [o for o, v in (("--units", args.units), ("--input-shape", args.input_shape)) if v is None]
        if given:
            raise ValueError(f"explain {args.layer} does not take {', '.join(given)} (ConvLSTM1D/2D/3D "
                             f"options); it takes --units")
        if args.input_shape is not None and len(args.input_shape) != 3:
            raise ValueError(f"explain {args.layer}: --input-shape must be batch,time,features, got "
                             f"{','.join(map(str, args.input_shape))}")
        config = {"units": args.units}
    if missing:
        raise ValueError(f"explain {args.layer} needs {' and '.join(missing)}")
    return {**config, "dtype": args.dtype}


def input_shape_arg(text):
    """argparse type: "2,5,3" -> (2, 5, 3); its length is checked against the layer later."""
    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) < 3 or min(shape) < 1:
        raise argparse.ArgumentTypeError(f"expected positive numbers batch,time,features (2,5,3), or "
                                         f"batch,time,*spatial,channels for a ConvLSTM, got {text!r}")
    return shape


def cmd_explain(args):
    from ..output_structure import Rejected, explain

    if args.layer not in LAYER_NAMES:
        if not (os.path.exists(args.layer) or args.layer.endswith((".keras", ".h5", ".hdf5"))):
            raise ValueError(f"expected a layer ({', '.join(LAYER_NAMES)}) or a model file (.keras, "
                             f".h5), got {args.layer!r}")
        args.path = args.layer
        return cmd_explain_model(args)
    config = layer_config(args)
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
    e.add_argument("--units", type=int, help="units (with SimpleRNN, LSTM, GRU)")
    e.add_argument("--input-shape", type=input_shape_arg,
                   help="batch,time,features (with SimpleRNN, LSTM, GRU); batch,time,*spatial,channels "
                        "with a ConvLSTM (batch,time,channels,*spatial with --data-format channels_first)")
    e.add_argument("--filters", type=int, help="with a ConvLSTM: its filters")
    for option, what in (("--kernel-size", "kernel_size"), ("--strides", "strides"),
                         ("--dilation-rate", "dilation_rate")):
        e.add_argument(option, type=ints_arg, help=f"with a ConvLSTM: its {what}, an int or one per spatial axis (3 or 3,2)")
    e.add_argument("--padding", choices=("valid", "same"), help="with a ConvLSTM (Keras' default: valid)")
    e.add_argument("--data-format", choices=("channels_last", "channels_first"),
                   help="with a ConvLSTM (Keras' default: channels_last)")
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
