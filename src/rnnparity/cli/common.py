"""What the `rnnparity` subcommands share: the targets, the case list, the progress bar, argument
types, and TensorFlow's log level (set before any framework is imported)."""
from __future__ import annotations

import argparse
import difflib
import os
import sys

from ..targets import installed, registry

# Below 2 the user asked for TensorFlow's logs, and gets them all.
SHOW_TF_LOGS = os.environ.get("TF_CPP_MIN_LOG_LEVEL") in ("0", "1")
# 3: TensorFlow's C++ INFO/WARNING/ERROR lines (cuInit on a machine without GPU, oneDNN notes) are
# never the command's answer; a failure reaches us as a Python exception. FATAL still prints.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

KERAS_TARGETS = registry.keras_targets()
ALL_TARGETS = installed.ALL_TARGETS

# --ill-conditioned's choices, as check/verdict.py's (not imported here: it imports NumPy)
ILL_CONDITIONED_MODES = ("warn", "fail")


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


def case_list(tier, targets, words=(), shard=None):
    """The matrix's case ids (Keras targets, then tf1) containing every word, of ``shard`` (i/n) only."""
    from ..matrix.tiers import cases
    from ..matrix.shard import parse_shard

    shard = parse_shard(shard, "--shard")
    out = [c.id for c in cases(tier, tuple(t for t in targets if t in KERAS_TARGETS))]
    if "tf1" in targets:
        from ..matrix.tf1_cases import tf1_cases

        out += [c.id for c in tf1_cases(tier)]
    return [i for i in out if all(w in i.split("-") or w in i for w in words)
            and (shard is None or shard.holds(i))]


def unknown_case(case_id):
    """None if `case_id` is a case of `rnnparity list --tier full`, else a one-line complaint
    naming the nearest ids. Only the ids of the id's own target are listed (the full tier of every
    target is 300,000 ids and took 20 s): the id's last words name its target, tf1 ids start with tf1-."""
    target = "tf1" if case_id.startswith("tf1-") else registry.target_of(case_id)
    own = (target,) if target in ALL_TARGETS else ()
    for tier in ("default", "full"):  # the default tier first: smaller, and where most ids are
        if own and case_id in set(case_list(tier, own)):
            return None
    if "activation_" in case_id:  # the activation sweep: its names come from the live framework
        return (f"{case_id!r} is not a case of the matrix (`rnnparity list`); an activation-sweep case "
                f"runs with: pytest --pyargs rnnparity -k \"{case_id}\"")
    # an id naming no target: look among the first Keras target's ids (all targets share the words)
    pool = case_list("full", own or KERAS_TARGETS[:1])
    first = case_id.split("-")[0]  # the layer word: the nearest ids share it, if any does
    pool = [i for i in pool if i.split("-")[0] == first] or pool
    words = sorted(case_id.split("-"))
    reordered = [i for i in pool if sorted(i.split("-")) == words]  # the right words, out of order
    near = (reordered + [i for i in difflib.get_close_matches(case_id, pool, n=3, cutoff=0.5)
                         if i not in reordered])[:3]
    hint = f"; nearest: {', '.join(near)}" if near else \
        f"; `rnnparity list --tier full {case_id.split('-')[0]}` lists the ids containing a word"
    ends = "" if own else f"; a case id ends with its target ({', '.join(ALL_TARGETS)}) or starts with tf1-"
    return f"{case_id!r} is not a known case id (see `rnnparity list --tier full`){hint}{ends}"


def check_targets(text):
    """Refuse an unknown target name up front (a run of 0 cases says nothing about a typo)."""
    for t in (t.strip() for t in text.split(",") if t.strip()):
        registry.info(t)  # ValueError: unknown target 'x': expected one of ...


def shape_arg(text):
    """argparse type: "2,5,3" -> (2, 5, 3)."""
    try:
        shape = tuple(int(s) for s in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected batch,time,features (e.g. 2,5,3), got {text!r}") from None
    if len(shape) != 3:
        raise argparse.ArgumentTypeError(f"expected 3 numbers batch,time,features, got {text!r}")
    return shape


def positive(text):
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value
