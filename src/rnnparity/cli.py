"""The `rnnparity` command: check | record | compare | explain | list | check-model | record-model,
and --version (the model commands live in rnnparity.model_cli).

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
"""
from __future__ import annotations

import argparse
import datetime
import difflib
import os
import platform
import signal
import sys

from .targets import installed, registry

# Below 2 the user asked for TensorFlow's logs, and gets them all.
_SHOW_TF_LOGS = os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1")
# 3: TensorFlow's C++ INFO/WARNING/ERROR lines (cuInit on a machine without GPU, oneDNN notes) are
# never the command's answer; a failure reaches us as a Python exception. FATAL still prints.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

KERAS_TARGETS = registry.keras_targets()
ALL_TARGETS = installed.ALL_TARGETS


class _Version(argparse.Action):
    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="print rnnparity's and the frameworks' versions")

    def __call__(self, parser, namespace, values, option_string=None):
        v = installed.versions()
        v["keras"] += f" (backend {v['keras backend']})" if v["keras"] != "not installed" else ""
        print("\n".join(f"{k} {v[k]}" for k in ("rnnparity", "python", "numpy", "tensorflow", "keras",
                                                 "tf_keras")))
        parser.exit(0)


def progress(i, total, label="", stream=sys.stderr, width=30):
    """One-line progress bar (redrawn in place on a terminal, every 10% otherwise)."""
    if total <= 0:
        return
    if not stream.isatty() and i != total and i % max(1, total // 10):
        return
    fill = width * i // total
    line = f"[{'#' * fill}{'.' * (width - fill)}] {i}/{total} {label[:60]}"
    stream.write(("\r" + line.ljust(width + 75)) if stream.isatty() else line + "\n")
    if stream.isatty() and i == total:
        stream.write("\n")
    stream.flush()


def _case_list(tier, targets, words=(), shard=None):
    """The matrix's case ids (Keras targets, then tf1) containing every word, of ``shard`` (i/n) only."""
    from .matrix.cases import cases
    from .matrix.shard import parse_shard

    shard = parse_shard(shard, "--shard")
    out = [c.id for c in cases(tier, tuple(t for t in targets if t in KERAS_TARGETS))]
    if "tf1" in targets:
        from .matrix.tf1_cases import tf1_cases

        out += [c.id for c in tf1_cases(tier)]
    return [i for i in out if all(w in i.split("-") or w in i for w in words)
            and (shard is None or shard.holds(i))]


def unknown_case(case_id):
    """None if `case_id` is a case of `rnnparity list --tier full`, else a one-line complaint
    naming the nearest ids."""
    if case_id in set(_case_list("default", ALL_TARGETS)) or case_id in set(_case_list("full", ALL_TARGETS)):
        return None
    if "activation_" in case_id:  # the activation sweep: its names come from the live framework
        return (f"{case_id!r} is not a case of the matrix (`rnnparity list`); an activation-sweep case "
                f"runs with: pytest --pyargs rnnparity -k \"{case_id}\"")
    ids = _case_list("full", ALL_TARGETS)
    target = registry.target_of(case_id)  # look among the same target's ids first: fewer, and closer
    pool = [i for i in ids if i.startswith("tf1-")] if case_id.startswith("tf1") else \
        [i for i in ids if target and i.endswith("-" + target)] or ids
    words = sorted(case_id.split("-"))
    reordered = [i for i in pool if sorted(i.split("-")) == words]  # the right words, out of order
    near = (reordered + [i for i in difflib.get_close_matches(case_id, pool, n=3, cutoff=0.5)
                         if i not in reordered])[:3]
    hint = f"; nearest: {', '.join(near)}" if near else \
        f"; `rnnparity list --tier full {case_id.split('-')[0]}` lists the ids containing a word"
    return f"{case_id!r} is not a known case id (see `rnnparity list --tier full`){hint}"


# -- record --------------------------------------------------------------------------------------
def _record_one(case_id):
    from . import golden

    if case_id.startswith("tf1-"):
        from .matrix.tf1_cases import Tf1Case, run_live

        try:
            return golden.Tf1Recording(case_id, run_live(Tf1Case.from_id(case_id)))
        except Exception as exc:  # noqa: BLE001 - a rejected configuration is a case too
            return golden.Tf1Recording(case_id, None, (-1, type(exc).__name__, str(exc)[:300]))
    from .matrix.cases import case_from_id
    from .check.runner import record

    rec = record(case_from_id(case_id))
    rec.layer = None
    return rec


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through golden.Writer: no half recording


def cmd_record(args):
    from .targets import registry
    from . import golden

    signal.signal(signal.SIGTERM, _terminate)
    if args.out and os.path.exists(args.out) and not args.force:  # before importing any framework
        print(f"rnnparity record: {args.out} already exists; pass --force to replace it", file=sys.stderr)
        return 2

    installed.import_quietly(args.target, show_logs=_SHOW_TF_LOGS)
    adapter = registry.get(args.target)
    versions = adapter.versions() if hasattr(adapter, "versions") else {}
    if args.target == "tf1":
        import tensorflow as tf
        versions.setdefault("tensorflow", tf.__version__)
    if versions.get("keras", "?") == "?":  # TF <= 2.15's tf.keras has no __version__
        from importlib import metadata
        try:
            versions["keras"] = metadata.version("keras")
        except metadata.PackageNotFoundError:
            versions["keras"] = "?"
    ids = _case_list(args.tier, (args.target,), args.word)
    if args.subset == "flags":
        from .matrix.cases import FIELD_NAMES, FLAGS, Case, case_from_id
        plain = {f: getattr(Case(), f) for f in FIELD_NAMES if f not in ("layer", "wrapper", "target", *FLAGS)}
        ids = [i for i in ids if i.startswith("tf1-") or
               all(getattr(case_from_id(i), f) == v for f, v in plain.items())]
    name, version = args.target, versions.get("keras", "unknown")
    if args.target == "tf1":
        version = versions.get("tensorflow", "unknown")
    if args.target == "tf_keras" and versions.get("tensorflow", "").startswith(("2.13", "2.14", "2.15")):
        name, version = "tf.keras", versions["tensorflow"]  # TF's own built-in Keras 2
    out = args.out or os.path.join("fixtures", f"{name}-{version}")
    meta = {"target": args.target, "versions": versions, "backend": versions.get("backend", "tensorflow"),
            "platform": platform.platform(), "python": platform.python_version(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "tier": args.tier, "subset": args.subset, "filter": list(args.word)}
    try:
        with golden.Writer(out, meta, force=args.force) as writer:
            for i, case_id in enumerate(ids, 1):
                writer.add(_record_one(case_id))
                progress(i, len(ids), case_id)
    except FileExistsError as exc:
        print(f"rnnparity record: {exc}", file=sys.stderr)
        return 2
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"recorded {len(ids)} cases ({args.target}: {versions}) into {out} ({size / 1e6:.1f} MB)")
    return 0


# -- compare, explain, list ----------------------------------------------------------------------
def cmd_compare(args):
    from .golden import upgrade

    if args.html:
        from .report import html

        html.require()
    result = upgrade.compare(args.a, args.b)
    text = upgrade.to_json(result) if args.format == "json" else upgrade.to_markdown(result)
    if args.html:
        size = html.write_compare_page(args.html, result)
        print(f"HTML report: {args.html} ({size / 1e6:.2f} MB)", file=sys.stderr)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
        print(upgrade.one_line(result))
    else:
        print(text)
    return 1 if result.any_difference else 0


def _shape(text):
    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected batch,time,features (e.g. 2,5,3), got {text!r}") from None
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"expected 3 numbers batch,time,features, got {text!r}")
    return shape


LAYER_NAMES = ("SimpleRNN", "LSTM", "GRU")


def cmd_explain(args):
    from .structure import Rejected, explain

    if args.layer not in LAYER_NAMES:
        if not (os.path.exists(args.layer) or args.layer.endswith((".keras", ".h5", ".hdf5"))):
            raise ValueError(f"expected a layer ({', '.join(LAYER_NAMES)}) or a model file (.keras, "
                             f".h5), got {args.layer!r}")
        from .model_cli import cmd_explain_model

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


def _check_targets(text):
    """Refuse an unknown target name up front (a run of 0 cases says nothing about a typo)."""
    for t in (t.strip() for t in text.split(",") if t.strip()):
        registry.info(t)  # ValueError: unknown target 'x': expected one of ...


def cmd_list(args):
    _check_targets(args.target)
    ids = _case_list(args.tier, args.target.split(","), args.word, args.shard)
    print("\n".join(ids) if not args.count else len(ids))
    return 0 if ids else 1


def cmd_check(args):
    from . import report
    from .matrix.shard import parse_shard

    parse_shard(args.shard, "--shard")  # a bad value: a one-line error before anything is imported

    if args.case:
        complaint = unknown_case(args.case)
        if complaint:
            print(f"rnnparity check: {complaint}", file=sys.stderr)
            return 2
        installed.import_quietly("tf1" if args.case.startswith("tf1-") else registry.target_of(args.case),
                                 show_logs=_SHOW_TF_LOGS)
        return report.check_one(args.case)
    if args.target is not None:
        _check_targets(args.target)
    if args.target is None:
        args.target = ",".join(installed.targets())
        if not args.target and not args.replay:
            print("rnnparity check: no framework is installed: " +
                  "; ".join(registry.availability(t)[1] for t in ALL_TARGETS), file=sys.stderr)
            return 2
    return report.check_suite(args)


# -- argparse ------------------------------------------------------------------------------------
def parser():
    p = argparse.ArgumentParser(prog="rnnparity", description="Conformance of recurrent layers: "
                                "a NumPy reference checked against live Keras / TF.")
    p.add_argument("--version", action=_Version)
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="run the conformance matrix against the installed frameworks")
    c.add_argument("--case", help="run one case id and print its full report")
    c.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    c.add_argument("--target", default=None, help=f"comma-separated: {','.join(ALL_TARGETS)} "
                   "(default: those installed)")
    c.add_argument("-n", "--numprocesses", default=None, help="processes (pytest-xdist), e.g. 4 or auto")
    c.add_argument("-k", dest="keyword", help="pytest -k expression to select cases")
    c.add_argument("--replay", action="store_true", help="also replay the recorded fixtures")
    c.add_argument("--shard", default=os.environ.get("RNNPARITY_SHARD"), metavar="I/N",
                   help="only shard I of N (crc32 of the case id mod N), e.g. 2/8: for CI jobs")
    c.add_argument("--junit-xml", help="write JUnit XML here")
    c.add_argument("--json", help="write a JSON summary here")
    c.add_argument("--html", help="write the HTML report here (one self-contained page; needs the "
                   "report extra)")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("record", help="record golden outputs from the installed framework")
    r.add_argument("--target", default="keras3", choices=ALL_TARGETS)
    r.add_argument("--out", help="output dir (default fixtures/<target>-<keras version>)")
    r.add_argument("--force", action="store_true", help="replace an existing recording")
    r.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    r.add_argument("--subset", choices=("flags",), help="flags: only the 16-flag product x layer x "
                   "wrapper (every other axis at its default)")
    r.add_argument("word", nargs="*", help="only case ids containing every WORD")
    r.set_defaults(func=cmd_record)

    m = sub.add_parser("compare", help="compare two recordings (framework-upgrade report)")
    m.add_argument("a")
    m.add_argument("b")
    m.add_argument("--format", default="markdown", choices=("markdown", "json"))
    m.add_argument("--out", help="write the report here")
    m.add_argument("--html", help="also write the report as one self-contained HTML page (needs the "
                   "report extra)")
    m.set_defaults(func=cmd_compare)

    e = sub.add_parser("explain", help="what a layer returns: outputs in order, names, shapes, dtypes; "
                       "or, given a .keras/.h5 file, what each of its recurrent layers returns")
    e.add_argument("layer", metavar="LAYER_OR_PATH", help=f"{', '.join(LAYER_NAMES)}, or a model file")
    e.add_argument("--units", type=int, help="units (with a layer name)")
    e.add_argument("--input-shape", type=_shape, help="batch,time,features (with a layer name)")
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
    e.set_defaults(func=cmd_explain)

    li = sub.add_parser("list", help="list case ids")
    li.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    li.add_argument("--target", default=",".join(registry.default_targets()))
    li.add_argument("--count", action="store_true", help="print only how many")
    li.add_argument("--shard", metavar="I/N", help="only shard I of N, as `check --shard`")
    li.add_argument("word", nargs="*", help="only ids containing every WORD")
    li.set_defaults(func=cmd_list)

    from .model_cli import add_parsers

    add_parsers(sub)
    from .diagnose_cli import add_parser as add_diagnose_parser

    add_diagnose_parser(sub)
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


if __name__ == "__main__":
    sys.exit(main())
