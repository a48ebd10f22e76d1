"""A compiled kernel called without Numba's dispatcher, for per-sweep calls of small systems.

A call through a Numba dispatcher types every argument and looks the signature up among the
kernel's compiled overloads before it runs the machine code: for the two dozen arguments of a
lattice kernel that is about 0.5 us, as long as a third of a whole Metropolis sweep of a 16x16
lattice. The compiled overload's own entry point (what the dispatcher calls in the end) takes
the arguments as they are: 0.2 us for the same call.

The entry point converts each argument to the native type of the signature it was compiled for
and checks almost nothing: an array whose items have another size is refused, but one of another
dtype of the same size (int64 for float64), another number of dimensions or another memory layout
is read as if it had the compiled type. So it is called only with arguments whose types are
fixed: the caller keeps the argument objects themselves and checks that they are still the same
objects (an array object keeps its dtype, and its layout as long as its shape is unchanged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: entries by (kernel, type key of the arguments): Numba's own typing of two dozen arguments takes
#: about 0.1 ms, which a caller that alternates between chains would pay at every switch
_ENTRIES: dict[tuple, Callable] = {}


def _type_key(value: object) -> object:
    """What Numba's type of an argument depends on: an array's dtype, rank, memory layout,
    writability and alignment; another value's Python type (an int is an int64, a float a float64)."""
    if isinstance(value, np.ndarray):
        flags = value.flags
        return (value.dtype, value.ndim, flags.c_contiguous, flags.f_contiguous, flags.writeable, flags.aligned)
    return type(value)


def entry_point(kernel: Any, arguments: tuple) -> Callable:
    """The compiled entry of Numba dispatcher ``kernel`` for the types of ``arguments`` (compiled,
    or loaded from the on-disk cache, if it is not yet), so that ``entry_point(kernel, args)(*args)``
    runs the kernel as ``kernel(*args)`` does. Where this Numba offers none, ``kernel`` itself."""
    key = (kernel, tuple(_type_key(value) for value in arguments))
    entry = _ENTRIES.get(key)
    if entry is not None:
        return entry
    try:
        signature = tuple(kernel.typeof_pyval(value) for value in arguments)
        entry = kernel.compile(signature)
    except AttributeError:  # not a CPU dispatcher (or a Numba without these methods): the dispatcher itself
        return kernel
    if not callable(entry):
        return kernel
    _ENTRIES[key] = entry
    return entry
