"""Numba's on-disk kernel cache, made safe for several processes compiling at once.

Every compiled kernel is ``@njit(cache=True)``. Numba stores each kernel as an index (signature
-> data file name) plus one data file per signature, and picks the name of a new data file from
the index it read *before* compiling. Two processes that compile the same kernel for two
different signatures at the same time (two test workers, a process pool, two users' jobs on a
cold cache) can therefore both choose ``.1`` and overwrite each other's machine code: the next
process loads code compiled for other argument types and crashes (SIGSEGV) or computes garbage.

:func:`install` makes each save hold an exclusive ``flock`` on ``INDEX.lock`` while it re-reads
the index, picks the name and writes both files, so names and signatures stay one to one.
Kernel modules take ``njit`` from here, which installs the guard before the first compile.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import numba
from numba.core import caching

_INSTALLED = False
_UNLOCKED_SAVE = caching.IndexDataCacheFile.save  # Numba's own save, kept for the test's control


@contextlib.contextmanager
def _index_lock(index_path: str) -> Any:
    import fcntl

    fd = os.open(index_path + ".lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def install() -> None:
    """Serialise Numba cache saves across processes (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    unlocked_save = _UNLOCKED_SAVE

    def save(self: Any, key: Any, data: Any) -> None:
        try:
            lock = _index_lock(self._index_path)
            lock.__enter__()
        except OSError:  # a cache folder without locking (read-only, odd file system): as before
            unlocked_save(self, key, data)
            return
        try:
            unlocked_save(self, key, data)  # it re-reads the index: inside the lock, it is current
        finally:
            lock.__exit__(None, None, None)

    caching.IndexDataCacheFile.save = save
    _INSTALLED = True


install()
njit = numba.njit
