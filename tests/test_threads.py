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


# -- work split into row blocks on our own threads (a ConvLSTM step) ------------------------------
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_in_blocks_gives_every_row_to_exactly_one_block(workers):
    seen, lock = [], __import__("threading").Lock()

    def record(rows):
        with lock:
            seen.append((rows.start, rows.stop))
    threads.in_blocks(record, 1000, 96, workers)
    assert sorted(seen) == [(a, min(a + 96, 1000)) for a in range(0, 1000, 96)]


def test_in_blocks_reraises_a_helpers_error_after_every_thread_stopped():
    done = []

    def fail_one(rows):
        if rows.start == 96 * 5:
            raise ArithmeticError("planted")
        time.sleep(0.001)
        done.append(rows.start)
    with pytest.raises(ArithmeticError, match="planted"):
        threads.in_blocks(fail_one, 1000, 96, 2)
    assert sorted(done) == [a for a in range(0, 1000, 96) if a != 96 * 5]  # the others all ran


@pytest.mark.parametrize("shape", [(3, 50, 45, 6), (40, 10, 12, 6)], ids=["lines-of-a-row", "whole-rows"])
def test_a_blocked_convolution_has_the_same_bits_on_any_thread_count(sampled, monkeypatch, shape):
    """A multi-threaded BLAS rounds a product differently for each thread count; the fixed blocks of
    conv.cross_correlate do not, so the reference gives the same output on a quiet and on a loaded
    machine."""
    from numpy.lib.stride_tricks import sliding_window_view

    from rnnparity.reference.conv import cross_correlate

    monkeypatch.setattr(threads, "_user_chose", lambda: False)
    rng = np.random.RandomState(0)
    x = rng.normal(size=shape).astype("f4")  # several blocks: runs of lines of a batch row, or whole rows
    kernel, bias = rng.normal(size=(3, 2, 6, 40)).astype("f4"), rng.normal(size=40).astype("f4")
    results = []
    for cores in (1, 2, 3):
        sampled(0, cores)
        results.append(cross_correlate(x, kernel, (1, 1), (1, 1), "valid", bias=bias))
    assert all(np.array_equal(results[0], r) for r in results[1:])
    windows = sliding_window_view(x.astype("f8"), (3, 2), axis=(1, 2))  # (batch, *out, 6, 3, 2)
    exact = np.einsum("byxcij,ijcf->byxf", windows, kernel.astype("f8")) + bias
    np.testing.assert_allclose(results[0], exact, rtol=1e-5, atol=1e-4)


def test_a_conv_lstm_step_has_the_same_bits_quiet_or_loaded(sampled, monkeypatch):
    import rnnparity as rp

    monkeypatch.setattr(threads, "_user_chose", lambda: False)
    rng = np.random.RandomState(3)
    layer = rp.ConvLSTM2D(16, 3, padding="same", return_sequences=True, return_state=True)
    layer.set_weights([rng.normal(size=(3, 3, 2, 64)).astype("f4") / 5,
                       rng.normal(size=(3, 3, 16, 64)).astype("f4") / 12, rng.normal(size=64).astype("f4")])
    x = rng.normal(size=(3, 4, 40, 40, 2)).astype("f4")  # 4800 positions a step: several blocks
    outputs = []
    for free in (1, 2):
        sampled(0, free)
        outputs.append(layer(x))
    assert all(np.array_equal(a, b) for a, b in zip(*outputs))


def test_the_users_thread_variable_bounds_our_threads_too(monkeypatch, sampled):
    sampled(0, 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.pool_threads(1 << 30, 1) == 3
    assert threads.pool_threads(10, 100) == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    for name in threads.USER_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert threads.pool_threads(1 << 30, 1) == 8


def test_in_blocks_called_inside_a_block_does_not_wait_for_the_pool(sampled):
    inner = []

    def outer(rows):
        threads.in_blocks(lambda r: inner.append(r.start), 40, 10, 2)
    threads.in_blocks(outer, 8, 1, 2)  # would deadlock if a helper waited for itself
    assert sorted(inner) == sorted(list(range(0, 40, 10)) * 8)


def test_with_the_users_thread_variable_the_blocks_run_on_the_callers_thread(monkeypatch, sampled):
    sampled(0, 4)
    monkeypatch.setattr(threads, "_user_chose", lambda: True)
    monkeypatch.setattr(threads, "in_blocks", lambda *a: pytest.fail("blocks handed to the pool"))
    seen = []
    threads.product_blocks(seen.append, 5, 1 << 30)
    assert seen == [0, 1, 2, 3, 4]
