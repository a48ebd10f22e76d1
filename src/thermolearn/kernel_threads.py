"""How many threads a compiled loop over independent items (chains, reads, replica groups) uses.

A Numba ``parallel=True`` loop opens a parallel region on every call, with every thread of the
pool, even when there is one chain to run. The idle threads then wait at the region's barrier,
and when another process keeps a core busy the operating system may not schedule them for a
whole time slice: one Wolff sweep per call on a 128 x 128 lattice went from 0.6 ms to 12-24 ms
on two cores with one busy neighbour (Swendsen-Wang 0.5 -> 14 ms).

So a loop over items is compiled twice (:func:`over_items`): a serial kernel, used for one item
or for too little work to pay for waking the pool, with no threading call at all (setting
Numba's thread count costs microseconds per call, which a one-sweep call on a small lattice
notices), and a parallel kernel that runs with min(items, numba.get_num_threads()) threads.
Each is compiled on first use, so a single-chain run never compiles the parallel one. The
kernels' results never depend on the choice: every item owns its spins and generator stream.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Callable, Iterator
from typing import Any

import numba

from thermolearn.kernel_cache import njit


def thread_count(n_items: int, work: int | None = None, min_work: int = 0) -> int:
    """Threads for a loop over ``n_items`` independent items: at most one per item and at most
    ``numba.get_num_threads()``; 1 when ``work`` (any unit, e.g. spin updates) is below ``min_work``."""
    if n_items <= 1 or (work is not None and work < min_work):
        return 1  # decided without asking Numba, whose thread calls take a lock
    return max(1, min(int(n_items), numba.get_num_threads()))


@contextlib.contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Run the body with at most ``threads`` Numba threads (the pool's count restored afterwards)."""
    if threads <= 1:  # serial kernels open no region: nothing to limit
        yield
        return
    pool = numba.get_num_threads()
    if threads >= pool:
        yield
        return
    numba.set_num_threads(threads)
    try:
        yield
    finally:
        numba.set_num_threads(pool)


def _clone(fn: Callable, suffix: str) -> Callable:
    """A copy of ``fn`` under its own name, so Numba's disk cache keeps each compilation apart."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__ + suffix, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__ + suffix
    copy.__module__ = fn.__module__
    copy.__doc__ = fn.__doc__
    return copy


class ItemKernel:
    """One kernel body (a ``prange`` loop over independent items) compiled serial and parallel."""

    def __init__(self, fn: Callable, **options: Any) -> None:
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.serial = njit(cache=True, **options)(_clone(fn, "__serial"))
        self.parallel = njit(cache=True, parallel=True, **options)(_clone(fn, "__parallel"))

    def for_threads(self, threads: int) -> Any:
        """The serial kernel for one thread, the parallel one otherwise."""
        return self.serial if threads <= 1 else self.parallel

    def run(self, n_items: int, *args: Any, work: int | None = None, min_work: int = 0) -> Any:
        """Call the kernel on ``args`` with :func:`thread_count` threads."""
        threads = thread_count(n_items, work, min_work)
        if threads == 1:
            return self.serial(*args)
        with thread_limit(threads):
            return self.parallel(*args)


def over_items(**options: Any) -> Callable[[Callable], ItemKernel]:
    """Decorator: compile a loop over independent items as an :class:`ItemKernel` (``options`` go
    to ``njit``, e.g. ``fastmath``)."""

    def wrap(fn: Callable) -> ItemKernel:
        return ItemKernel(fn, **options)

    return wrap
