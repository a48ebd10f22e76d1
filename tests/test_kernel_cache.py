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


# ------------------------------------------------------------------ what a cached kernel depends on
def _rule_tag(*functions):
    from thermolearn.samplers.rules import SpinFlipRule

    return SpinFlipRule("probe", *functions)._tag


def test_rule_tag_follows_the_values_of_the_globals_a_rule_reads(monkeypatch):
    """Editing (or monkeypatching) a constant the rule reads, here in the rule's own file, must give
    its drivers another name: Numba freezes the value into the machine code it caches."""
    from thermolearn.samplers import rules

    before = rules.METROPOLIS._tag
    assert rules.HEAT_BATH._tag != before
    monkeypatch.setattr(rules, "FREE_FLIP_ACCEPTANCE", 0.5)
    patched = rules.METROPOLIS._tag
    assert patched != before
    monkeypatch.setattr(rules, "FREE_FLIP_ACCEPTANCE", 0.9)
    assert rules.METROPOLIS._tag == before
    # the constant a helper in another file reads counts too (next_uniform -> MANTISSA)
    from thermolearn.randomness import xoshiro

    monkeypatch.setattr(xoshiro, "MANTISSA", xoshiro.MANTISSA / 2)
    assert rules.METROPOLIS._tag not in (before, patched)


FACTORY = """
import math
from thermolearn.kernel_cache import njit
from thermolearn.randomness.xoshiro import next_uniform

def make_decide(p):
    @njit(inline="always")
    def decide(si, phi, beta, s0, s1, s2, s3):
        de = 2.0 * si * phi
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        flip = u < p * math.exp(min(0.0, -beta * de))
        return flip, de, s0, s1, s2, s3
    return decide
"""


def _factory(offset: int = 0, filename: str = "<factory>") -> dict:
    namespace: dict = {}
    exec(compile("\n" * offset + FACTORY, filename, "exec"), namespace)
    return namespace


def test_rule_tag_follows_closure_values_and_ignores_line_numbers_and_file_names():
    make = _factory()["make_decide"]
    assert _rule_tag(make(0.5)) == _rule_tag(make(0.5))
    assert _rule_tag(make(0.5)) != _rule_tag(make(1.0))
    moved = _factory(offset=37, filename="<elsewhere>")["make_decide"]
    assert moved(0.5).py_func.__code__.co_firstlineno != make(0.5).py_func.__code__.co_firstlineno
    assert _rule_tag(moved(0.5)) == _rule_tag(make(0.5))
    from thermolearn.samplers import rules

    # a comment (line numbers) moves nothing; the code itself does
    assert _rule_tag(rules.metropolis_decide) == _rule_tag(rules.metropolis_decide)
    assert _rule_tag(rules.metropolis_decide) != _rule_tag(rules.always_free_metropolis_decide)


def test_rules_made_by_a_factory_with_different_closure_values_run_their_own_code():
    """Two rules of one name that differ only in a captured value shared one cache entry (the
    second ran the first's machine code, even in one process)."""
    import hashlib

    import thermolearn as tl
    from thermolearn.samplers import ChainState
    from thermolearn.samplers.rules import SpinFlipRule
    from thermolearn.samplers.single_spin import SingleSpinSampler

    make = _factory()["make_decide"]

    def run(p):
        class Sampler(SingleSpinSampler):
            name = "factory-rule"
            rule = SpinFlipRule("factory-rule", make(p))

        model = tl.Ising.lattice((6, 6))
        state = ChainState.new(model, 1, seed=7)
        Sampler().sweep(model, state, 0.4, 50)
        return hashlib.sha1(state.spins.tobytes() + state.rng.tobytes()).hexdigest()

    half, whole, half_again = run(0.5), run(1.0), run(0.5)
    assert half != whole
    assert half == half_again


# ------------------------------------------------------------------ the package-wide source stamp
def test_package_source_stamp_follows_the_contents_of_every_kernel_file(tmp_path):
    from thermolearn.kernel_cache import source_stamp_of

    (tmp_path / "sub").mkdir()
    (tmp_path / "kernels.py").write_text("from numba import njit\nX = 1\n")
    (tmp_path / "sub" / "more.py").write_text("from thermolearn.kernel_cache import njit\nY = 2\n")
    (tmp_path / "plain.py").write_text("Z = 3\n")
    stamp = source_stamp_of(str(tmp_path))
    (tmp_path / "plain.py").write_text("Z = 4  # not a kernel file\n")
    assert source_stamp_of(str(tmp_path)) == stamp
    (tmp_path / "sub" / "more.py").write_text("from thermolearn.kernel_cache import njit\nY = 2  # edited\n")
    edited = source_stamp_of(str(tmp_path))
    assert edited != stamp
    (tmp_path / "sub" / "more.py").rename(tmp_path / "sub" / "moved.py")
    assert source_stamp_of(str(tmp_path)) not in (stamp, edited)


def test_the_package_kernels_carry_the_package_stamp_and_others_numba_own():
    import thermolearn.kernel_cache as kernel_cache
    from thermolearn.samplers.rules import count_below

    assert count_below._cache._cache_file._source_stamp == ("thermolearn-package", kernel_cache.package_source_stamp())
    assert kernel_cache.package_source_stamp() == kernel_cache.source_stamp_of(kernel_cache.PACKAGE_DIR)


HELPER = """
from thermolearn.kernel_cache import njit
SCALE = {scale}

@njit(inline="always")
def scaled(x):
    return SCALE * x
"""

USER = """
from thermolearn.kernel_cache import njit
from helper import scaled

@njit(cache=True)
def kernel(x):
    return scaled(x) + 1
"""

RUN_USER = """
import sys
sys.path.insert(0, {folder!r})
import thermolearn.kernel_cache as kernel_cache
kernel_cache.PACKAGE_DIR = {folder!r}  # the folder plays the package
import user
print(user.kernel(10), len(user.kernel.stats.cache_hits))
"""


def test_a_warm_cache_follows_an_edit_of_a_constant_in_another_kernel_file(tmp_path):
    """Numba alone keys ``kernel`` on user.py only: after SCALE changes in helper.py a warm cache
    returned the old machine code (the package stamp makes it compile again)."""
    folder = Path(os.path.realpath(tmp_path)) / "pkg"
    folder.mkdir()
    (folder / "user.py").write_text(USER)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    script = RUN_USER.format(folder=str(folder))

    def run(scale):
        (folder / "helper.py").write_text(HELPER.format(scale=scale))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout.split()

    assert run(2) == ["21", "0"]  # cold
    assert run(2) == ["21", "1"]  # warm: loaded
    assert run(3) == ["31", "0"]  # edited elsewhere: compiled again


# ------------------------------------------------------------------ no writable cache folder
NO_CACHE_KERNELS = """
from thermolearn.kernel_cache import njit

@njit(cache=True)
def plus_one(x):
    return x + 1

def _times_two(x):
    return 2 * x

times_two = njit(cache=True, nogil=True)(_times_two)
"""


def _without_cache_folders(monkeypatch):
    """Every locator of Numba's own finds no writable folder (as in a read-only install with no
    NUMBA_CACHE_DIR and no writable home), and the one-per-process warning is not given yet."""
    import thermolearn.kernel_cache as kernel_cache

    caching = kernel_cache.caching
    none = classmethod(lambda cls, py_func, py_file: None)
    for locator in (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator, caching.UserWideCacheLocator):
        monkeypatch.setattr(locator, "from_function", none)
    monkeypatch.setattr(kernel_cache, "_WARNED_NO_CACHE", False)
    return kernel_cache


def _import_kernels(tmp_path, name):
    import importlib.util
    import warnings

    path = tmp_path / f"{name}.py"
    path.write_text(NO_CACHE_KERNELS)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        spec.loader.exec_module(module)
        assert module.plus_one(2) == 3 and module.times_two(4) == 8
    return module, [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_no_cache_folder_falls_back_to_a_private_temporary_folder_with_one_warning(tmp_path, monkeypatch):
    kernel_cache = _without_cache_folders(monkeypatch)
    fallback = tmp_path / "fallback"
    monkeypatch.setattr(kernel_cache, "_fallback_cache_dir", lambda: str(fallback))
    module, warned = _import_kernels(tmp_path, "kernels_in_temporary_folder")
    assert len(warned) == 1, [str(w.message) for w in warned]
    assert "NUMBA_CACHE_DIR" in str(warned[0].message) and str(fallback) in str(warned[0].message)
    assert module.plus_one._cache.cache_path.startswith(str(fallback))
    assert list(fallback.rglob("*.nbi")), "nothing was cached in the fallback folder"


def test_no_cache_folder_at_all_compiles_without_a_cache_with_one_warning(tmp_path, monkeypatch):
    kernel_cache = _without_cache_folders(monkeypatch)
    monkeypatch.setattr(kernel_cache, "_fallback_cache_dir", lambda: None)
    module, warned = _import_kernels(tmp_path, "kernels_without_cache")
    assert len(warned) == 1, [str(w.message) for w in warned]
    assert "without a cache" in str(warned[0].message) and "NUMBA_CACHE_DIR" in str(warned[0].message)
    assert type(module.plus_one._cache).__name__ == "NullCache"


def test_the_fallback_folder_is_private(tmp_path, monkeypatch):
    import thermolearn.kernel_cache as kernel_cache

    monkeypatch.setattr(kernel_cache.tempfile, "gettempdir", lambda: str(tmp_path))
    path = kernel_cache._fallback_cache_dir()
    assert path is not None and (os.stat(path).st_mode & 0o777) == 0o700
    os.chmod(path, 0o777)  # others could plant machine code there: refuse it
    assert kernel_cache._fallback_cache_dir() is None


def test_default_jax_cache_sets_the_minimum_compile_time_wherever_the_folder_is(tmp_path):
    from thermolearn.kernel_cache import default_jax_cache

    chosen = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path)}
    assert default_jax_cache(chosen) == str(tmp_path)
    assert chosen["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0.1"
    kept = {"JAX_COMPILATION_CACHE_DIR": str(tmp_path), "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "2"}
    default_jax_cache(kept)
    assert kept["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "2"
