"""Files: arrays in ``.npz`` with a JSON header, written atomically, never pickled.

A file is either complete or absent: writes go to a temporary file in the same folder,
are flushed to disk, and are renamed over the target in one step. Temporary files carry the
writer's process id, so one left behind by a killed process is removed by the next write.

Reading never trusts the file: a truncated, bit-flipped, empty or foreign file, an array whose
declared shape does not match the bytes it holds, an object array or a header that is not a
JSON object raises :class:`FileFormatError` naming the file, before anything is allocated from
the file's claims.
"""

from __future__ import annotations

import contextlib
import errno
import json
import lzma
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

HEADER_KEY = "__header__"

# the largest header a thermolearn file writes is a few kB; refuse absurd ones before decoding
MAX_HEADER_BYTES = 16 * 2**20


class FileFormatError(ValueError):
    """A file that cannot be read as what it claims to be; the message names the file and the fault."""


class FileInUseError(ValueError):
    """Another running process holds the lock of a checkpoint (or other exclusive) path."""


def _umask_at_import() -> int:
    # read once, at import (before this library starts any thread); os.umask can only be read by setting it
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK_AT_IMPORT = _umask_at_import()


def _process_umask() -> int:
    """This process's umask, read without changing it: from /proc where there is one (Linux),
    else the umask this module saw at import."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    return _UMASK_AT_IMPORT


# every file this process has written completely, in order: a command that fails after some of
# its outputs exist can say which ones are there (and which are not)
_WRITTEN: list[Path] = []


def written_files() -> list[Path]:
    """The files this process has completed with :func:`atomic_write`, oldest first."""
    return list(_WRITTEN)


def _temporary_prefix(target: Path, pid: int | None = None) -> str:
    return f".{target.name}.{os.getpid() if pid is None else pid}."


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Delete temporary files of ``path`` left by writers that no longer run; returns them."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    removed = []
    with contextlib.suppress(OSError):
        for candidate in folder.glob(f".{target.name}.*.tmp"):
            pid_text = candidate.name[len(target.name) + 2 :].split(".", 1)[0]
            if pid_text.isdigit() and not _process_alive(int(pid_text)):
                with contextlib.suppress(OSError):
                    candidate.unlink()
                    removed.append(candidate)
    return removed


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(fileobj)`` on a temporary file, then rename it to ``path`` atomically."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {target}: folder {folder} does not exist")
    if target.is_dir():
        raise ValueError(f"cannot write {target}: it is a folder; give a file name")
    remove_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(target), suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        # The umask is read, never set: setting it (even briefly) would race with other threads
        os.chmod(tmp, 0o666 & ~_process_umask())
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.errno is not None:
            # name the file the user asked for, not the temporary one (full disk, quota, ...)
            raise OSError(exc.errno, f"cannot write {target}: {exc.strerror or exc}") from None
        raise
    _WRITTEN.append(target)
    return target


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike, *, what: str = "checkpoint") -> Iterator[Path]:
    """Hold ``PATH.lock`` exclusively while the block runs, so two processes never share ``path``.

    The lock is an advisory ``flock`` held for the life of the block (the kernel drops it when the
    process dies, even by SIGKILL, so a killed run never blocks its own resume). A second process
    gets :class:`FileInUseError` at once, naming the path and the process that holds it. The lock
    file is removed when the block ends.
    """
    import fcntl

    target = Path(path)
    lock = _lock_path(target)
    folder = lock.parent if str(lock.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot use {what} {target}: folder {folder} does not exist")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "another process"
            os.close(fd)
            raise FileInUseError(
                f"{what} {target} is in use by process {holder}; wait for it to finish or give another path"
            ) from None
        # the holder before us may have removed the file between our open and our lock
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        yield target
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (NaN and inf are refused)."""
    text = json.dumps(data, indent=2, allow_nan=False, default=_json_default)
    return write_text_atomic(path, text + "\n")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def save_arrays(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> Path:
    """Save named arrays and a JSON-serialisable header to one ``.npz`` file, atomically."""
    if HEADER_KEY in arrays:
        raise ValueError(f"array name {HEADER_KEY!r} is reserved for the header")
    header_bytes = np.frombuffer(json.dumps(dict(header), default=_json_default).encode("utf-8"), dtype=np.uint8)
    payload: dict[str, Any] = {name: np.asarray(value) for name, value in arrays.items()}
    for name, value in payload.items():
        if value.dtype == object:
            raise TypeError(f"array {name!r} has dtype object; only numeric arrays can be saved")
    payload[HEADER_KEY] = header_bytes
    return atomic_write(path, lambda handle: np.savez(handle, **payload))


def read_npy_stream(handle: IO[bytes], size: int, what: str) -> np.ndarray:
    """One ``.npy`` stream of ``size`` bytes, its declared shape checked against its bytes first.

    A stream that claims a huge shape, holds objects or non-numbers, or is cut short raises
    :class:`FileFormatError` starting with ``what`` (the file, and the member if any) before
    anything of the claimed size is allocated. Nothing is unpickled.
    """
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
    except (ValueError, TypeError, SyntaxError, EOFError) as exc:
        raise FileFormatError(f"{what} has a damaged header ({' '.join(str(exc).split())})"[:300]) from None
    if dtype.hasobject:
        raise FileFormatError(f"{what} holds Python objects (dtype {dtype}); thermolearn reads numbers only")
    if dtype.kind not in "biufc" or dtype.itemsize == 0:
        raise FileFormatError(f"{what} has dtype {dtype}; thermolearn reads numbers only")
    count = 1
    for dim in shape:
        count *= int(dim)
    expected = count * dtype.itemsize
    available = size - handle.tell()
    if expected != available:
        raise FileFormatError(
            f"{what} declares shape {tuple(shape)} ({expected} bytes) but holds {available} bytes; the file is damaged"
        )
    data = handle.read(expected)
    if len(data) != expected:
        raise FileFormatError(f"{what} is truncated ({len(data)} of {expected} bytes)")
    flat = np.frombuffer(data, dtype=dtype).copy()
    return flat.reshape(shape, order="F" if fortran else "C")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: Path) -> tuple[str, np.ndarray]:
    """One ``.npy`` member of an archive (see :func:`read_npy_stream`)."""
    name = info.filename.removesuffix(".npy")
    with archive.open(info) as handle:
        return name, read_npy_stream(handle, info.file_size, f"{source}: array {name!r}")


def load_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Load ``(arrays, header)`` from a file written by :func:`save_arrays` (no pickle).

    Raises :class:`FileFormatError` (a ``ValueError``) naming the file if it is damaged, is not
    a thermolearn ``.npz`` file, or its header is not a JSON object.
    """
    source = Path(path)
    if not source.is_file():
        if source.is_dir():
            raise FileFormatError(f"{source} is a folder; give the path of a .npz file")
        raise FileFormatError(f"no such file: {source}")
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(source) as archive:
            from thermolearn.resources import check_memory

            members = archive.infolist()
            for info in members:
                if not info.filename.endswith(".npy"):
                    raise FileFormatError(f"{source}: unexpected member {info.filename!r}; not a thermolearn .npz file")
                if info.flag_bits & 0x1:
                    # zipfile would ask for a password; thermolearn never writes encrypted members
                    raise FileFormatError(
                        f"{source}: member {info.filename!r} is marked encrypted; not a thermolearn .npz file"
                    )
            check_memory(f"reading {source}", sum(info.file_size for info in members))
            for info in members:
                name, array = _read_member(archive, info, source)
                arrays[name] = array
    except FileFormatError:
        raise
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        EOFError,
        NotImplementedError,
        KeyError,
        ValueError,
        OSError,
    ) as exc:
        if (
            isinstance(exc, OSError)
            and not isinstance(exc, zipfile.BadZipFile)
            and exc.errno is not None
            and exc.errno != errno.EINVAL  # a seek to the negative offset a damaged directory gives
        ):
            raise  # permission denied and the like: the OS's own message names the file
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise FileFormatError(f"{source} is damaged or not a thermolearn .npz file ({detail})") from None
    if HEADER_KEY not in arrays:
        raise FileFormatError(f"{source} has no JSON header; was it written by thermolearn?")
    raw = arrays.pop(HEADER_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_HEADER_BYTES:
        raise FileFormatError(f"{source}: the header must be up to {MAX_HEADER_BYTES} bytes of UTF-8 JSON")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FileFormatError(f"{source}: the header is not valid UTF-8 JSON ({exc.__class__.__name__})") from None
    if not isinstance(header, dict):
        raise FileFormatError(f"{source}: the header must be a JSON object, got {type(header).__name__}")
    return arrays, header
