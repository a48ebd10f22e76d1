"""Running ``thermolearn`` cases for the fuzz suites: in a forked child (fast: the parent has
already imported everything) or in a fresh subprocess (the real entry point).

A forked child calls :func:`thermolearn.cli.main.main` in-process, so a case costs milliseconds,
yet a crash (SIGSEGV, ``free(): invalid next size``, an XLA abort), a hang or a runaway
allocation kills only the child: the parent sees the signal and reports it.
"""

from __future__ import annotations

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


def run_forked(
    argv: Sequence[str],
    cwd: Path,
    *,
    timeout: float = 60.0,
    memory_limit_bytes: int | None = None,
    before: Callable[[], None] | None = None,
) -> Outcome:
    """``main(argv)`` in a forked child with its working folder ``cwd``; stdout/stderr captured."""
    from thermolearn.cli.main import main

    with tempfile.TemporaryDirectory(prefix="fuzz-io-") as io_dir:
        out_path, err_path = Path(io_dir, "out"), Path(io_dir, "err")
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
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
        timed_out = False
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() - start > timeout:
                timed_out = True
                with_suppressed_kill(pid)
                _, status = os.waitpid(pid, 0)
                break
            time.sleep(0.005)
        seconds = time.monotonic() - start
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return Outcome(code, sig, timed_out, _read(out_path), _read(err_path), seconds)


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
