"""Running ``thermolearn`` cases for the fuzz suites: in a forked child (fast: the parent has
already imported everything) or in a fresh subprocess (the real entry point).

A forked child calls :func:`thermolearn.cli.main.main` in-process, so a case costs milliseconds,
yet a crash (SIGSEGV, ``free(): invalid next size``, an XLA abort), a hang or a runaway
allocation kills only the child: the parent sees the signal and reports it. Children fork from
a multiprocessing fork server that has only imported the library: forking pytest's own process,
once it has run JAX or threaded kernels, can leave a child waiting forever on a lock.
"""

from __future__ import annotations

import functools
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GENERIC_MEMORY_ERROR = "not enough memory for these sizes"


@dataclass
class Outcome:
    """What one run did: exit code (None when killed by a signal or the timeout), the signal, stdout, stderr."""

    code: int | None
    signal: int | None
    timed_out: bool
    out: str
    err: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]

    def describe(self) -> str:
        what = f"exit {self.code}" if self.code is not None else f"signal {self.signal}"
        if self.timed_out:
            what = "timed out"
        return f"{what} after {self.seconds:.1f} s; stderr:\n{self.err[-3000:]}"


def _address_space_limit(extra_bytes: int) -> None:
    # the parent has mapped JAX and friends; allow that plus a bounded amount more
    with open("/proc/self/status", encoding="ascii") as handle:
        size = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmSize:"))
    limit = size + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


# modules a case needs, imported once by the fork server (never run there: a process that has
# run JAX or threaded kernels cannot fork safely, its children may wait forever on a lock)
PRELOAD = [
    "numpy",
    "jax",
    "thermolearn.cli.main",
    "thermolearn.runs.sample",
    "thermolearn.learning.contrastive_divergence",
    "thermolearn.diffusion.training",
    "thermolearn.diffusion.model",
    "tests.fuzz_preload",
    "tests.fuzz_runner",
]

_CONTEXT: Any = None


def _fork_server() -> Any:
    """The multiprocessing context whose children fork from a fresh server that only imported
    :data:`PRELOAD` (pytest's own process may have run JAX and threaded kernels)."""
    global _CONTEXT
    if _CONTEXT is None:
        import multiprocessing

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _CONTEXT = context
    return _CONTEXT


def _child(
    argv: Sequence[str],
    cwd: str,
    out_path: str,
    err_path: str,
    memory_limit_bytes: int | None,
    before: Callable[[], None] | None,
) -> None:
    """Run ``main(argv)`` with stdout and stderr sent to files; exit with its code."""
    code = 99
    try:
        os.setpgid(0, 0)
        out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(cwd)
        if memory_limit_bytes is not None:
            _address_space_limit(memory_limit_bytes)
        if before is not None:
            before()
        from thermolearn.cli.main import main

        code = int(main(list(argv)))
    except BaseException:  # noqa: BLE001 - report anything that escapes main()
        traceback.print_exc()
        code = 99
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_forked(
    argv: Sequence[str],
    cwd: Path,
    *,
    timeout: float = 60.0,
    memory_limit_bytes: int | None = None,
    before: Callable[[], None] | None = None,
) -> Outcome:
    """``main(argv)`` in a child forked by the fork server, in the folder ``cwd``.

    ``before`` (picklable: see :func:`interrupt_after`, :func:`kill_on_call`,
    :func:`fail_on_call`) runs in the child first. A child still running after ``timeout``
    seconds is killed with SIGKILL (a kill at a chosen moment).
    """
    with tempfile.TemporaryDirectory(prefix="fuzz-io-") as io_dir:
        out_path, err_path = Path(io_dir, "out"), Path(io_dir, "err")
        start = time.monotonic()
        process = _fork_server().Process(
            target=_child, args=(list(argv), str(cwd), str(out_path), str(err_path), memory_limit_bytes, before)
        )
        process.start()
        process.join(timeout)
        timed_out = process.is_alive()
        if timed_out:
            with_suppressed_kill(process.pid)
            process.join()
        seconds = time.monotonic() - start
        exitcode = process.exitcode
        code = exitcode if exitcode is not None and exitcode >= 0 else None
        sig = -exitcode if exitcode is not None and exitcode < 0 else None
        return Outcome(code, sig, timed_out, _read(out_path), _read(err_path), seconds)


def _install_interrupt(module: str, function: str, calls: int) -> None:
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, function)
    count = [0]

    def wrapper(*a: Any, **k: Any) -> Any:
        result = real(*a, **k)
        count[0] += 1
        if count[0] == calls:
            raise KeyboardInterrupt
        return result

    setattr(mod, function, wrapper)


def interrupt_after(module: str, function: str, calls: int) -> Callable[[], None]:
    """A ``before`` hook: Ctrl-C right after the ``calls``-th call of ``module.function``."""
    return functools.partial(_install_interrupt, module, function, calls)


def _install_on_call(module: str, function: str, call: int, action: str, error_number: int) -> None:
    import importlib

    mod = importlib.import_module(module)
    real = getattr(mod, function)
    count = [0]

    def wrapper(*a: Any, **k: Any) -> Any:
        count[0] += 1
        if count[0] == call:
            if action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise OSError(error_number, os.strerror(error_number))
        return real(*a, **k)

    setattr(mod, function, wrapper)


def kill_on_call(module: str, function: str, call: int) -> Callable[[], None]:
    """A ``before`` hook: SIGKILL the child on the ``call``-th call of ``module.function``."""
    return functools.partial(_install_on_call, module, function, call, "kill", 0)


def fail_on_call(module: str, function: str, call: int, error_number: int) -> Callable[[], None]:
    """A ``before`` hook: the ``call``-th call of ``module.function`` raises ``OSError(error_number)``."""
    return functools.partial(_install_on_call, module, function, call, "fail", error_number)


def with_suppressed_kill(pid: int) -> None:
    """SIGKILL the child ``pid`` (and its process group) if it still runs."""
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return ""


def subprocess_env() -> dict[str, str]:
    """The environment of a ``python -m thermolearn`` child: this interpreter's, plus quiet threads."""
    env = dict(os.environ)
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    src = str(Path(__file__).resolve().parent.parent / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def thermolearn_command(argv: Sequence[str]) -> list[str]:
    """The command line of the real entry point (``python -m thermolearn``)."""
    return [sys.executable, "-m", "thermolearn", *argv]


def run_subprocess(argv: Sequence[str], cwd: Path, *, timeout: float = 120.0) -> Outcome:
    """``python -m thermolearn ARGV`` in ``cwd``."""
    start = time.monotonic()
    try:
        result = subprocess.run(
            thermolearn_command(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=subprocess_env()
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Outcome(None, None, True, out, err, time.monotonic() - start)
    code, sig = (result.returncode, None) if result.returncode >= 0 else (None, -result.returncode)
    return Outcome(code, sig, False, result.stdout, result.stderr, time.monotonic() - start)


def listing(folder: Path) -> dict[str, bytes | None]:
    """Every path under ``folder`` (relative), with the bytes of each file (None for folders)."""
    out: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = path.read_bytes() if path.is_file() else None
    return out
