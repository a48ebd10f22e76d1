"""Several processes compiling one cached kernel for different signatures at once must not
overwrite each other's machine code (a cold cache under ``make test -n 2``, a process pool, two
jobs of one user): each signature loads its own code afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

KERNEL = """
from thermolearn.kernel_cache import njit

@njit(cache=True)
def twice(x):
    return x + x
"""

# compile one signature with the index read widened to half a second, so that without the guard
# every process reads the empty index before any of them writes (the race, made certain)
COMPILE = """
import sys, time
sys.path.insert(0, {folder!r})
from numba.core import caching
read = caching.IndexDataCacheFile._load_index
def slow_read(self):
    out = read(self)
    time.sleep(0.5)
    return out
caching.IndexDataCacheFile._load_index = slow_read
{guard}
import numpy as np, kernel_module
value = {{"int": np.int64(3), "float": np.float64(3.5), "complex": np.complex128(1 + 2j)}}[sys.argv[1]]
assert kernel_module.twice(value) == value + value
"""

CHECK = """
import sys
sys.path.insert(0, {folder!r})
import numpy as np, kernel_module
for value in (np.int64(3), np.float64(3.5), np.complex128(1 + 2j)):
    got = kernel_module.twice(value)
    assert got == value + value and np.asarray(got).dtype.kind == np.asarray(value).dtype.kind, (value, got)
assert len(kernel_module.twice.stats.cache_hits) == 3, kernel_module.twice.stats
"""


def _race(tmp_path: Path, guard: str) -> subprocess.CompletedProcess:
    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "kernel_module.py").write_text(textwrap.dedent(KERNEL))
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    script = COMPILE.format(folder=str(folder), guard=guard)
    processes = [
        subprocess.Popen([sys.executable, "-c", script, kind], env=env, stderr=subprocess.PIPE, text=True)
        for kind in ("int", "float", "complex")
    ]
    for process in processes:
        _, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
    return subprocess.run(
        [sys.executable, "-c", CHECK.format(folder=str(folder))], env=env, capture_output=True, text=True, timeout=240
    )


def test_concurrent_compiles_of_one_kernel_keep_one_data_file_per_signature(tmp_path):
    check = _race(tmp_path, guard="")  # thermolearn.kernel_cache installs the guard on import
    assert check.returncode == 0, check.stderr[-3000:]


def test_the_race_is_real_without_the_guard(tmp_path):
    """The negative control: Numba's own save, with the same widened window, loses signatures."""
    unguarded = "import thermolearn.kernel_cache as k; k.caching.IndexDataCacheFile.save = k._UNLOCKED_SAVE"
    check = _race(tmp_path, guard=unguarded)
    assert check.returncode != 0, "the control did not reproduce the race; the test above proves nothing"
