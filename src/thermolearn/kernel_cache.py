"""Numba's on-disk kernel cache, made safe for several processes compiling at once.

Every compiled kernel is ``@njit(cache=True)``. Numba stores each kernel as an index (signature
-> data file name) plus one data file per signature, and picks the name of a new data file from
the index it read *before* compiling. Two processes that compile the same kernel for two
different signatures at the same time (two test workers, a process pool, two users' jobs on a
cold cache) can therefore both choose ``.1`` and overwrite each other's machine code: the next
process loads code compiled for other argument types and crashes (SIGSEGV) or computes garbage.

:func:`install` makes each save hold an exclusive ``flock`` on ``INDEX.lock`` while it re-reads
the index, picks the name and writes both files, so names and signatures stay one to one.
Kernel modules take ``njit`` from here, which installs the guard before the first compile
(importing this module alone imports no Numba: ``njit`` is looked up on first use).

:func:`bind_globals` makes one kernel template into several kernels, each compiled (and cached)
on its own first call: a run compiles only the variant it uses (what a cold start pays for).
:func:`default_jax_cache` gives JAX's compiled functions a persistent cache too, for processes
(the command line) that did not choose one.
"""

from __future__ import annotations

import contextlib
import os
import types
from collections.abc import Callable
from typing import Any

_INSTALLED = False
_numba_save: Any = None  # Numba's own save (the unguarded one), once install() has run


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
    global _INSTALLED, _numba_save
    if _INSTALLED:
        return
    from numba.core import caching

    unlocked_save = _numba_save = caching.IndexDataCacheFile.save  # kept for the test's control

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


def bind_globals(template: Callable, suffix: str, **bindings: Any) -> Callable:
    """A copy of the plain function ``template`` whose global names ``bindings`` are rebound (e.g.
    the inline function a loop calls), named ``<name>__<suffix>``, for ``njit`` to compile.

    The name matters: Numba's on-disk cache files are named after the function's qualified name
    and first line, not its globals, so every variant needs a ``suffix`` of its own or two variants
    would read each other's machine code.
    """
    if not isinstance(template, types.FunctionType):
        raise TypeError(f"template must be a plain Python function, got {type(template).__name__}")
    if not suffix or not suffix.isidentifier():
        raise ValueError(f"suffix must be a non-empty identifier (it names the cache files), got {suffix!r}")
    env = dict(template.__globals__)
    env.update(bindings)
    name = f"{template.__name__}__{suffix}"
    fn = types.FunctionType(template.__code__, env, name, template.__defaults__, template.__closure__)
    fn.__qualname__ = f"{template.__qualname__}__{suffix}"
    fn.__module__ = template.__module__
    fn.__doc__ = template.__doc__
    return fn


def default_jax_cache(environ: dict[str, str] | None = None) -> str:
    """Point JAX's persistent compilation cache at ``$XDG_CACHE_HOME/thermolearn/jax`` (default
    ``~/.cache/thermolearn/jax``) unless ``JAX_COMPILATION_CACHE_DIR`` is set already, and cache
    every compilation of 0.1 s or more (JAX's default keeps only those over 1 s); returns the folder.

    JAX reads these variables when it is imported, so call this before anything imports JAX
    (it imports nothing itself). ``environ`` defaults to ``os.environ``.
    """
    env: Any = os.environ if environ is None else environ
    if not env.get("JAX_COMPILATION_CACHE_DIR"):
        base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        env["JAX_COMPILATION_CACHE_DIR"] = os.path.join(base, "thermolearn", "jax")
        env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
    return str(env["JAX_COMPILATION_CACHE_DIR"])


def __getattr__(name: str) -> Any:
    """``njit`` (Numba's, with the guard installed), and for the tests Numba's ``caching`` module and
    its own ``_UNLOCKED_SAVE``, imported on first use: a command that never compiles (``--version``,
    or one that only needs :func:`default_jax_cache`) does not pay for importing Numba."""
    if name in ("njit", "caching", "_UNLOCKED_SAVE"):
        install()
        import numba
        from numba.core import caching

        return {"njit": numba.njit, "caching": caching, "_UNLOCKED_SAVE": _numba_save}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
