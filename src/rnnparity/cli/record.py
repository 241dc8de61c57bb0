"""`rnnparity record`: record a target's outputs for the case matrix into a recording directory.

    rnnparity record --target keras3 [--out DIR] [--force] [--tier default] [--subset flags] [WORD ...]
"""
from __future__ import annotations

import datetime
import os
import platform
import signal
import sys

from ..targets import installed, registry
from .common import ALL_TARGETS, SHOW_TF_LOGS, case_list, progress


def record_one(case_id):
    """The recording of one case id (what `rnnparity record` writes for it)."""
    from ..matrix.tiers import case_of
    from ..check.runner import record

    rec = record(case_of(case_id))
    rec.layer = None
    return rec


def versions_line(versions: dict, target: str) -> str:
    """'keras 3.15.1 · tensorflow 2.21.0 · backend tensorflow · ...': what the recording was made with
    (the target is said beside it; the platform string is in the manifest)."""
    shown = [(k, v) for k, v in versions.items() if k not in ("target", "platform") and v not in (None, "")]
    return "versions: " + " · ".join(f"{k} {v}" for k, v in shown) if shown else "versions: (none reported)"


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through golden.Writer: no half recording


def cmd_record(args):
    from .. import golden

    signal.signal(signal.SIGTERM, _terminate)
    if args.out and os.path.exists(args.out) and not args.force:  # before importing any framework
        print(f"rnnparity record: {args.out} already exists; pass --force to replace it", file=sys.stderr)
        return 2

    installed.import_quietly(args.target, show_logs=SHOW_TF_LOGS)
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
    ids = case_list(args.tier, (args.target,), args.word)
    if args.subset == "flags":
        from ..matrix.cases import FIELD_NAMES, FLAGS, Case, case_from_id
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
                writer.add(record_one(case_id))
                progress(i, len(ids), case_id)
    except FileExistsError as exc:
        print(f"rnnparity record: {exc}", file=sys.stderr)
        return 2
    size = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"recorded {len(ids)} cases of {args.target} into {out} ({size / 1e6:.1f} MB)\n"
          f"  {versions_line(versions, args.target)}")
    return 0


def add_parser(sub):
    r = sub.add_parser("record", help="record a target's outputs for the case matrix (a recording)")
    r.add_argument("--target", default="keras3", choices=ALL_TARGETS)
    r.add_argument("--out", help="the recording directory (default fixtures/<target>-<keras version>)")
    r.add_argument("--force", action="store_true", help="replace an existing recording")
    r.add_argument("--tier", default="default", choices=("quick", "default", "full"))
    r.add_argument("--subset", choices=("flags",), help="flags: only the 16-flag product x layer x "
                   "wrapper (every other axis at its default)")
    r.add_argument("word", nargs="*", help="only case ids containing every WORD")
    r.set_defaults(func=cmd_record)
