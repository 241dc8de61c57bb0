"""`rnnparity check`: run the shipped suite through pytest (optionally over pytest-xdist) with a
progress bar; print a header (versions, tier, targets, seeds), then a summary: a table (layer x flags:
pass/fail/xfail), the elapsed time, outcomes per target, the matrix case count (checked against
`rnnparity list --count`) and the largest error per precision; write JUnit XML / JSON.
`rnnparity check --case ID` runs one case directly and prints its full report."""
from __future__ import annotations

import datetime
import json
import re
import sys
import time
from collections import Counter, defaultdict

import pytest

from ..cli import ALL_TARGETS, _case_list, progress
from ..targets import registry
from ..targets.installed import versions
from ..plugin import STATS_KEY, max_errors, skip_reason

COLUMNS = ("all", "seq", "state", "bwd", "stateful", "bidi", "mask", "init", "f64", "f16")
OUTCOMES = ("passed", "failed", "xfailed", "skipped")
SEED_POLICY = "crc32 of the case id without its target (fixed: the same on every run and worker)"


class Collector:
    """A pytest plugin object: progress bar on stderr, outcome per test id."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.total, self.done = stream, 0, 0
        self.results: dict = {}  # nodeid -> (outcome, message)
        self.collected: list = []  # nodeids selected to run (after -k / -m)
        self.stats: list = []  # the suite's record_property(STATS_KEY, ...) payloads
        # nodeid -> the call's other properties (error curves, rejected, ran_as, diagnosis) and, for a
        # known bug, its xfail reason and failure text: what the HTML report shows (report/html.py)
        self.details: dict = {}

    def pytest_collection_finish(self, session):
        self.collected = [item.nodeid for item in session.items if not is_placeholder(item.nodeid)]
        self.total = len(self.collected)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if not self.collected:  # every worker collects the same items
            self.collected = [i for i in ids if not is_placeholder(i)]
        self.total = max(self.total, len(self.collected))

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            properties = getattr(report, "user_properties", ())
            self.stats += [v for k, v in properties if k == STATS_KEY and isinstance(v, dict)]
            detail = {k: v for k, v in properties if k != STATS_KEY}
            if hasattr(report, "wasxfail"):
                detail.update(xfail_reason=report.wasxfail, text=report.longreprtext)
            if detail:
                self.details[report.nodeid] = detail
        outcome = None
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "failed"  # strict XPASS fails
            else:
                outcome = report.outcome
        elif report.failed:  # teardown error
            outcome = "failed"
        if outcome is None or is_placeholder(report.nodeid):
            return
        first = report.nodeid not in self.results
        if first or outcome == "failed":
            self.results[report.nodeid] = (outcome, _message(report, outcome))
        if first:
            self.done += 1
            progress(self.done, max(self.total, self.done), report.nodeid.rsplit("[", 1)[-1].rstrip("]"),
                     self.stream)


def is_placeholder(nodeid):
    """The one visible skip a suite file shows when none of its targets is selected: not a case
    (check selects its targets explicitly, and counts only cases)."""
    return nodeid.endswith("-not-selected]")


def _message(report, outcome):
    if outcome == "skipped" and isinstance(report.longrepr, tuple):
        return skip_reason(report)
    return report.longreprtext if outcome in ("failed", "skipped") else ""


def case_of(nodeid):
    m = re.search(r"\[(.*)\]$", nodeid)
    return m.group(1).rsplit("/", 1)[-1] if m else nodeid


def kind_of(nodeid):
    """Which part of the suite a test is: the case matrix (what `rnnparity list` lists), the
    activation sweep (names read from the live framework) or a replayed recording."""
    if "test_activations" in nodeid:
        return "activation sweep"
    if "test_replay" in nodeid:
        return "replay"
    return "matrix"


def target_of(nodeid):
    case = case_of(nodeid)
    if case.startswith("tf1-"):
        return "tf1"
    return registry.target_of(case) or "?"


def header(tier, targets) -> str:
    v = versions()
    frameworks = ", ".join(f"{name} {v[name]}" + (f" (backend {v['keras backend']})" if name == "keras" else "")
                           for name in ("tensorflow", "keras", "tf_keras"))
    return (f"rnnparity {v['rnnparity']}, Python {v['python']}, NumPy {v['numpy']}, {frameworks}\n"
            f"tier {tier}, targets {targets or '(none)'}, data and weight seeds: {SEED_POLICY}")


def summary_table(results: dict) -> str:
    """Rows: layer; columns: cases whose id has the word (`all`: every case); cells pass/fail/xfail."""
    table = defaultdict(lambda: defaultdict(Counter))
    for nodeid, (outcome, _) in results.items():
        case = case_of(nodeid)
        parts = case.split("-")
        layer = "-".join(parts[:2]) if parts[0] == "tf1" else parts[0]
        if "test_replay" in nodeid:
            layer = "replay " + layer
        for col in COLUMNS:
            if col == "all" or any(p == col or p.startswith(col + "_") for p in parts):
                table[layer][col][outcome] += 1
    cols = [c for c in COLUMNS if any(table[r][c] for r in table)]
    head = f"{'layer':<28}" + "".join(f"{c:>14}" for c in cols)
    lines = ["pass/fail/xfail per layer and flag (cases whose id contains the flag)", head, "-" * len(head)]
    for row in sorted(table):
        cells = [f"{t['passed']}/{t['failed']}/{t['xfailed']}" for t in (table[row][c] for c in cols)]
        lines.append(f"{row:<28}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def _targets(args):
    return ",".join(t.strip() for t in args.target.split(",") if t.strip())


def pytest_argv(args) -> list:
    """The pytest command line `rnnparity check` runs (the count test collects with it)."""
    # -o addopts=: the caller's project options (e.g. -ra, which needs the terminal) do not apply
    argv = ["--pyargs", "rnnparity.suite", "-p", "no:cacheprovider", "-p", "no:terminal", "-o", "addopts=",
            "--rnnparity-tier", args.tier, "--rnnparity-targets", _targets(args),
            "-m", "live or replay" if args.replay else "live"]
    if getattr(args, "shard", None):
        argv += ["--rnnparity-shard", args.shard]
    if args.numprocesses:
        argv += ["-n", str(args.numprocesses)]
    if args.keyword:
        argv += ["-k", args.keyword]
    if args.junit_xml:
        argv += ["--junit-xml", args.junit_xml]
    return argv


def _shard_option(args):
    return f" --shard {args.shard}" if getattr(args, "shard", None) else ""


def matrix_count_problem(collector, args):
    """None when the matrix cases collected are exactly `rnnparity list`'s for the same tier and
    targets (always true under -k, which selects on purpose), else what is missing or extra."""
    if args.keyword:
        return None
    want = set(_case_list(args.tier, _targets(args).split(","), shard=getattr(args, "shard", None)))
    got = {case_of(n) for n in collector.collected if kind_of(n) == "matrix"}
    if got == want:
        return None
    missing, extra = sorted(want - got), sorted(got - want)
    return (f"collected {len(got)} matrix cases, `rnnparity list --count --tier {args.tier} --target "
            f"{_targets(args)}{_shard_option(args)}` has {len(want)}: {len(missing)} not collected (e.g. {missing[:3]}), "
            f"{len(extra)} not listed (e.g. {extra[:3]})")


def counts_line(results, key, order):
    groups = defaultdict(Counter)
    for nodeid, (outcome, _) in results.items():
        groups[key(nodeid)][outcome] += 1
    return ", ".join(f"{g} {sum(c.values())} (" + ", ".join(f"{c[o]} {o}" for o in OUTCOMES if c[o]) + ")"
                     for g, c in sorted(groups.items(), key=lambda kv: order.index(kv[0])
                                        if kv[0] in order else len(order)))


def check_suite(args) -> int:
    html_file = getattr(args, "html", None)
    if html_file:  # before the run: a missing extra is said at once, not after an hour of cases
        from . import html

        html.require()
    print(header(args.tier, _targets(args)) + (f", shard {args.shard}" if getattr(args, "shard", None) else ""),
          flush=True)
    collector = Collector()
    started = datetime.datetime.now(datetime.timezone.utc)
    start = time.monotonic()
    code = pytest.main(pytest_argv(args), plugins=[collector])
    elapsed = time.monotonic() - start
    results = collector.results
    counts = Counter(o for o, _ in results.values())
    failed = [n for n, (o, _) in results.items() if o == "failed"]
    skipped = Counter(msg.strip().splitlines()[-1] if msg.strip() else "?" for o, msg in results.values()
                      if o == "skipped")
    if results:
        print(summary_table(results))
    print(f"\n{len(results)} cases in {elapsed:.1f} s: " + ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES))
    if results:
        print("per target: " + counts_line(results, target_of, ALL_TARGETS))
        print("per kind:   " + counts_line(results, kind_of, ("matrix", "activation sweep", "replay")))
    n_matrix = sum(kind_of(n) == "matrix" for n in collector.collected)
    count_problem = matrix_count_problem(collector, args)
    if count_problem:
        print(f"rnnparity check: {count_problem}")
    elif not args.keyword:
        print(f"matrix cases collected: {n_matrix}, as `rnnparity list --count --tier {args.tier} "
              f"--target {_targets(args)}{_shard_option(args)}`")
    errors = max_errors(collector.stats)
    for precision, (mabs, mrel, n) in errors.items():
        print(f"largest error, {precision}: abs {mabs:.3g}, rel {mrel:.3g} over {n} agreeing cases "
              f"(rel = |err| / max(|framework|, atol))")
    within_rounding = sum(s.get("within_rounding", 0) for s in collector.stats)
    if within_rounding:
        print(f"passed within rounding: {within_rounding} cases (beyond the table in float16/float32, "
              f"shown to be rounding by a float64 re-run; not in the largest errors)")
    for reason, n in skipped.most_common(5):
        print(f"  skipped {n}: {reason}")
    for nodeid in failed[:5]:
        print("\n" + results[nodeid][1].strip())
    if failed:
        print(f"\nFAILED ({len(failed)}):" + "".join(f"\n  rnnparity check --case {case_of(n)}" for n in failed[:50]))
    summary = {"counts": dict(counts), "exit_code": int(code), "versions": versions(),
               "tier": args.tier, "targets": _targets(args), "elapsed_s": round(elapsed, 3),
               "max_errors": {p: {"abs": a, "rel": r, "cases": n} for p, (a, r, n) in errors.items()},
               "cases": [{"nodeid": n, "case": case_of(n), "outcome": o, "message": m}
                         for n, (o, m) in sorted(results.items())]}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    if html_file:
        size = html.write_check_page(html_file, summary, collector.details, started=started,
                                     seeds=SEED_POLICY, keyword=args.keyword)
        print(f"HTML report: {html_file} ({size / 1e6:.2f} MB)")
    if code == pytest.ExitCode.NO_TESTS_COLLECTED or not results:
        print("rnnparity check: no cases ran (is a framework installed? see the skip reasons)")
        return 2 if code else 0
    if count_problem:
        return 1
    return int(code) if code else (1 if failed else 0)


def check_one(case_id: str) -> int:
    """Run one case live, print its explanation and full report; 0 pass/known bug, 1 failure."""
    from ..targets import registry
    from ..check import runner
    from ..check.compare import Stats

    if case_id.startswith("tf1-"):
        from ..matrix.tf1_cases import Tf1Case, compare_to_reference, run_live

        case = Tf1Case.from_id(case_id)
        record = run_live(case)
        problems = compare_to_reference(case, record)
        print(f"{case_id}: {len(record['outputs'])} outputs: {', '.join(record['output_names'])}")
        print(runner.failure_report(case_id, problems) if problems else f"{case_id}: PASS")
        return 1 if problems else 0
    from ..matrix.cases import case_from_id
    from ..check.divergences import divergence_for
    from ..structure import Rejected, explain

    case = case_from_id(case_id)
    ok, why = registry.availability(case.target)
    if not ok:
        print(f"rnnparity check: {why}", file=sys.stderr)
        return 2
    print(f"case {case_id}\nlayer spec: {json.dumps(case.layer_spec().to_dict())}")
    inexpressible = registry.cannot_express(case)
    if inexpressible:  # as the suite: a visible skip naming the option
        print(f"SKIP: {case.target} cannot express this case: {inexpressible}")
        return 0
    try:
        print(explain(case.layer_spec(), case.input_shape, case.dialect))
    except Rejected as exc:  # the case checks that the reference refuses it the same way
        print(f"no outputs: {str(exc).removeprefix('explain: ')}")
    stats = Stats()
    rec, problems = runner.check_live(case, stats)
    if rec.info:  # how the target ran it (converter, runtime, ops)
        print("ran as: " + "; ".join(
            f"{k} {', '.join(map(str, v)) if isinstance(v, list) else json.dumps(v) if isinstance(v, dict) else v}"
            for k, v in rec.info.items()))
    if rec.outcome.error:
        print(f"the framework raised {rec.outcome.error[1]} at step {rec.outcome.error[0]}: {rec.outcome.error[2]}")
    known = divergence_for(case)
    if problems:
        print(runner.failure_report(case_id, problems))
        if known:
            print(f"\nXFAIL: {known.xfail_reason()}\nrepro:\n{known.repro}")
            return 0
        return 1
    if rec.rounding is not None:
        print(rec.rounding.report())
    elif rec.outcome.error and not stats.elements:
        print(f"PASS: the reference rejects this configuration as the framework does ({rec.outcome.error[1]})")
    else:
        print(f"PASS: max abs error {stats.max_abs:.3g}, max rel error {stats.max_rel:.3g} "
              f"over {stats.elements} elements")
    if known:
        print(f"XPASS: expected the known bug [{known.key}], but the framework now agrees: remove it "
              f"from rnnparity.check.divergences")
        return 1
    return 0
