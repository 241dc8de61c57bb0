"""The reference's BLAS threads (rnnparity.reference.threads): one for small products, the free usable
cores for large ones, never more than BLAS has, and never touched when the user set a thread variable."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rnnparity.reference import threads

SRC = Path(__file__).resolve().parents[1] / "src"
BIG = threads.MULTITHREAD_WORK * 4

needs_blas = pytest.mark.skipif(threads._controller() is None,
                                reason="threadpoolctl is not installed or NumPy's BLAS is not controllable")


def _blas_threads():
    return [lib.get_num_threads() for lib in threads._controller().lib_controllers if lib.user_api == "blas"]


@pytest.fixture
def sampled(monkeypatch):
    """Set what the load sample sees: (tasks running elsewhere, usable cores)."""
    def set_(elsewhere, cores):
        monkeypatch.setattr(threads, "_running_elsewhere", lambda: elsewhere)
        monkeypatch.setattr(threads, "usable_cores", lambda: cores)
        monkeypatch.setattr(threads, "_sample", [-1.0, 1])  # force a new sample
    return set_


def test_free_cores_count_only_cores_nobody_else_runs_on(sampled):
    sampled(0, 4)
    assert threads.free_cores() == 4
    sampled(1, 4)
    assert threads.free_cores() == 3
    sampled(9, 2)
    assert threads.free_cores() == 1  # never 0
    sampled(None, 2)
    assert threads.free_cores() == 1  # load unknown: the safe choice


def test_the_sample_is_reused_within_its_period(sampled, monkeypatch):
    sampled(0, 2)
    assert threads.free_cores(now=lambda: 100.0) == 2
    monkeypatch.setattr(threads, "_running_elsewhere", lambda: 5)
    assert threads.free_cores(now=lambda: 100.0 + threads.LOAD_SAMPLE_PERIOD / 2) == 2
    assert threads.free_cores(now=lambda: 100.0 + threads.LOAD_SAMPLE_PERIOD) == 1


@needs_blas
def test_small_products_get_one_thread_large_ones_the_free_cores(sampled, monkeypatch):
    monkeypatch.setattr(threads, "_user_chose", lambda: False)
    sampled(0, 2)
    assert threads.threads_for(threads.MULTITHREAD_WORK - 1) == 1
    assert threads.threads_for(BIG) == 2
    sampled(1, 2)  # another process holds a core: a second BLAS thread would wait for it every step
    assert threads.threads_for(BIG) == 1


@needs_blas
def test_blas_threads_only_lower_and_restore():
    before = _blas_threads()
    with threads.blas_threads(1):
        assert _blas_threads() == [1] * len(before)
        with threads.blas_threads(64):  # never raised above what BLAS has
            assert _blas_threads() == [1] * len(before)
        assert _blas_threads() == [1] * len(before)
    assert _blas_threads() == before


@needs_blas
def test_a_busy_core_is_seen():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        assert threads._running_elsewhere() >= 1
    finally:
        spinner.kill()
        spinner.wait()


_PROBE = """
import numpy as np
from rnnparity.reference import threads
import rnnparity as rp
lib = [l for l in threads._controller().lib_controllers if l.user_api == "blas"][0]
before = lib.get_num_threads()
seen = []
layer = rp.LSTM(64, return_sequences=True)
layer.set_weights([np.full((8, 256), .01, "f4"), np.full((64, 256), .01, "f4"), np.zeros(256, "f4")])
import rnnparity.reference.threads as t
real = t.blas_threads
def spy(n):
    seen.append(n)
    return real(n)
t.blas_threads = spy
layer(np.ones((2, 3, 8), "f4"))
print(threads.threads_for(1 << 30), seen, before, lib.get_num_threads())
"""


@needs_blas
@pytest.mark.parametrize("variable", threads.USER_THREAD_VARIABLES[:3])
def test_the_users_thread_variable_wins(variable):
    env = {k: v for k, v in os.environ.items() if k not in threads.USER_THREAD_VARIABLES}
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(SRC), variable: "2"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(None, 1)[0] == "None"  # no choice made
    assert proc.stdout.split()[1] == "[]"  # the reference never set a thread count
    # without the variable, the same run limits its small products to one thread
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=120,
                          env={**env, "PYTHONPATH": str(SRC)})
    assert proc.returncode == 0, proc.stderr
    assert "[1, 1]" in proc.stdout  # the input projection and the time loop


def test_user_thread_setting_reads_only_set_variables():
    assert threads.user_thread_setting({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": " ", "PATH": "/"}) == \
        {"OPENBLAS_NUM_THREADS": "1"}


@needs_blas
def test_blas_info_names_the_library_and_kernels():
    info = threads.blas_info()
    assert info and all({"internal_api", "version", "num_threads"} <= set(i) for i in info)
    if info[0]["internal_api"] == "openblas":
        assert threads.openblas_core() == info[0]["architecture"]
