"""`rnnparity check` over the suite: pytest (optionally over pytest-xdist) runs the shipped suite with
a progress bar; the results are collected here and rendered by report/ (text, JSON, JUnit, HTML).
Imported only when `check` runs the suite: it imports pytest."""
from __future__ import annotations

import datetime
import json
import sys
import time
from collections import Counter

import pytest

from ..plugin import STATS_KEY, VERDICT_KEY, max_errors, skip_reason
from ..check.verdict import ILL_CONDITIONED
from ..report import SEED_POLICY, case_of, counts_line, header, kind_of, summary_table, target_of
from ..report import text
from ..report.statuses import counted
from ..targets.installed import versions
from .common import ALL_TARGETS, case_list, progress


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
            elif report.passed and (VERDICT_KEY, ILL_CONDITIONED) in list(getattr(report, "user_properties", ())):
                outcome = ILL_CONDITIONED  # passed with a warning (--ill-conditioned=warn)
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


def _targets(args):
    return ",".join(t.strip() for t in args.target.split(",") if t.strip())


def pytest_argv(args) -> list:
    """The pytest command line `rnnparity check` runs (the count test collects with it)."""
    # -o addopts=: the caller's project options (e.g. -ra, which needs the terminal) do not apply;
    # --rnnparity-quick-targets=: every target runs the tier asked for (not the checkout's test setting)
    argv = ["--pyargs", "rnnparity.suite", "-p", "no:cacheprovider", "-p", "no:terminal", "-o", "addopts=",
            "--rnnparity-tier", args.tier, "--rnnparity-quick-targets=", "--rnnparity-targets", _targets(args),
            "-m", "live or replay" if args.replay else "live",
            "--rnnparity-ill-conditioned", getattr(args, "ill_conditioned", "warn")]
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
    want = set(case_list(args.tier, _targets(args).split(","), shard=getattr(args, "shard", None)))
    got = {case_of(n) for n in collector.collected if kind_of(n) == "matrix"}
    if got == want:
        return None
    missing, extra = sorted(want - got), sorted(got - want)
    return (f"collected {len(got)} matrix cases, `rnnparity list --count --tier {args.tier} --target "
            f"{_targets(args)}{_shard_option(args)}` has {len(want)}: {len(missing)} not collected (e.g. {missing[:3]}), "
            f"{len(extra)} not listed (e.g. {extra[:3]})")


def check_suite(args) -> int:
    html_file = getattr(args, "html", None)
    if html_file:  # before the run: a missing extra is said at once, not after an hour of cases
        from ..report import html

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
    if results:
        print(summary_table(results))
    print(f"\n{len(results)} cases in {elapsed:.1f} s: " + ", ".join(f"{n} {o}" for o, n in counted(counts)))
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
        print(f"passed within rounding: {within_rounding} cases (beyond the table, within the rounding "
              f"envelope; not in the largest errors)")
    ill = [n for n, (o, _) in results.items() if o == ILL_CONDITIONED]
    if ill:
        print(f"ill-conditioned: {len(ill)} cases (valid low-precision runs scatter as widely as the "
              f"values: agreement not decidable beyond some step; "
              + ("they fail the run (--ill-conditioned=fail))" if getattr(args, "ill_conditioned", "warn") == "fail" else
                 "a warning, not a failure; --ill-conditioned=fail makes them one)")
              + "".join(f"\n  rnnparity check --case {case_of(n)}" for n in ill[:10]))
    for line in text.skip_lines(results) + text.xfail_lines(results, collector.details):
        print(line)
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
    if args.keyword and not collector.collected:  # the filter, not the installation, left nothing
        print(f"rnnparity check: -k {args.keyword!r} matched no case of the {args.tier} tier on "
              f"{_targets(args)}{_shard_option(args)} (`rnnparity list --tier {args.tier} WORD ...` "
              f"lists the ids containing words)")
        print(text.verdict_line(counts, 2))
        return 2
    if code == pytest.ExitCode.NO_TESTS_COLLECTED or not results:
        print("rnnparity check: no cases ran (is a framework installed? see the skip reasons)")
        exit_code = 2 if code else 0
    elif count_problem:
        exit_code = 1
    else:
        exit_code = int(code) if code else (1 if failed else 0)
    print(text.verdict_line(counts, exit_code, count_problem and "the collected cases are not "
                            "`rnnparity list`'s (above)"))
    return exit_code
