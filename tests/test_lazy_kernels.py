"""A cold start compiles only what a run uses, once per machine: the lattice kernels are one
compiled kernel per (lattice kind, site order), each compiled on its own first call and then
loaded from Numba's on-disk cache by every later process (``thermolearn ising`` at L = 16 was
dominated by compiling all three orders into one kernel)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from thermolearn.kernel_cache import bind_globals, default_jax_cache, njit
from thermolearn.models.ising import Ising
from thermolearn.samplers import lattice_kernels
from thermolearn.samplers.state import ChainState

# a fresh process sweeps a 2D lattice in sequential order, then says which lattice kernels hold
# machine code and whether the sequential one came from the disk cache
CHILD = """
import json
from thermolearn import Ising
from thermolearn.samplers import lattice_kernels as lk
from thermolearn.samplers.single_spin import Metropolis
from thermolearn.samplers.state import ChainState
model = Ising.lattice((8, 8))
Metropolis(order="sequential").sweep(model, ChainState.new(model, 1, seed=1), 0.44, 2)
kernels = {k.compiled.py_func.__name__: k.compiled for k in lk._UNIFORM_2D_KERNELS + lk._ANY_LATTICE_KERNELS}
kernels.update({d.py_func.__name__: d for d in lk._UNIFORM_2D_CHAINS + lk._ANY_LATTICE_CHAINS})
stats = kernels["_uniform_2d_chains__sequential"].stats
print(json.dumps({
    "compiled": sorted(name for name, d in kernels.items() if d.signatures),
    "loaded": sum(stats.cache_hits.values()),
    "compiled_here": sum(stats.cache_misses.values()),
}))
"""


def _child() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sequential_2d_run_compiles_only_its_own_kernel_and_the_next_process_loads_it():
    first = _child()  # compiles the kernel, or loads it when an earlier process of this cache did
    assert first["compiled"] == ["_uniform_2d_chains__sequential"]  # one chain: the serial kernel only
    second = _child()
    assert second["compiled"] == ["_uniform_2d_chains__sequential"]
    assert second["loaded"] >= 1 and second["compiled_here"] == 0, second


def test_every_order_kernel_has_cache_files_of_its_own():
    """Variants of one template differ only in their globals, which Numba's cache does not see:
    with one file name they would load each other's machine code."""
    kernels = [k.compiled for k in lattice_kernels._UNIFORM_2D_KERNELS + lattice_kernels._ANY_LATTICE_KERNELS]
    kernels += list(lattice_kernels._UNIFORM_2D_CHAINS + lattice_kernels._ANY_LATTICE_CHAINS)
    index_names = {k._cache._cache_file._index_name for k in kernels}
    assert len(index_names) == len(kernels) == 12


@pytest.mark.parametrize("bad", [3, -1, 1.0, None])
def test_an_unknown_order_kind_is_refused_with_the_allowed_ones(bad):
    model = Ising.lattice((4, 4))
    plan = lattice_kernels.build_plan(model)
    assert plan is not None
    state = ChainState.new(model, 1, seed=0)
    with pytest.raises(ValueError, match=r"order_kind must be 0 \(sequential\), 1 \(random\) or 2 \(checkerboard\)"):
        lattice_kernels.lattice_sweeps(plan, state, np.zeros((1, plan.n_sets * plan.size), dtype=np.int64), bad, 1)


def _add_offset(x):
    return x + OFFSET  # noqa: F821 (bound per variant by bind_globals)


def test_bind_globals_makes_variants_that_compile_apart_and_keep_their_names():
    plus_one = njit(bind_globals(_add_offset, "one", OFFSET=1))
    plus_ten = njit(bind_globals(_add_offset, "ten", OFFSET=10))
    assert (plus_one(5), plus_ten(5)) == (6, 15)
    assert plus_one.py_func.__qualname__ == "_add_offset__one"
    assert plus_one.py_func.__module__ == __name__


@pytest.mark.parametrize(("template", "suffix", "error"), [(len, "x", TypeError), (_add_offset, "a b", ValueError)])
def test_bind_globals_refuses_what_it_cannot_name_or_copy(template, suffix, error):
    with pytest.raises(error, match="template must be a plain Python function|suffix must be a non-empty identifier"):
        bind_globals(template, suffix)


def test_default_jax_cache_fills_in_a_folder_only_where_none_was_chosen(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    assert default_jax_cache(env) == str(tmp_path / "thermolearn" / "jax")
    assert env["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "thermolearn" / "jax")
    assert env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] == "0.1"
    chosen = {"JAX_COMPILATION_CACHE_DIR": "/elsewhere", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "2"}
    assert default_jax_cache(chosen) == "/elsewhere"
    assert chosen == {"JAX_COMPILATION_CACHE_DIR": "/elsewhere", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "2"}


def test_default_jax_cache_is_read_by_jax_when_set_before_its_import(tmp_path):
    """The variables only work before JAX's import: a fresh process shows JAX took the folder."""
    code = (
        "import os\n"
        "from thermolearn.kernel_cache import default_jax_cache\n"
        "default_jax_cache()\n"
        "import jax\n"
        "print(jax.config.jax_compilation_cache_dir)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_")}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == str(tmp_path / "thermolearn" / "jax")


def test_the_jax_cache_default_can_be_set_without_importing_numba():
    """What a command line that never compiles a Numba kernel pays: nothing of Numba's import."""
    code = "import sys\nfrom thermolearn.kernel_cache import default_jax_cache\nprint('numba' in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "False"
