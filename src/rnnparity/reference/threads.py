"""How many BLAS threads the reference's matrix products get, chosen from what is really available.

A multi-threaded BLAS splits a product statically between its threads and waits for the slowest one.
The time loop does one small product per step; when another process holds a core, one of the two
threads is descheduled and each step then waits a scheduler slice (benchmarks/README.md: 2.0-2.4x
slower than tf.function on 2 busy cores, against 0.8-0.9 quiet). So:

- small products (below MULTITHREAD_WORK multiply-adds) run on one thread: waking a second costs
  more than it saves, even on an idle machine;
- larger ones get as many threads as there are cores this process may run on (its CPU affinity)
  that no other task is running on right now, never more than BLAS's own setting;
- the user's choice wins: with OPENBLAS_NUM_THREADS (or OMP_/MKL_/BLIS_/GOTO_NUM_THREADS) set in
  the environment, the thread count is never touched.

BLAS is controlled through threadpoolctl (OpenBLAS, MKL, BLIS: whichever NumPy loaded). Without it
(an unusual install) nothing is changed: the results are the same, only slower under load.

A ConvLSTM step is a large product (its recurrent convolution) followed by millions of elementwise
values (its gate equations), which NumPy computes on one thread. conv.py splits the convolution into
blocks of output positions, and a step computes each block's gates right after its product, on the
usable cores, by a small pool of our own threads (NumPy releases the GIL in its loops and BLAS calls):
`product_blocks`. Why not BLAS's own threads: after a product OpenBLAS's threads spin for a while,
holding the core the elementwise work needs; a static split waits for a descheduled thread; and a
product split by thread count rounds differently on a quiet and a loaded machine.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# Multiply-adds in one product above which a second thread pays for itself on an idle core (about
# 40 us of single-threaded work). Measured on the 2-core machine (benchmarks/README.md).
MULTITHREAD_WORK = 1 << 22
# Environment variables by which a user sets BLAS threads: when one is set, we never change them.
USER_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS",
                         "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
# Rows (output positions) per block of a convolution's product (conv.py): several blocks per
# thread, so that a thread descheduled for a while holds up only its block while the others take the
# rest; large enough that a block's BLAS call runs at full speed (benchmarks/README.md).
PRODUCT_BLOCK_ROWS = 1024
# The load is sampled at most this often (seconds): a sample costs about 0.1 ms per thread of ours.
LOAD_SAMPLE_PERIOD = 0.25


def user_thread_setting(environ=os.environ) -> dict:
    """The BLAS/OpenMP thread variables the user set (name -> value): these always win."""
    return {name: environ[name] for name in USER_THREAD_VARIABLES if environ.get(name, "").strip()}


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask, e.g. a container's cpuset or `taskset`)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def _running_elsewhere() -> int | None:
    """Tasks running or runnable right now that are not threads of this process, or None if unknown.

    /proc/loadavg's fourth field counts the runnable tasks of the machine (this one included); the
    threads of ours in state R are subtracted, so our own BLAS threads do not count as load."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        mine = 0
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:  # the thread ended meanwhile
                continue
            mine += stat[stat.rfind(")") + 2:stat.rfind(")") + 3] == "R"
        return max(0, running - max(mine, 1))
    except (OSError, ValueError, IndexError):
        pass
    try:  # elsewhere: the 1-minute load average, less this process
        return max(0, round(os.getloadavg()[0]) - 1)
    except (AttributeError, OSError):
        return None


_sample = [-1.0, 1]  # (time, free cores) of the last load sample


def free_cores(now=time.monotonic) -> int:
    """Usable cores not running another task at the last sample (at least 1)."""
    t = now()
    if t - _sample[0] >= LOAD_SAMPLE_PERIOD:
        elsewhere = _running_elsewhere()
        cores = usable_cores()
        _sample[:] = [t, 1 if elsewhere is None and cores > 1 else max(1, cores - (elsewhere or 0))]
    return _sample[1]


@functools.lru_cache(maxsize=None)
def _user_chose() -> bool:
    """Whether the user set a thread variable. Read once, as BLAS itself reads them once, when loaded."""
    return bool(user_thread_setting())


def threads_for(work: int) -> int | None:
    """BLAS threads for a product of ``work`` multiply-adds, or None: leave BLAS as it is (the user
    set a thread variable, or BLAS is not controllable)."""
    if _user_chose() or _controller() is None:
        return None
    if work < MULTITHREAD_WORK:
        return 1
    return free_cores()


def pool_threads(work: int, threshold: int) -> int:
    """Threads of our own for ``work`` (multiply-adds or values): one below ``threshold``, else every
    usable core, busy or not, never more than a thread variable the user set. Unlike a BLAS's static
    split, blocks handed out as threads come free lose at most a block's time to a descheduled
    thread, so a share of a busy core is still a gain (benchmarks/README.md: with the other core
    busy, 10-15% faster than one thread)."""
    if work < threshold:
        return 1
    chosen = [int(v) for v in user_thread_setting().values() if v.strip().isdigit() and int(v) > 0]
    return min([usable_cores(), *chosen])


def in_blocks(fn, rows: int, block_rows: int, threads: int):
    """Call ``fn(rows_slice)`` for every block of ``block_rows`` consecutive rows of ``range(rows)``,
    on ``threads`` threads (this one included; blocks are handed out as threads come free). ``fn``
    must touch only its own rows. The first exception raised is re-raised here, once every thread
    has stopped."""
    if threads <= 1 or rows <= block_rows or threading.current_thread().name.startswith(_HELPER_NAME):
        # one thread (from a helper's block, waiting for the pool could deadlock): no pool at all
        for start in range(0, rows, block_rows):
            fn(slice(start, min(start + block_rows, rows)))
        return
    blocks = iter([slice(start, min(start + block_rows, rows)) for start in range(0, rows, block_rows)])
    lock = threading.Lock()

    def drain():
        while True:
            with lock:  # each block to exactly one thread
                block = next(blocks, None)
            if block is None:
                return
            fn(block)

    threads = min(threads, -(-rows // block_rows))
    futures = [_executor().submit(drain) for _ in range(threads - 1)]
    errors = []
    try:
        drain()
    except BaseException as error:  # noqa: B036 - re-raised below, once the helpers have stopped
        errors.append(error)
    # a helper that has not started (busy with another caller's blocks) is not waited for
    errors += [e for e in (f.exception() for f in futures if not f.cancel()) if e is not None]
    if errors:
        raise errors[0]


def product_blocks(fn, count: int, work: int):
    """``fn(k)`` for k in range(count): the blocks of a product of ``work`` multiply-adds, each one
    BLAS call, on `pool_threads` threads with one BLAS thread each. Not BLAS's own threads: they
    split a product by their number, so its rounding would follow the machine's load, and they spin
    for a while after a product (single-threaded elementwise work right after a two-thread product
    kept 1.8 cores busy). When the user set a thread variable (or BLAS is not controllable) the
    blocks run one after another on BLAS as it is."""
    def run(rows):
        for k in range(rows.start, rows.stop):
            fn(k)

    if _user_chose() or _controller() is None:
        run(range(count))
        return
    with blas_threads(1):
        in_blocks(run, count, 1, pool_threads(work, MULTITHREAD_WORK))


_pool = {"pid": None, "executor": None}
_HELPER_NAME = "rnnparity-blocks"


def _executor() -> ThreadPoolExecutor:
    """This process's pool of helper threads (made again in a forked child, which has none)."""
    if _pool["pid"] != os.getpid():
        _pool.update(pid=os.getpid(), executor=ThreadPoolExecutor(
            max(1, usable_cores() - 1), thread_name_prefix=_HELPER_NAME))
    return _pool["executor"]


def blas_threads_for(work: int):
    """A context manager running its block with `threads_for(work)` BLAS threads (never more than
    BLAS has now)."""
    n = threads_for(work)
    return contextlib.nullcontext() if n is None else blas_threads(n)


@contextlib.contextmanager
def blas_threads(n: int):
    """Run the block with NumPy's BLAS limited to at most ``n`` threads (no-op without threadpoolctl)."""
    controller = _controller()
    if controller is None:
        yield
        return
    blas = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    before = [lib.get_num_threads() for lib in blas]
    changed = [(lib, k) for lib, k in zip(blas, before) if k is not None and k > n]
    for lib, _ in changed:
        lib.set_num_threads(n)
    try:
        yield
    finally:
        for lib, k in changed:
            lib.set_num_threads(k)


@functools.lru_cache(maxsize=None)
def _controller():
    """threadpoolctl's view of the BLAS libraries loaded in this process (NumPy's), or None."""
    try:
        import numpy  # noqa: F401 - loads NumPy's BLAS, which the controller then finds
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    controller = ThreadpoolController()
    return controller if any(lib.user_api == "blas" for lib in controller.lib_controllers) else None


def blas_info() -> list:
    """The BLAS libraries NumPy uses: threadpoolctl's info (library, version, kernel set as
    `architecture`, threads, threading layer); empty without threadpoolctl."""
    controller = _controller()
    return [] if controller is None else [lib.info() for lib in controller.lib_controllers
                                          if lib.user_api == "blas"]


def openblas_core() -> str | None:
    """The CPU kernel set NumPy's OpenBLAS chose (e.g. 'Haswell', 'SkylakeX'), or None. The
    OPENBLAS_CORETYPE variable, read when NumPy loads, overrides its detection."""
    for info in blas_info():
        if info.get("internal_api") == "openblas":
            return info.get("architecture")
    return None
