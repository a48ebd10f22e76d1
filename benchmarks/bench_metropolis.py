"""Single-spin Monte Carlo speed: thermolearn against the packages users would pick instead.

Workload: the 2D Ising ferromagnet (J = 1, h = 0, periodic L x L) at T = 2.269 (critical)
and T = 1.5 (ordered), L = 64 and L = 512, single-spin Metropolis from a hot start (or the
closest update each package offers: thrml only has block Gibbs = heat bath). Reported:
spin-flip attempts per nanosecond per core, and the ratio to thermolearn's best.

Rates are flip attempts per nanosecond of CPU time of the whole process
(``time.process_time``, all threads), which is "per core" by construction and is slowed
less by a busy machine than wall time. Single-core rows pin the process to one CPU (all
threads of every package share it); the multi-core rows run chains on every CPU (OpenMP
threads wait passively, so idle threads cost no CPU time). Package set-up (model conversion, compilation) is excluded: each external
package is timed at two sweep counts and the rate comes from the difference.

Run from the repository root with the benchmark environment:

    .venv-bench/bin/python benchmarks/bench_metropolis.py            # full table
    .venv-bench/bin/python benchmarks/bench_metropolis.py --quick    # L = 64 only, one repeat
"""

from __future__ import annotations

import os

# threads that wait at a barrier sleep instead of spinning, so CPU time counts only work
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import importlib.metadata as md
import platform
import time
import warnings
from collections.abc import Callable

import numpy as np
from numba import njit

import thermolearn
from thermolearn import Ising
from thermolearn.samplers import ChainState, Metropolis

T_VALUES = (2.269, 1.5)
TARGET_SECONDS = 0.4  # CPU seconds per timed run


# ------------------------------------------------------------------ timing helpers
def cpu_time(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def rate_by_difference(run: Callable[[int], object], n_spins: int, repeats: int) -> float:
    """Flip attempts per ns from ``run(n_sweeps)`` with the set-up cost cancelled:
    (t(n) - t(1)) / (n - 1), n grown until the sweeps outweigh the set-up."""
    t_one = min(cpu_time(lambda: run(1)) for _ in range(2))
    n = 4
    while True:
        t_n = cpu_time(lambda: run(n))
        if t_n - t_one > max(TARGET_SECONDS, t_one) or t_n > 60 or n > 1 << 22:
            break
        per_sweep = max((t_n - t_one) / (n - 1), 1e-7)
        n = int(min(max(4 * n, 2 * max(TARGET_SECONDS, t_one) / per_sweep), 16 * n, 1 << 23))
    t_n = min([t_n] + [cpu_time(lambda: run(n)) for _ in range(repeats - 1)])
    t_one = min([t_one] + [cpu_time(lambda: run(1)) for _ in range(repeats - 1)])
    if t_n <= t_one:
        return float("nan")
    return (n - 1) * n_spins / (t_n - t_one) / 1e9


def rate_direct(run: Callable[[int], object], n_spins: int, repeats: int) -> float:
    """Flip attempts per ns of ``run(n_sweeps)`` for code without set-up costs."""
    run(1)
    n = 1
    while cpu_time(lambda: run(n)) < TARGET_SECONDS / 4 and n < 1 << 22:
        n *= 4
    best = min(cpu_time(lambda: run(n)) for _ in range(repeats))
    return n * n_spins / best / 1e9


def pin(cpus: set[int] | None) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cpus if cpus is not None else set(range(os.cpu_count() or 1)))


# ------------------------------------------------------------------ two hand-written baselines
def numpy_checkerboard(L: int, T: float, seed: int = 0):
    """What a NumPy user writes: vectorised checkerboard Metropolis with np.roll."""
    rng = np.random.default_rng(seed)
    s = rng.choice(np.array([-1, 1], dtype=np.int8), size=(L, L))
    colour = (np.add.outer(np.arange(L), np.arange(L)) % 2).astype(bool)
    masks = [~colour, colour]
    table = np.exp(-2.0 * np.arange(-4, 5) / T)  # exp(-beta dE) for s * (neighbour sum)

    def run(n_sweeps: int) -> None:
        for _ in range(n_sweeps):
            for mask in masks:
                nb = np.roll(s, 1, 0) + np.roll(s, -1, 0) + np.roll(s, 1, 1) + np.roll(s, -1, 1)
                x = s * nb  # dE = 2 x
                accept = mask & (rng.random((L, L)) < table[x + 4])
                s[accept] *= -1

    return run


@njit(cache=True)
def _plain_numba_sweeps(s, table, n_sweeps):
    L = s.shape[0]
    for _ in range(n_sweeps):
        for i in range(L):
            for j in range(L):
                nb = s[(i + 1) % L, j] + s[(i - 1) % L, j] + s[i, (j + 1) % L] + s[i, (j - 1) % L]
                x = s[i, j] * nb
                if x <= 0 or np.random.random() < table[x + 4]:
                    s[i, j] = -s[i, j]


def plain_numba(L: int, T: float, seed: int = 0):
    """What a Numba user writes: a sequential loop with modulo neighbours and np.random."""
    s = np.random.default_rng(seed).choice(np.array([-1, 1], dtype=np.int8), size=(L, L))
    table = np.exp(-2.0 * np.arange(-4, 5) / T)
    return lambda n: _plain_numba_sweeps(s, table, n)


# ------------------------------------------------------------------ thermolearn
def thermolearn_run(model: Ising, sampler, T: float, n_chains: int, seed: int = 0):
    state = ChainState.new(model, n_chains, seed=seed)
    betas = np.full(n_chains, 1.0 / T)
    sampler.sweep(model, state, betas, 1)
    return lambda n: sampler.sweep(model, state, betas, n)


# ------------------------------------------------------------------ other packages
def _edges(L: int):
    model = Ising.lattice((L, L))
    i, j, w = model.edges()
    return model, i, j, w


def mcising_run(L: int, T: float, seed: int = 0):
    from mcising._core import IsingSimulation

    sim = IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, seed, "metropolis", "square")
    return lambda n: sim.sweep(n, temperature=T)


def peapods_run(L: int, T: float, seed: int = 0):
    import peapods

    np.random.seed(seed)
    sim = peapods.Ising((L, L), couplings="ferro", temperatures=np.array([T]), n_replicas=1)
    return lambda n: sim.sample(n, sweep_mode="metropolis", warmup_ratio=0.0, sequential=True)


def dwave_run(L: int, T: float, seed: int = 0):
    import dimod
    from dwave.samplers import SimulatedAnnealingSampler

    _, i, j, w = _edges(L)
    bqm = dimod.BinaryQuadraticModel.from_ising(
        {k: 0.0 for k in range(L * L)}, {(int(a), int(b)): -float(c) for a, b, c in zip(i, j, w)}
    )
    sampler = SimulatedAnnealingSampler()

    def run(n):  # dimod's J is the energy coefficient: E = sum J_ij s_i s_j, so J = -1 is ferromagnetic
        sampler.sample(
            bqm,
            num_reads=1,
            beta_schedule_type="custom",
            beta_schedule=[1.0 / T],
            num_sweeps_per_beta=n,
            seed=seed,
            randomize_order=False,
            proposal_acceptance_criteria="Metropolis",
        )

    return run


def openjij_run(L: int, T: float, seed: int = 0):
    import openjij as oj

    _, i, j, w = _edges(L)
    h = {k: 0.0 for k in range(L * L)}
    J = {(int(a), int(b)): -float(c) for a, b, c in zip(i, j, w)}  # openjij: E = sum J s s + sum h s
    sampler = oj.SASampler()
    return lambda n: sampler.sample_ising(
        h, J, schedule=[(1.0 / T, n)], num_reads=1, seed=seed, updater="single spin flip"
    )


def thrml_run(L: int, T: float, seed: int = 0):
    import jax
    import jax.numpy as jnp
    from thrml import Block, SamplingSchedule, SpinNode, sample_states
    from thrml.models import IsingEBM, IsingSamplingProgram, hinton_init

    nodes = [SpinNode() for _ in range(L * L)]
    _, i, j, w = _edges(L)
    edges = [(nodes[a], nodes[b]) for a, b in zip(i, j)]
    model = IsingEBM(nodes, edges, jnp.zeros(L * L), jnp.asarray(w, dtype=jnp.float32), jnp.array(1.0 / T))
    parity = (np.add.outer(np.arange(L), np.arange(L)) % 2).ravel()
    blocks = [Block([nodes[k] for k in np.flatnonzero(parity == c)]) for c in (0, 1)]
    program = IsingSamplingProgram(model, blocks, clamped_blocks=[])
    key = jax.random.key(seed)
    init = hinton_init(key, model, blocks, ())
    observe = [Block(nodes[:1])]
    steps = 16  # sweeps per compiled call; every call starts from the same state (Gibbs costs the same anywhere)
    schedule = SamplingSchedule(n_warmup=steps, n_samples=1, steps_per_sample=1)
    compiled = jax.jit(lambda k, s: sample_states(k, program, schedule, s, [], observe))
    jax.block_until_ready(compiled(key, init))  # compile outside the timing

    def run(n):
        for _ in range(max(1, n // steps)):
            out = compiled(key, init)
        jax.block_until_ready(out)

    return run


EXTERNAL = {
    "mcising (Rust, Metropolis sequential)": ("mcising", mcising_run),
    "peapods (Rust, Metropolis)": ("peapods", peapods_run),
    "dwave-samplers SA at fixed beta (C++)": ("dwave-samplers", dwave_run),
    "openjij SASampler at fixed beta (C++)": ("openjij", openjij_run),
    "thrml block Gibbs (JAX, heat bath)": ("thrml", thrml_run),
}


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="L = 64 only, one repeat")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--skip", nargs="*", default=[], help="substrings of row names to skip")
    args = parser.parse_args()
    sizes = args.sizes or ([64] if args.quick else [64, 512])
    repeats = 1 if args.quick else 3
    warnings.simplefilter("ignore")

    versions = []
    for pkg in ("numpy", "numba", "mcising", "peapods", "dwave-samplers", "openjij", "thrml", "jax"):
        try:
            versions.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            versions.append(f"{pkg} missing")
    print(f"thermolearn {thermolearn.__version__}; {', '.join(versions)}")
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}")
    try:
        print(f"load average {os.getloadavg()[0]:.1f} at start")
    except OSError:
        pass
    print(
        "command: .venv-bench/bin/python benchmarks/bench_metropolis.py "
        + " ".join((["--quick"] if args.quick else []) + (["--sizes", *map(str, args.sizes)] if args.sizes else []))
    )

    rows: list[tuple[str, int, dict[tuple[int, float], float]]] = []

    def measure(
        name: str, cores: int, make: Callable[[int, float], Callable[[int], object]], direct: bool, chains: int = 1
    ) -> None:
        if any(s in name for s in args.skip):
            return
        result = {}
        pin({0} if cores == 1 else None)
        for L in sizes:
            for T in T_VALUES:
                try:
                    run = make(L, T)
                    flips = L * L * chains
                    result[(L, T)] = (
                        rate_direct(run, flips, repeats) if direct else rate_by_difference(run, flips, repeats)
                    )
                except Exception as exc:  # a package that fails is reported, not fatal
                    print(f"  {name} L={L} T={T}: failed ({type(exc).__name__}: {exc})")
                    result[(L, T)] = float("nan")
                print(f"  {name:58s} L={L:4d} T={T}: {result[(L, T)]:.3f} flips/ns/core", flush=True)
        pin(None)
        rows.append((name, cores, result))

    def tl(sampler_factory, geometry: bool, n_chains: int):
        def make(L, T):
            model = Ising.lattice((L, L))
            if not geometry:
                model = Ising(model.couplings, model.fields)
            return thermolearn_run(model, sampler_factory(), T, n_chains)

        return make

    for order in ("sequential", "checkerboard", "random"):
        measure(f"thermolearn lattice fast path, {order}", 1, tl(lambda o=order: Metropolis(order=o), True, 1), True)
    measure("thermolearn generic CSR kernel, sequential", 1, tl(Metropolis, False, 1), True)
    try:
        from thermolearn.samplers.multispin import MultiSpinMetropolis

        # pack/unpack of the int8 states per call excluded (difference method): 2-4 sweeps' worth per call
        measure("thermolearn metropolis-msc, 64 replicas (one word)", 1, tl(MultiSpinMetropolis, True, 64), False, 64)
        msc = True
    except ImportError:
        msc = False
    cores = os.cpu_count() or 1
    measure(
        f"thermolearn lattice fast path, sequential, {cores} chains", cores, tl(Metropolis, True, cores), True, cores
    )
    if msc:
        measure(
            f"thermolearn metropolis-msc, {64 * cores} replicas",
            cores,
            tl(MultiSpinMetropolis, True, 64 * cores),
            False,
            64 * cores,
        )
    measure("NumPy vectorised checkerboard (hand-written)", 1, numpy_checkerboard, True)
    measure("plain Numba loop (hand-written)", 1, plain_numba, True)
    for name, (pkg, make) in EXTERNAL.items():
        try:
            md.version(pkg)
        except md.PackageNotFoundError:
            print(f"  {name}: not installed")
            continue
        measure(name, 1, make, False)

    # the table
    keys = [(L, T) for L in sizes for T in T_VALUES]
    best = {
        k: max([r[k] for n, c, r in rows if n.startswith("thermolearn") and np.isfinite(r[k])] or [np.nan])
        for k in keys
    }
    head = "| implementation | cores | " + " | ".join(f"L={L} T={T}" for L, T in keys) + " |"
    print()
    print("flip attempts per ns per core (ratio to thermolearn's best in brackets)")
    print()
    print(head)
    print("|" + "---|" * (2 + len(keys)))
    for name, cores, r in rows:
        cells = [f"{r[k]:.3f} ({r[k] / best[k]:.2f})" if np.isfinite(r[k]) else "n/a" for k in keys]
        print(f"| {name} | {cores} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
