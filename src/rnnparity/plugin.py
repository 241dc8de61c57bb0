"""The rnnparity pytest plugin (entry point `pytest11`).

It is loaded into every pytest run of an environment where rnnparity is installed, so outside
rnnparity's own runs it only adds options and markers: it imports nothing heavy (importing
`rnnparity` imports no NumPy), reads no recordings and prints nothing. In its own runs (the shipped
suite named on the command line, or the repository's tests) it prints a header (targets, versions,
backend, seeds, recordings) and an end-of-run summary (cases per target, max errors per precision).

A run that collected suite cases but ran none (every one skipped: no framework, no recordings)
exits with status 5, saying why: an empty run is not a pass. Under pytest-xdist the controller
decides, from the reports the workers send.
"""
from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

STATS_KEY = "rnnparity"
# record_property keys of a case whose verdict is neither pass nor fail (check/verdict.py): the
# verdict's name, and its report (an ill-conditioned case passes with a warning: no longrepr)
VERDICT_KEY = "rnnparity_verdict"
ILL_REPORT_KEY = "rnnparity_ill_conditioned"
PACKAGE_DIR = Path(__file__).resolve().parent
SUITE_DIR = PACKAGE_DIR / "suite"
# the recordings packaged with a wheel (rnnparity.golden.packed); a source checkout has fixtures/ instead
PACKAGED_RECORDINGS = PACKAGE_DIR / "recordings.tar.xz"
MARKERS = (
    "live: runs a real framework (keras3, tf_keras or tf1)",
    "replay: replays a recording against the reference",
    "full: the full product tier (run with --rnnparity-tier=full)",
)
NOTHING_RAN = 5  # pytest.ExitCode.NO_TESTS_COLLECTED: nothing was tested


def max_errors(stats) -> dict:
    """precision -> (max abs error, max rel error, cases) over the agreeing cases' Stats payloads
    (record_property(STATS_KEY, ...)): the summary of this plugin and of `rnnparity check`."""
    out = {}
    for s in stats:
        for precision, (mabs, mrel) in s.get("precisions", {}).items():
            a, r, n = out.get(precision, (0.0, 0.0, 0))
            out[precision] = (max(a, mabs), max(r, mrel), n + 1)
    return dict(sorted(out.items()))


def skip_reason(report) -> str:
    """A skipped test's reason, from its (path, line, "Skipped: why") longrepr."""
    return str(report.longrepr[2]).removeprefix("Skipped: ")


def pytest_addoption(parser):
    group = parser.getgroup("rnnparity")
    group.addoption("--rnnparity-tier", default=os.environ.get("RNNPARITY_TIER", "default"),
                    choices=("quick", "default", "full"), help="case tier: quick (a smoke gate), default (pairwise) or full product")
    group.addoption("--rnnparity-quick-targets", default=os.environ.get("RNNPARITY_QUICK_TARGETS"),
                    help="comma-separated targets that run their quick grid whatever the tier (default: "
                         "the rnnparity_quick_targets ini value; an empty value: none)")
    parser.addini("rnnparity_quick_targets", "targets that run their quick grid whatever the tier "
                  "(the repository's own test command: the slow ones; their tox envs run the tier)", default="")
    group.addoption("--rnnparity-targets", default=os.environ.get("RNNPARITY_TARGETS"),
                    help="comma-separated targets to run live (default: keras3, tf_keras, tf1 and every "
                         "other registered target that is installed)")
    # --rnnparity-fixtures / RNNPARITY_FIXTURES: the names this option had before; they keep working
    group.addoption("--rnnparity-recordings", "--rnnparity-fixtures", dest="rnnparity_recordings",
                    default=os.environ.get("RNNPARITY_RECORDINGS", os.environ.get("RNNPARITY_FIXTURES")),
                    help="recordings to replay (a recording dir, a dir of them, or a packed .tar.xz); "
                         "default: the checkout's fixtures/, else the recordings packaged with rnnparity")
    group.addoption("--rnnparity-ill-conditioned", default=os.environ.get("RNNPARITY_ILL_CONDITIONED", "warn"),
                    choices=("warn", "fail"),
                    help="a case whose valid low-precision runs scatter as widely as its values (agreement "
                         "not decidable beyond some step): warn (default: it passes with an "
                         "IllConditionedWarning and the summary counts it) or fail")
    group.addoption("--rnnparity-shard", default=os.environ.get("RNNPARITY_SHARD"),
                    help="run only shard i/n of the suite's cases (crc32 of the case id mod n; "
                         "e.g. 2/8): the n shards are disjoint and together hold every case")


def pytest_configure(config):
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    config.pluginmanager.register(RunState(config), "rnnparity-run")
    if os.environ.get("RNNPARITY_TIMING"):  # where the time goes (check/timing.py); off by default
        from .check import timing

        timing.install(config)


def shard_of(config):
    """The --rnnparity-shard (or RNNPARITY_SHARD) of this run, or None: see rnnparity.matrix.shard."""
    from .matrix.shard import parse_shard

    try:
        return parse_shard(config.getoption("--rnnparity-shard"))
    except ValueError as exc:
        import pytest

        raise pytest.UsageError(str(exc)) from None


def pytest_collection_modifyitems(config, items):
    """Keep only this shard's cases of the shipped suite (its parametrized tests); the repository's
    own tests and anything else collected are not sharded."""
    shard = shard_of(config)
    if shard is None:
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        in_suite = SUITE_DIR in Path(str(item.path)).resolve().parents
        (drop if in_suite and callspec is not None and not shard.holds(callspec.id) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def selected_targets(config):
    option = config.getoption("--rnnparity-targets")
    if option is None:
        from .targets import registry  # metadata only: imports no framework

        return registry.default_targets()
    return tuple(t.strip() for t in option.split(",") if t.strip())


def quick_targets(config) -> tuple:
    """The targets that run their quick grid whatever --rnnparity-tier says: --rnnparity-quick-targets
    (or RNNPARITY_QUICK_TARGETS), else the ini value rnnparity_quick_targets (pyproject.toml)."""
    option = config.getoption("--rnnparity-quick-targets")
    if option is None:
        option = config.getini("rnnparity_quick_targets")
    return tuple(t.strip() for t in option.replace(" ", ",").split(",") if t.strip())


def cases_by_target(config, targets) -> list:
    """The matrix cases of the selected targets: the run's tier, or the quick grid for quick_targets()."""
    import itertools

    from .matrix import tiers

    tier, quick = config.getoption("--rnnparity-tier"), quick_targets(config)
    out = []  # consecutive targets of the same tier made together: the order they have without quick ones
    for grid, group in itertools.groupby(targets, lambda t: "quick" if t in quick else tier):
        out += tiers.cases(grid, tuple(group))
    return out


def checkout_root():
    """The source checkout this module runs from (src/ layout, editable or PYTHONPATH), else None."""
    root = PACKAGE_DIR.parents[1]
    return root if (root / "pyproject.toml").is_file() and PACKAGE_DIR == root / "src" / "rnnparity" else None


def _has_recordings(path: Path) -> bool:
    from . import golden

    return bool(golden.recording_dirs(path))


def recordings_root(config):
    """Where to replay from: --rnnparity-recordings; else a `fixtures/` holding recordings under the
    rootdir or the source checkout; else the recordings packaged with rnnparity; else None."""
    option = config.getoption("--rnnparity-recordings")
    if option:
        return Path(option)
    checkout = checkout_root()
    for candidate in (Path(str(config.rootpath)) / "fixtures", checkout / "fixtures" if checkout else None):
        if candidate is not None and candidate.is_dir() and _has_recordings(candidate):
            return candidate
    return PACKAGED_RECORDINGS if PACKAGED_RECORDINGS.is_file() else None


def own_run(config) -> bool:
    """Whether this run is rnnparity's (decided from the arguments, before collection): its
    checkout is the rootdir, or an argument names the package (`--pyargs rnnparity...` or a path)."""
    checkout = checkout_root()
    if checkout is not None and Path(str(config.rootpath)).resolve() == checkout:
        return True
    for arg in config.args:
        target = arg.split("::")[0]
        if config.getoption("pyargs") and target.split(".")[0] == "rnnparity":
            return True
        path = (Path(str(config.invocation_params.dir)) / target).resolve()
        if path == PACKAGE_DIR or PACKAGE_DIR in path.parents:
            return True
    return False


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config):
    if not own_run(config):
        return None
    versions = ", ".join(f"{d} {_version(d)}" for d in ("tensorflow", "keras", "tf-keras", "numpy"))
    root = recordings_root(config)
    where = "nowhere (no fixtures/ found and none packaged)" if root is None else (
        f"{root} (packaged with rnnparity)" if root == PACKAGED_RECORDINGS else str(root))
    return [
        f"rnnparity: tier={config.getoption('--rnnparity-tier')} "
        + (f"shard={shard_of(config)} " if shard_of(config) else "")
        + (f"quick grid for {','.join(quick_targets(config))} " if quick_targets(config) else "")
        + f"targets={','.join(selected_targets(config))} "
        f"keras backend={os.environ.get('KERAS_BACKEND', 'tensorflow')}",
        f"rnnparity: {versions}",
        "rnnparity: data seeds = crc32(case id without target): fixed, identical on every worker",
        f"rnnparity: replaying recordings from {where}",
    ]


class RunState:
    """One per pytest run (registered in pytest_configure): what the reports say about the shipped
    suite. On the xdist controller it sees every worker's reports, so the verdict is made there."""

    def __init__(self, config):
        self.config = config
        self.suite_files: dict = {}  # report location -> whether it is a file of the shipped suite
        self.suite_seen, self.suite_ran = set(), set()
        self.skip_reasons: Counter = Counter()
        self.stats: list = []
        self.nothing_ran: str | None = None

    def in_suite(self, report) -> bool:
        location = report.location[0] if report.location else report.nodeid.split("::")[0]
        if location not in self.suite_files:
            path = (Path(str(self.config.rootpath)) / location).resolve()
            self.suite_files[location] = SUITE_DIR in path.parents
        return self.suite_files[location]

    def pytest_runtest_logreport(self, report):
        if not self.in_suite(report):
            return
        self.suite_seen.add(report.nodeid)
        if (report.when == "call" and (not report.skipped or hasattr(report, "wasxfail"))) or report.failed:
            self.suite_ran.add(report.nodeid)
        elif report.skipped and isinstance(report.longrepr, tuple):
            self.skip_reasons[skip_reason(report)] += 1
        if report.when == "call":
            for name, value in getattr(report, "user_properties", ()):
                if name == STATS_KEY and isinstance(value, dict):
                    self.stats.append(value)

    def pytest_sessionfinish(self, session):
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller decides
            return
        if self.suite_seen and not self.suite_ran and session.exitstatus == 0:
            self.nothing_ran = (f"rnnparity: nothing was tested: all {len(self.suite_seen)} suite cases "
                                f"were skipped (reasons above); exit status {NOTHING_RAN}")
            session.exitstatus = NOTHING_RAN

    def pytest_terminal_summary(self, terminalreporter):
        if not self.suite_seen:
            return
        tr = terminalreporter
        tr.write_sep("=", "rnnparity")
        if self.stats:
            per_target = Counter(s["target"] for s in self.stats)
            tr.write_line("agreeing cases per target: " + ", ".join(f"{t} {n}" for t, n in sorted(per_target.items())))
            for precision, (mabs, mrel, n) in max_errors(self.stats).items():
                tr.write_line(f"{precision} outputs: max abs error {mabs:.3g}, max rel error {mrel:.3g} "
                              f"over {n} cases (rel = |err| / max(|framework|, atol))")
            within_rounding = sum(s.get("within_rounding", 0) for s in self.stats)
            if within_rounding:
                tr.write_line(f"{within_rounding} cases passed within rounding (beyond the table, within "
                              f"the rounding envelope; not in the rows above)")
            ill = sum(s.get("ill_conditioned", 0) for s in self.stats)
            if ill:
                tr.write_line(f"{ill} cases ill-conditioned (valid low-precision runs scatter as widely as "
                              f"the values: agreement not decidable beyond some step; they pass with a "
                              f"warning, --rnnparity-ill-conditioned=fail fails them)", yellow=True)
        for reason, n in self.skip_reasons.most_common(4):  # visible without -rs
            tr.write_line(f"skipped {n}: {reason}")
        if len(self.skip_reasons) > 4:
            tr.write_line(f"skipped {sum(self.skip_reasons.values())} in all, for "
                          f"{len(self.skip_reasons)} reasons (-rs lists them)")
        if self.nothing_ran:
            tr.write_line(self.nothing_ran, red=True, bold=True)
