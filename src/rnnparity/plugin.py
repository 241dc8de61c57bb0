"""The rnnparity pytest plugin (entry point `pytest11`).

Light on purpose: it is loaded in every pytest run where rnnparity is installed, so it imports no
framework and nothing heavy at import time. It adds the options, the report header (targets,
versions, backend, seeds) and the end-of-run summary (cases per target, max errors per dtype).
"""
from __future__ import annotations

import os
from collections import defaultdict

STATS_KEY = "rnnparity"


def pytest_addoption(parser):
    group = parser.getgroup("rnnparity")
    group.addoption("--rnnparity-tier", default=os.environ.get("RNNPARITY_TIER", "default"),
                    choices=("default", "full"), help="case tier: default (pairwise) or full product")
    group.addoption("--rnnparity-targets", default=os.environ.get("RNNPARITY_TARGETS", "keras3,tf_keras,tf1"),
                    help="comma-separated targets to run live: keras3, tf_keras, tf1")
    group.addoption("--rnnparity-fixtures", default=os.environ.get("RNNPARITY_FIXTURES"),
                    help="recordings to replay (a recording dir, or a dir of them); default: the "
                         "repository's fixtures/ if present")


def pytest_configure(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def selected_targets(config):
    return tuple(t.strip() for t in config.getoption("--rnnparity-targets").split(",") if t.strip())


def fixtures_root(config):
    """The --rnnparity-fixtures dir, else `fixtures/` under the rootdir or the source checkout."""
    from pathlib import Path

    option = config.getoption("--rnnparity-fixtures")
    if option:
        return Path(option)
    for candidate in (Path(str(config.rootpath)) / "fixtures", Path(__file__).resolve().parents[2] / "fixtures"):
        if candidate.is_dir():
            return candidate
    return None


def _version(dist):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def pytest_report_header(config):
    versions = ", ".join(f"{d} {_version(d)}" for d in ("tensorflow", "keras", "tf-keras", "numpy"))
    return [
        f"rnnparity: tier={config.getoption('--rnnparity-tier')} "
        f"targets={','.join(selected_targets(config))} "
        f"keras backend={os.environ.get('KERAS_BACKEND', 'tensorflow')}",
        f"rnnparity: {versions}",
        "rnnparity: data seeds = crc32(case id without target): fixed, identical on every worker",
        f"rnnparity: replaying fixtures from {fixtures_root(config) or 'nowhere (no fixtures/ found)'}",
    ]


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    for name, value in getattr(report, "user_properties", ()):
        if name == STATS_KEY and isinstance(value, dict):
            _STATS_SINK.append(value)


_STATS_SINK: list = []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _STATS_SINK:
        return
    per_precision = defaultdict(lambda: [0.0, 0.0, 0])
    per_target = defaultdict(int)
    within_rounding = 0
    for s in _STATS_SINK:
        per_target[s["target"]] += 1
        within_rounding += s.get("within_rounding", 0)
        for precision, (mabs, mrel) in s.get("precisions", {}).items():
            d = per_precision[precision]
            d[0], d[1], d[2] = max(d[0], mabs), max(d[1], mrel), d[2] + 1
    tr = terminalreporter
    tr.section("rnnparity")
    tr.write_line("agreeing cases per target: " + ", ".join(f"{t} {n}" for t, n in sorted(per_target.items())))
    for precision, (mabs, mrel, n) in sorted(per_precision.items()):
        tr.write_line(f"{precision} outputs: max abs error {mabs:.3g}, max rel error {mrel:.3g} over {n} cases "
                      f"(rel = |err| / max(|framework|, atol))")
    if within_rounding:
        tr.write_line(f"{within_rounding} cases passed within rounding (beyond the table in float16/float32, "
                      f"shown to be rounding by a float64 re-run; not in the rows above)")
