"""Progress bars: one helper, drawn on stderr only when someone is watching.

Every bar in thermolearn goes through :func:`progress_bar`. The rule is the same
everywhere:

* ``progress=False``: never a bar (the CLI's ``--no-progress``);
* ``progress=True``: a bar when stderr is a terminal;
* ``progress=None`` (auto): a bar when stderr is a terminal and the caller says the work
  is long enough to be worth one (``worthwhile``).

No bar is drawn into a pipe, a file or a test's captured stderr unless it is forced with
the environment variable ``THERMOLEARN_PROGRESS=always``; ``THERMOLEARN_PROGRESS=never``
silences every bar. tqdm is imported only when a bar is made, so importing this module
costs nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any

ENVIRONMENT_VARIABLE = "THERMOLEARN_PROGRESS"
_FORCE = ("always", "1", "force")
_NEVER = ("never", "0", "off")


def progress_enabled(progress: bool | None = None, *, worthwhile: bool = True, stream: Any = None) -> bool:
    """Whether a bar should be drawn: see the module docstring for the rule."""
    if progress is not None and not isinstance(progress, bool):
        raise TypeError(f"progress must be True, False or None, got {progress!r}")
    setting = os.environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if progress is False or setting in _NEVER:
        return False
    if progress is None and not worthwhile:
        return False
    if setting in _FORCE:
        return True
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


def progress_bar(
    total: int | None = None,
    *,
    desc: str,
    iterable: Iterable[Any] | None = None,
    progress: bool | None = None,
    worthwhile: bool = True,
    initial: int = 0,
    unit: str = "it",
    leave: bool = True,
) -> Any:
    """A tqdm bar on stderr, disabled (a no-op with the same methods) unless :func:`progress_enabled`.

    Use it as a context manager, ``with progress_bar(total=n, desc="sampling") as bar: bar.update()``,
    or wrap an ``iterable`` and loop over the bar.
    """
    from tqdm import tqdm

    show = progress_enabled(progress, worthwhile=worthwhile)
    return tqdm(
        iterable, total=total, initial=initial, desc=desc, unit=unit, leave=leave, disable=not show, file=sys.stderr
    )
