"""Memory budgets: refuse a job whose arrays cannot fit before allocating any of them.

A size given by a user or read from a file (chains, sweeps, hidden units, a lattice side) is
turned into a byte estimate first; if it exceeds what the machine has free, the job is refused
with the estimate and the available memory in the message, instead of a ``MemoryError`` (or an
operating-system kill) after minutes of work.
"""

from __future__ import annotations

import contextlib
import os

# leave room for the interpreter, JAX and the arrays an estimate does not count
USABLE_FRACTION = 0.8


def _address_space_left() -> int | None:
    """Bytes of address space left under this process's ``RLIMIT_AS`` (None when unlimited)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as handle:
            size = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmSize:"))
        return max(0, soft - size)
    except (ImportError, OSError, ValueError, StopIteration):
        return None


def available_memory_bytes() -> int:
    """Bytes of memory this process can still use: ``MemAvailable`` on Linux (else physical
    memory), and no more than the address space its ``RLIMIT_AS`` (``ulimit -v``) leaves."""
    free = _free_memory_bytes()
    limit = _address_space_left()
    return free if limit is None else min(free, limit)


def _free_memory_bytes() -> int:
    # Linux tells what can be used without swapping; elsewhere fall back to free physical pages
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2**62  # unknown platform: do not refuse


def format_bytes(n_bytes: float) -> str:
    """``1.5 GiB`` style: bytes in binary units, three significant figures."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} PiB"  # pragma: no cover


def check_memory(what: str, n_bytes: float, *, hint: str = "choose smaller sizes") -> None:
    """Raise ``ValueError`` if ``what`` needs more than the usable free memory (bytes).

    ``n_bytes`` may be a float (estimates of absurd sizes overflow int64 otherwise).
    """
    available = available_memory_bytes()
    if n_bytes > USABLE_FRACTION * available:
        raise ValueError(
            f"{what} needs about {format_bytes(n_bytes)} of memory and {format_bytes(available)} is available; {hint}"
        )
