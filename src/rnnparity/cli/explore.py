"""`rnnparity explore`: search layer configurations outside the case matrix against the live
frameworks (rnnparity.explore); every unexplained result is shrunk and written as a standalone
repro script.

    rnnparity explore --budget 120 --seed 0                 # hypothesis search, 120 s
    rnnparity explore --examples 300 --seed 0               # a plain seeded sweep of 300 configurations
    rnnparity explore --examples 150 --kinds ConvLSTM       # ConvLSTM1D/2D/3D only
    rnnparity explore --target tf_keras --out explore-out --json explore-out/summary.json
    rnnparity explore --config finding.json                 # one configuration again, with its report

Exit status: 0 when nothing is unexplained, 1 when something is (or nothing ran), 2 on bad usage.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

from .common import positive


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def cmd_explore(args):
    from ..explore import search, space
    from ..targets import registry

    kinds = space.parse_kinds(args.kinds)
    targets = [t.strip() for t in args.target.split(",") if t.strip()]
    for t in targets:
        if t not in space.TARGETS:
            raise ValueError(f"explore runs on {', '.join(space.TARGETS)}, not {t!r}")
        ok, reason = registry.availability(t)
        if not ok:
            raise ImportError(f"target {t} is not available: {reason}")
    if args.config:
        return _one(args)
    if not args.examples and importlib.util.find_spec("hypothesis") is None:
        raise ImportError("the search needs hypothesis: pip install 'rnnparity[explore]' "
                          "(or run a plain seeded sweep: --examples N)")
    log = search.stderr_log if not args.quiet else None
    if args.examples:
        summary = search.sweep(args.examples, args.seed, targets, args.out, args.shrink_budget,
                               budget=args.budget if args.budget_given else None, log=log,
                               max_steps=args.max_steps, kinds=kinds)
    else:
        summary = search.explore(args.budget, args.seed, targets, args.out, args.shrink_budget, log=log,
                                 max_steps=args.max_steps, kinds=kinds)
    print(summary.text())
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary.as_dict(), indent=1, default=str))
    return 0 if summary.configs and not summary.unexplained else 1


def _one(args):
    """Run one configuration (JSON, or a file of it: a finding's "config" from --json) and print
    its outcome and the verdict's report; write its repro with --out."""
    from ..explore import repro, run, space

    text = args.config if args.config.lstrip().startswith("{") else Path(args.config).read_text()
    config = json.loads(text)
    result = run.run_config(config)
    print(f"{result.outcome}: {space.describe(config)}" + (f"\n{result.detail}" if result.detail else ""))
    if result.report:
        print(result.report)
    if result.finding:
        print(f"repro: {repro.write(result, args.out)}")
    return 1 if result.finding else 0


class _Budget(argparse.Action):
    """--budget, remembering that it was given (a sweep has no budget unless one is given)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.budget_given = True


def add_parser(sub):
    ex = sub.add_parser("explore", help="property-based search of layer configurations (hypothesis)",
                        description="Search layer configurations outside the case matrix against the "
                        "live frameworks; shrink every unexplained result and write a standalone repro.")
    ex.add_argument("--budget", type=_seconds, default=120.0, action=_Budget,
                    help="seconds of search (default 120; shrinking a finding comes on top, see "
                         "--shrink-budget); with --examples, a cap on the sweep")
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--examples", type=positive, metavar="N",
                    help="a plain sweep of N seeded configurations, without hypothesis' search")
    ex.add_argument("--target", default="keras3,tf_keras", help="keras3, tf_keras or both (default)")
    ex.add_argument("--kinds", default="all", metavar="KINDS",
                    help="the layer kinds to draw, comma-separated: SimpleRNN, LSTM, GRU, RNN_cell "
                         "(RNN(cell)), stacked (RNN([cells])), ConvLSTM (ConvLSTM1D/2D/3D); "
                         "default all, each as likely")
    ex.add_argument("--max-steps", type=positive, default=500, metavar="T",
                    help="the longest sequence drawn (default 500)")
    ex.add_argument("--out", default="explore-out", help="where repro_<hash>.py scripts go")
    ex.add_argument("--shrink-budget", type=_seconds, default=60.0,
                    help="seconds of shrinking for each new finding, on top of the search "
                         "(default 60; 0: none)")
    ex.add_argument("--json", metavar="FILE", help="also write the counts and findings as JSON")
    ex.add_argument("--config", metavar="JSON",
                    help="run one configuration (JSON text or a file, e.g. a finding's config from --json)")
    ex.add_argument("-q", "--quiet", action="store_true", help="no line per configuration")
    ex.set_defaults(func=cmd_explore, budget_given=False)
