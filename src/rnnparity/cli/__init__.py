"""The `rnnparity` command: check | record | compare | explain | list | check-model | record-model | explore,
and --version: one module per subcommand, each with its `add_parser`.

    rnnparity check [-n 4] [--tier default] [--target keras3,tf_keras,tf1] [--junit-xml F] [--json F]
    rnnparity check --case lstm-bidi_concat-seq-state-bwd-f32-keras3      # one case, full report
    rnnparity record --target keras3 [--out DIR] [--force] [--subset flags]
    rnnparity compare fixtures/tf_keras-2.21.0 fixtures/keras3-3.15.1 [--format markdown|json] [--out F]
    rnnparity explain LSTM --units 4 --return-sequences --return-state --input-shape 2,5,3
    rnnparity explain model.keras                      # what each recurrent layer of a model returns
    rnnparity check-model model.keras [--json F]       # every recurrent layer of a saved model
    rnnparity record-model model.h5 --out DIR          # its layers' captured calls, for `compare`
    rnnparity list [--tier full] [--target tf_keras] [WORD ...]
    rnnparity diagnose --case ID --outputs port.npz    # which porting mistake explains a port
    rnnparity explore --budget 120 --seed 0            # search configurations outside the matrix
    rnnparity install-tfjs [--dir DIR]                 # the tfjs target's pinned npm packages
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

from ..targets import installed
from . import check, compare, diagnose, explain, explore, install, listing, model, record


class _Version(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print rnnparity's and the frameworks' versions")

    def __call__(self, parser, namespace, values, option_string=None):
        v = installed.versions()
        v["keras"] += f" (backend {v['keras backend']})" if v["keras"] != "not installed" else ""
        print("\n".join(f"{k} {v[k]}" for k in ("rnnparity", "python", "numpy", "tensorflow", "keras",
                                                 "tf_keras")))
        parser.exit(0)


def parser():
    p = argparse.ArgumentParser(prog="rnnparity", description="Conformance of recurrent layers: "
                                "a NumPy reference checked against live Keras / TF.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True)
    for command in (check, record, compare, explain, listing, model, diagnose, explore, install):
        command.add_parser(sub)
    return p


def main(argv=None):
    try:
        args = parser().parse_args(argv)
        try:
            return args.func(args)
        except (ValueError, KeyError, ImportError) as exc:
            print(f"rnnparity {args.command}: {exc}", file=sys.stderr)
            return 2
    except BrokenPipeError:
        # the reader has gone (`rnnparity list | head`): stop quietly, as a tool killed by SIGPIPE
        # does; stdout goes to /dev/null so the interpreter's final flush cannot fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 128 + signal.SIGPIPE

