"""kernel_entry.entry_point: the compiled entry of a kernel for fixed argument types runs the
kernel as its dispatcher does."""

from __future__ import annotations

import numpy as np

from thermolearn.kernel_cache import njit
from thermolearn.kernel_entry import entry_point


@njit(_nrt=False)
def _scaled_sum(values, factor, out):
    total = 0.0
    for v in values:
        total += v
    out[0] = total * factor
    return total


def test_the_entry_runs_the_kernel_as_the_dispatcher_does():
    values = np.arange(5.0)
    out = np.zeros(1)
    args = (values, 3, out)
    entry = entry_point(_scaled_sum, args)
    assert entry is not _scaled_sum
    assert entry(*args) == 10.0 and out[0] == 30.0
    values[0] = 2.0
    assert entry(*args) == _scaled_sum(*args) == 12.0  # the kernel reads the arrays of each call
    assert len(_scaled_sum.overloads) == 1  # the entry is that of the dispatcher's own overload


def test_a_plain_function_is_its_own_entry():
    def plain(a, b):
        return a + b

    assert entry_point(plain, (1, 2)) is plain


def test_entries_are_kept_per_argument_types():
    from thermolearn.kernel_entry import _ENTRIES

    a = (np.arange(3.0), 2, np.zeros(1))
    b = (np.arange(7.0), 5, np.zeros(1))  # other objects of the same types: the same entry, from the cache
    first = entry_point(_scaled_sum, a)
    assert entry_point(_scaled_sum, b) is first
    assert first(*b) == 21.0 and b[2][0] == 105.0
    readonly = np.arange(3.0)
    readonly.flags.writeable = False  # another Numba type (a read-only array): another entry
    assert entry_point(_scaled_sum, (readonly, 2, np.zeros(1))) is not first
    assert sum(1 for key in _ENTRIES if key[0] is _scaled_sum) >= 2
