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

:func:`install` also fixes two more ways the cache goes wrong:

- Numba keys a cached kernel on its *own* file's contents and its name; nothing records the code
  or constants it takes from other files (``next64`` from ``randomness/xoshiro.py``, a rule's
  decision inlined into a driver), so after an edit or an upgrade of one file a warm cache would
  run stale machine code. For every file of this package the stamp Numba stores is therefore
  :func:`package_source_stamp`, a hash of all the package's kernel files (every ``.py`` that uses
  ``njit``): a change in any of them makes every kernel of the package compile afresh.
- With no writable cache folder (a read-only install, no ``NUMBA_CACHE_DIR``, no writable home)
  Numba refuses to compile a ``cache=True`` kernel at all. Kernels are then cached in a private
  folder of the temporary directory or, failing that, compiled without a cache, and one
  RuntimeWarning per process says so and how to fix it (set ``NUMBA_CACHE_DIR``).

:func:`bind_globals` makes one kernel template into several kernels, each compiled (and cached)
on its own first call: a run compiles only the variant it uses (what a cold start pays for).
:func:`default_jax_cache` gives JAX's compiled functions a persistent cache too, for processes
(the command line) that did not choose one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
import tempfile
import types
import warnings
from collections.abc import Callable
from typing import Any

_INSTALLED = False
_numba_save: Any = None  # Numba's own save (the unguarded one), once install() has run
_numba_source_stamp: Any = None  # Numba's own source stamp, once install() has run

#: the package's folder: the files under it get the package-wide source stamp
PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))
# what makes a .py file a kernel file, for the package-wide stamp: every kernel (and every helper a
# kernel calls or constant it reads from another file: all live in files that define kernels) comes
# from ``njit``
_KERNEL_MARKERS = (b"njit", b"prange")
_package_stamp: str | None = None
_in_package: dict[str, bool] = {}
_WARNED_NO_CACHE = False


def _kernel_files(root: str) -> list[tuple[str, bytes]]:
    """(path relative to ``root``, contents) of every kernel file under ``root``, in a fixed order."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                data = f.read()
            if any(marker in data for marker in _KERNEL_MARKERS):
                found.append((os.path.relpath(path, root).replace(os.sep, "/"), data))
    return found


def source_stamp_of(root: str) -> str:
    """A hash of the names and contents of the kernel files under ``root`` (see :func:`package_source_stamp`)."""
    h = hashlib.sha256()
    for name, data in _kernel_files(root):
        h.update(b"%s\0%d\0" % (name.encode(), len(data)))
        h.update(data)
    return h.hexdigest()


def package_source_stamp() -> str:
    """The source stamp Numba's cache stores for every kernel of this package: a hash of the contents
    of all the package's kernel files, so that a kernel is compiled again when any code or constant
    it uses changes, whichever file of the package it lives in. Computed once per process, on the
    first compile or cache load (a few ms: it reads the package's sources)."""
    global _package_stamp
    if _package_stamp is None:
        _package_stamp = source_stamp_of(PACKAGE_DIR)
    return _package_stamp


def _is_package_file(path: str) -> bool:
    got = _in_package.get(path)
    if got is None:
        got = _in_package[path] = os.path.realpath(path).startswith(PACKAGE_DIR + os.sep)
    return got


def _warn_no_cache(what: str) -> None:
    """One RuntimeWarning per process: no writable folder for Numba's cache."""
    global _WARNED_NO_CACHE
    if _WARNED_NO_CACHE:
        return
    _WARNED_NO_CACHE = True
    warnings.warn(
        "Numba found no writable folder for its on-disk cache of compiled kernels (their source folders' "
        "__pycache__ folders, NUMBA_CACHE_DIR and the user cache folder are all unset or read-only); "
        f"{what}. Set NUMBA_CACHE_DIR to a writable folder to keep compiled kernels between runs.",
        RuntimeWarning,
        stacklevel=2,
    )


def _fallback_cache_dir() -> str | None:
    """A folder of the temporary directory private to this user (created 0700), or None when there is
    none that is safe to load machine code from (another user's, or one others may write to)."""
    path = os.path.join(tempfile.gettempdir(), f"thermolearn-numba-cache-{os.getuid()}")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    return path


def _fallback_locator(caching: Any) -> type:
    """Numba cache locator used after all of Numba's own found no writable folder."""

    class TemporaryFolderLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
        def __init__(self, py_func: Any, py_file: str, base: str) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = os.path.join(base, self.get_suitable_cache_subpath(py_file))

        def get_cache_path(self) -> str:
            return self._cache_path

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not os.path.exists(py_file):
                return None
            base = _fallback_cache_dir()
            if base is None:
                return None
            self = cls(py_func, py_file, base)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            _warn_no_cache(f"caching them in {base} instead")
            return self

    return TemporaryFolderLocator


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
    """Serialise Numba cache saves across processes, stamp the package's kernels with
    :func:`package_source_stamp` and add the temporary-folder fallback locator (idempotent)."""
    global _INSTALLED, _numba_save, _numba_source_stamp
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

    file_stamp = _numba_source_stamp = caching._SourceFileBackedLocatorMixin.get_source_stamp

    def get_source_stamp(self: Any) -> Any:
        path = getattr(self, "_py_file", None)
        if path is None or getattr(sys, "frozen", False) or not _is_package_file(path):
            return file_stamp(self)
        return ("thermolearn-package", package_source_stamp())

    caching._SourceFileBackedLocatorMixin.get_source_stamp = get_source_stamp
    caching.CacheImpl._locator_classes = [*caching.CacheImpl._locator_classes, _fallback_locator(caching)]
    _INSTALLED = True


def _compile(numba_njit: Callable, function: Any, args: tuple, options: dict[str, Any]) -> Any:
    try:
        return numba_njit(*args, **options)(function)
    except RuntimeError as exc:  # no locator at all (not even the temporary folder): compile uncached
        if "no locator available" not in str(exc):
            raise
        _warn_no_cache("compiling them without a cache (every process compiles again)")
        return numba_njit(*args, **{**options, "cache": False})(function)


def _njit(*args: Any, **options: Any) -> Any:
    """Numba's ``njit``, except that a ``cache=True`` kernel that finds no cache folder at all is
    compiled without one (with the one warning) rather than raising."""
    import numba

    if not options.get("cache"):
        return numba.njit(*args, **options)
    if args and isinstance(args[0], types.FunctionType):  # njit(function, cache=True)
        return _compile(numba.njit, args[0], args[1:], options)
    return lambda function: _compile(numba.njit, function, args, options)


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
    ``~/.cache/thermolearn/jax``) unless ``JAX_COMPILATION_CACHE_DIR`` is set already, and, unless
    ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS`` is set, cache every compilation of 0.1 s or more
    (JAX's default keeps only those over 1 s), wherever the folder is; returns the folder.

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
    """``njit`` (Numba's, with the guard installed and the no-cache fallback), and for the tests Numba's ``caching`` module and
    its own ``_UNLOCKED_SAVE``, imported on first use: a command that never compiles (``--version``,
    or one that only needs :func:`default_jax_cache`) does not pay for importing Numba."""
    if name in ("njit", "caching", "_UNLOCKED_SAVE"):
        install()
        from numba.core import caching

        return {"njit": _njit, "caching": caching, "_UNLOCKED_SAVE": _numba_save}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
