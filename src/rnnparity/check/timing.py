"""Where a run's time goes: CPU and wall seconds inside the frameworks, per test, behind an env var.

    RNNPARITY_TIMING=/tmp/t rnnparity check -n 2      # or: RNNPARITY_TIMING=/tmp/t pytest -n 2
    python -m rnnparity.check.timing /tmp/t            # the summary: framework-only floor, ratio

With RNNPARITY_TIMING set, the plugin wraps the framework-facing methods of every target: the Keras
adapters (build, get_weights, set_weights, call, reset), the tf1 target's record, the converted runtimes'
conversions and runs (TFLite's converter and interpreter, tf2onnx and onnxruntime with the ONNX
reference evaluator), and the requests to a Keras-backend worker process, whose own CPU seconds
(read from /proc) count as framework time: the child runs nothing else. Each pytest process (every
xdist worker) writes timing-<pid>.json there: per test, the framework CPU seconds (this process's,
all its threads, TensorFlow's pools included, plus its backend workers'), their wall seconds, and
the test's own wall and CPU seconds. The framework-only floor of a run on N cores is the framework
CPU-s / N: no harness, no startup, perfect balance. Off (the default), nothing is wrapped.
"""
from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections import defaultdict

ENV = "RNNPARITY_TIMING"
METHODS = ("build", "get_weights", "set_weights", "call", "reset")


class Timer:
    def __init__(self):
        self.depth = 0
        self.current = None  # the running test's node id
        self.per_test = defaultdict(lambda: defaultdict(float))
        self.started = time.perf_counter(), time.process_time()

    def wrap(self, fn, kind, child=None):
        """``fn`` timed as ``kind``; ``child(args) -> pid``: a process whose CPU time counts too."""
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            if self.depth:  # nested (a method calling another): counted once, by the outer one
                return fn(*args, **kwargs)
            self.depth += 1
            pid = child(args) if child else None
            wall, cpu, child_cpu = time.perf_counter(), time.process_time(), _cpu_of(pid)
            try:
                return fn(*args, **kwargs)
            finally:
                row = self.per_test[self.current or "(outside tests)"]
                in_child = _cpu_of(pid) - child_cpu
                row[f"{kind}_cpu"] += time.process_time() - cpu + in_child
                row[f"{kind}_wall"] += time.perf_counter() - wall
                if pid is not None:
                    row["child_cpu"] += in_child  # not in this process's test_cpu
                self.depth -= 1
        return timed

    # pytest hooks (registered as a plugin)
    def pytest_runtest_logstart(self, nodeid, location):
        self.current = nodeid
        self._test_start = time.perf_counter(), time.process_time()

    def pytest_runtest_logfinish(self, nodeid, location):
        wall, cpu = self._test_start
        row = self.per_test[nodeid]
        row["test_wall"] += time.perf_counter() - wall
        row["test_cpu"] += time.process_time() - cpu
        self.current = None

    def write(self, directory):
        os.makedirs(directory, exist_ok=True)
        wall, cpu = self.started
        data = {"pid": os.getpid(), "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
                "process_wall": time.perf_counter() - wall, "process_cpu": time.process_time() - cpu,
                "tests": {k: dict(v) for k, v in self.per_test.items()}}
        with open(os.path.join(directory, f"timing-{os.getpid()}.json"), "w") as f:
            json.dump(data, f)


def install(config):
    """Wrap the framework entry points and register the per-test hooks (called by the plugin when
    RNNPARITY_TIMING is set)."""
    from ..targets.keras_adapter import KerasAdapter

    if not hasattr(config, "workerinput") and config.getoption("numprocesses", None):
        return None  # an xdist controller runs no test: its workers write the timings
    from ..targets import keras3_backend, onnx, tf1, tflite

    timer = Timer()
    for name in METHODS:
        setattr(KerasAdapter, name, timer.wrap(getattr(KerasAdapter, name), "framework"))
    for cls, names in ((tf1.Tf1Target, ("record",)), (tflite.TFLiteTarget, ("convert",)), (tflite.Converted, ("interpreter", "run")),
                       (onnx.OnnxTarget, ("_convert",)), (onnx.Converted, ("__init__", "run"))):
        for name in names:
            setattr(cls, name, timer.wrap(getattr(cls, name), "framework"))
    keras3_backend.Worker.request = timer.wrap(keras3_backend.Worker.request, "framework",
                                               child=lambda args: args[0].proc.pid)
    config.pluginmanager.register(timer, "rnnparity-timing")
    config.add_cleanup(lambda: timer.write(os.environ[ENV]))
    return timer


def _cpu_of(pid) -> float:
    """User + system CPU seconds of a live process (Linux /proc); 0 when unknown or gone."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def summarise(directory, cores=2) -> dict:
    files = [os.path.join(directory, f) for f in os.listdir(directory) if f.startswith("timing-")]
    runs = [json.load(open(f)) for f in files]
    tests = defaultdict(lambda: defaultdict(float))  # a test is in one process; summed all the same
    for r in runs:
        for nodeid, row in r["tests"].items():
            for key, value in row.items():
                tests[nodeid][key] += value
    fw_cpu = sum(v.get("framework_cpu", 0) for v in tests.values())
    fw_wall = sum(v.get("framework_wall", 0) for v in tests.values())
    child_cpu = sum(v.get("child_cpu", 0) for v in tests.values())
    test_cpu = sum(v.get("test_cpu", 0) for v in tests.values()) + child_cpu
    test_wall = sum(v.get("test_wall", 0) for v in tests.values())
    by_kind = defaultdict(lambda: [0, 0.0, 0.0])  # tests, framework cpu, test cpu
    for nodeid, v in tests.items():
        kind = nodeid.split("::")[0].rsplit("/", 1)[-1]
        if "-t100" in nodeid or "t100" in nodeid.split("-"):
            kind += " (T=100)"
        k = by_kind[kind]
        k[0] += 1
        k[1] += v.get("framework_cpu", 0)
        k[2] += v.get("test_cpu", 0) + v.get("child_cpu", 0)
    return {"processes": len(runs), "tests": len(tests), "framework_cpu_s": fw_cpu,
            "framework_wall_s": fw_wall, "test_cpu_s": test_cpu, "test_wall_s": test_wall,
            "child_cpu_s": child_cpu,
            "process_cpu_s": sum(r["process_cpu"] for r in runs),
            "process_wall_s": max((r["process_wall"] for r in runs), default=0.0),
            "floor_s": fw_cpu / cores, "cores": cores,
            "by_file": {k: {"tests": n, "framework_cpu_s": f, "test_cpu_s": t} for k, (n, f, t) in
                        sorted(by_kind.items())}}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__)
        return 2
    wall = float(argv[2]) if len(argv) > 2 else None
    s = summarise(argv[0], int(argv[1]) if len(argv) > 1 else 2)
    print(f"{s['tests']} tests in {s['processes']} processes; CPU-s: framework {s['framework_cpu_s']:.1f}, "
          f"inside tests {s['test_cpu_s']:.1f} (of which {s['child_cpu_s']:.1f} in backend worker "
          f"processes), pytest processes {s['process_cpu_s']:.1f} (startup and collection = the "
          f"difference with the tests' own)")
    print(f"framework-only floor on {s['cores']} cores: {s['floor_s']:.1f} s" +
          (f"; wall {wall:.1f} s; floor / wall = {100 * s['floor_s'] / wall:.0f}%" if wall else ""))
    for name, v in s["by_file"].items():
        print(f"  {name:40s} {v['tests']:6d} tests  framework {v['framework_cpu_s']:7.1f} CPU-s  "
              f"tests {v['test_cpu_s']:7.1f} CPU-s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
