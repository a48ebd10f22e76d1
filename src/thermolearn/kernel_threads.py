"""How many threads a compiled loop over independent items (chains, reads, replica groups) uses.

A Numba ``parallel=True`` loop opens a parallel region on every call, with every thread of the
pool, even when there is one chain to run. The idle threads then wait at the region's barrier,
and when another process keeps a core busy the operating system may not schedule them for a
whole time slice: one Wolff sweep per call on a 128 x 128 lattice went from 0.6 ms to 12-24 ms
on two cores with one busy neighbour (Swendsen-Wang 0.5 -> 14 ms).

So a call runs its loop (:class:`ItemKernel`, made by :func:`over_items`) with
min(items, numba.get_num_threads()) threads, and with one thread when there is one item or too
little work for a region to outlast the scheduler's latency (:data:`MIN_PARALLEL_WORK`); a region
of one thread runs inline on the caller, with no barrier. The loop is compiled once, with
``parallel=True``: a second, serial compilation of the same body was 2.3x slower on the lattice
Metropolis kernel. (The cause was Numba's reference counting, an atomic incref / decref of every
array view per site, which the parallel lowering prunes: a serial kernel compiled with
``_nrt=False``, allocating nothing, runs as fast, compiles in a third of the time and costs no
parallel region per call; the lattice kernels sweep one chain that way and call the same serial
kernel from their parallel loop.) The kernels' results never depend on the thread count: every item
owns its spins and generator stream.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from typing import Any

import numba

from thermolearn.kernel_cache import njit

#: spin updates (or similar unit steps) per call below which a loop over chains runs serially. A
#: parallel region must last several milliseconds: with a busy neighbour on the cores, each region
#: waits up to a scheduler time slice for a descheduled thread, and shorter regions lost 60-70% of
#: their throughput (benchmarks/bench_under_load.py), while one thread keeps all of its own.
MIN_PARALLEL_WORK = 1 << 20


def thread_count(n_items: int, work: int | None = None, min_work: int = 0) -> int:
    """Threads for a loop over ``n_items`` independent items: at most one per item and at most
    ``numba.get_num_threads()``; 1 when ``work`` (any unit, e.g. spin updates) is below ``min_work``."""
    if n_items <= 1 or (work is not None and work < min_work):
        return 1  # decided without asking Numba, whose thread calls take a lock
    return max(1, min(int(n_items), numba.get_num_threads()))


@contextlib.contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Run the body with at most ``threads`` Numba threads (the pool's count restored afterwards)."""
    pool = numba.get_num_threads()
    if threads >= pool:
        # chains handed out one at a time: a thread the scheduler holds back takes fewer of them
        with numba.parallel_chunksize(1):
            yield
        return
    numba.set_num_threads(max(1, threads))
    try:
        if threads > 1:
            with numba.parallel_chunksize(1):
                yield
        else:
            yield
    finally:
        numba.set_num_threads(pool)


_thread_calls: tuple[Callable[[], int], Callable[[int], None]] | None = None


def _thread_functions() -> tuple[Callable[[], int], Callable[[int], None]]:
    """Numba's getter and setter of the calling thread's thread count, without the two locks
    its public ``get_num_threads`` / ``set_num_threads`` take on every call (about 2 us each, too
    much for a per-sweep call): the threading layer's own functions, once the layer is running.
    Where a Numba version lacks them, the public functions."""
    global _thread_calls
    if _thread_calls is None:
        numba.get_num_threads()  # starts the threading layer (and binds its functions)
        from numba.np.ufunc import parallel

        get, put = getattr(parallel, "_get_num_threads", None), getattr(parallel, "_set_num_threads", None)
        if callable(get) and callable(put) and get() == numba.get_num_threads():
            _thread_calls = (get, put)
        else:  # pragma: no cover - other Numba versions
            _thread_calls = (numba.get_num_threads, numba.set_num_threads)
    return _thread_calls


def call_single_threaded(kernel: Callable, *args: Any) -> Any:
    """Call a compiled ``parallel=True`` kernel with one thread: its parallel region then runs
    inline on the caller (no barrier); the thread count is changed only when it is not 1."""
    get, put = _thread_calls or _thread_functions()
    before = get()
    if before == 1:
        return kernel(*args)
    put(1)
    try:
        return kernel(*args)
    finally:
        put(before)


class ItemKernel:
    """One kernel body, a ``prange`` loop over independent items, compiled with ``parallel=True``
    and called with the threads its work can fill (:meth:`run`)."""

    def __init__(self, fn: Callable, **options: Any) -> None:
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.compiled = njit(cache=True, parallel=True, **options)(fn)

    def run(self, n_items: int, *args: Any, work: int | None = None, min_work: int = 0) -> Any:
        """Call the kernel on ``args`` with :func:`thread_count` threads."""
        threads = thread_count(n_items, work, min_work)
        if threads == 1:
            return call_single_threaded(self.compiled, *args)
        with thread_limit(threads):
            return self.compiled(*args)


def over_items(**options: Any) -> Callable[[Callable], ItemKernel]:
    """Decorator: compile a loop over independent items as an :class:`ItemKernel` (``options`` go
    to ``njit``, e.g. ``fastmath``)."""

    def wrap(fn: Callable) -> ItemKernel:
        return ItemKernel(fn, **options)

    return wrap


class ThreadClock:
    """Chooses between one thread and the pool for a kernel whose results do not depend on the
    thread count, by timing both (wall clock): on a busy machine a parallel region waits for a
    descheduled thread at every barrier, and one thread can be several times faster than two
    (measured 6x for strip Swendsen-Wang at L = 512 with two other busy processes on two cores).

    Under load the pool's call times are bimodal (fast when both threads happen to run, a time
    slice late when one does not), so the choice in use is judged by a running mean of its calls
    (an exponential mean, weight ``WEIGHT`` on each new call), not by its last call. A choice not
    timed for ``REFRESH`` seconds (or ``STALE_CALLS`` calls' time when calls are longer) is tried
    again: for ``TRIAL`` calls in a row when calls are shorter than ``LONG_CALL`` seconds (it
    starts from the fastest of them but the first), else for one call. The first call after a
    switch is not counted: it pays for the switch (the OpenMP pool's threads keep spinning for
    milliseconds after a region, and on a busy machine they take the core a single thread
    needs), and counting it made the clock alternate between the two, slower than either. The
    slower choice so costs a few short calls a second, or one long call in ``STALE_CALLS``, and a
    machine that becomes busy or quiet is noticed within a second or so."""

    REFRESH = 1.0
    STALE_CALLS = 30
    LONG_CALL = 0.02
    TRIAL = 3
    WEIGHT = 0.2

    def __init__(self) -> None:
        self._seconds: dict[int, float] = {}  # threads -> seconds per sweep (estimate)
        self._when: dict[int, float] = {}  # threads -> time.monotonic() at the end of its last timing
        self._call = 0.0  # seconds of the last call
        self._last = 0  # the threads of the last call timed
        self._trial = 0  # the choice under trial (0: none)
        self._trial_times: list[float] = []  # its calls so far
        self._trial_left = 0  # calls of the trial still to come

    def choose(self, threads: int) -> int:
        """``threads`` (the pool) or 1: a choice under trial, one untimed or stale, else the faster."""
        if self._trial_left > 0 and self._trial in (threads, 1):
            return self._trial
        now = time.monotonic()
        stale = max(self.REFRESH, self.STALE_CALLS * self._call)
        for option in (threads, 1):
            if now - self._when.get(option, -math.inf) > stale:
                calls = self.TRIAL if self._call < self.LONG_CALL else 1
                self._trial, self._trial_times, self._trial_left = option, [], calls
                return option
        return threads if self._seconds[threads] <= self._seconds[1] else 1

    def record(self, threads: int, per_sweep: float, call: float) -> None:
        """The timing of a call on ``threads``: seconds per sweep, and of the whole call."""
        switched = threads != self._last
        self._last = threads
        if self._trial_left > 0 and threads == self._trial:
            self._trial_times.append(per_sweep)
            self._trial_left -= 1
            times = self._trial_times
            self._seconds[threads] = min(times[1:]) if len(times) > 1 else times[0]
        elif threads not in self._seconds:
            self._seconds[threads] = per_sweep
        elif not switched:
            self._seconds[threads] += self.WEIGHT * (per_sweep - self._seconds[threads])
        self._when[threads] = time.monotonic()
        self._call = call

    def fastest(self) -> float | None:
        """The faster choice's estimate of seconds per sweep, or None before any timing."""
        return min(self._seconds.values()) if self._seconds else None

    def run(self, threads: int, n_sweeps: int, kernel: Callable, *args: Any) -> Any:
        """Call a ``parallel=True`` ``kernel`` on ``args`` for ``n_sweeps`` sweeps with ``threads``
        threads at most: one thread or the pool by :meth:`choose`, the call timed for :meth:`record`
        (calls of one thread, or of no sweeps, run as they are, untimed)."""
        if threads <= 1 or n_sweeps <= 0:
            if threads <= 1:
                return call_single_threaded(kernel, *args)
            with thread_limit(threads):
                return kernel(*args)
        chosen = self.choose(threads)
        start = time.perf_counter()
        if chosen == 1:
            result = call_single_threaded(kernel, *args)
        else:
            with thread_limit(chosen):
                result = kernel(*args)
        took = time.perf_counter() - start
        self.record(chosen, took / n_sweeps, took)
        return result
