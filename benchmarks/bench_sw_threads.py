"""Swendsen-Wang in row strips: sweeps per second with 1 and 2 Numba threads, and on small lattices.

Workload: the 2D Ising ferromagnet, J = 1, periodic L x L (default L = 512, 1024, 2048), at
T_c = 2 / ln(1 + sqrt 2), one chain, equilibrated first. Periodic 2D lattices are labelled in row
strips (:mod:`thermolearn.samplers.cluster_strips`) at every size, whose results do not depend
on the thread count; the strips of one chain share the threads from 512 x 512 sites on. Contenders, timed in alternating blocks of ``sampler.sweep(model, state,
beta, k)`` calls (wall-clock seconds: the threads are the point), median over the rounds:

- thermolearn strips, ``numba.set_num_threads(1)`` and ``(2)``: the scaling ratio is their quotient;
- thermolearn strips as a user gets them (2 Numba threads in the pool; the sampler times the pool
  against one thread and takes the faster, re-timing both every few seconds);
- thermolearn's per-bond lattice kernel (``SwendsenWang(strip_sites=None)``, one thread): what the
  strips replaced;
- mcising's Swendsen-Wang (Rust; one thread, ``RAYON_NUM_THREADS=1`` unless set), same L and T;
- a control: a loop with nothing to share (a square root per site, in as many parallel regions
  per sweep as the strips open, two) with 1 and 2 threads. Its scaling is what the machine allows
  at the moment: on a loaded machine a region waits for a descheduled thread and even this loop
  slows down with 2 threads, so the strips' scaling is to be read against it.

Run with the benchmark environment (mcising installed):

    NUMBA_CACHE_DIR=.numba-cache .venv-bench/bin/python benchmarks/bench_sw_threads.py \
        --sizes 512,1024,2048 --rounds 5 --seconds 0.5

``--small 32,64,128,256`` adds a table for lattices below the threads' threshold: one sweep per
call (a harness's loop), CPU seconds, one thread, the per-bond kernel (``strip_sites=None``, the
default there before the strips were) against the strips (the default, the serial compilation,
one strip of up to 64 rows) and mcising.

``--multi 16,32,64,128`` adds a table for several chains (``--chains``, default 4) on small lattices,
``--sweeps-per-call`` sweeps per call, wall-clock seconds: the per-bond kernel over the chains
(``_sw_sweeps``) against the strips over the chains (:func:`~thermolearn.samplers.cluster_strips.sw_strip_chains`,
the default), each with 1 and 2 Numba threads (the thread count the work allows: it is 1 for
little work whatever the pool).

On a shared machine the ratios inside one run are what counts; the absolute rates move with load.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numba import njit, prange  # noqa: E402

from thermolearn import Ising  # noqa: E402
from thermolearn.samplers import ChainState  # noqa: E402
from thermolearn.samplers.cluster import SwendsenWang  # noqa: E402

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


@njit(parallel=True, cache=True)
def _control(a, strips):
    """Two parallel regions over ``strips`` strips of ``a``, independent work per site."""
    n = a.size // strips
    for _ in range(2):
        for k in prange(strips):
            acc = 0.0
            for i in range(k * n, (k + 1) * n):
                acc += np.sqrt(a[i] + acc * 1e-9)
            a[k * n] = 0.5 + 1e-30 * acc


def contenders(L: int, burn_in: int, sweeps_per_call: int) -> dict[str, tuple[Callable[[], None], int | None]]:
    """name -> (one call of ``sweeps_per_call`` sweeps, Numba threads to set or None)."""
    model = Ising.lattice((L, L))
    beta = 1.0 / T_C
    strips = SwendsenWang()
    strips._timed_threads = False  # the thread count set below, not the one timed fastest
    auto = SwendsenWang()  # the default: the pool or one thread, whichever is timed faster
    assert strips.uses_strips(model), "this benchmark is about the strip kernel (periodic 2D lattices)"
    state = ChainState.new(model, 1, seed=1)
    strips.sweep(model, state, beta, burn_in)
    equilibrated = state.spins.copy()
    serial = SwendsenWang(strip_sites=None)
    serial_state = ChainState.new(model, 1, seed=2, initial=equilibrated)

    def ours(sampler=strips, st=state) -> None:
        sampler.sweep(model, st, beta, sweeps_per_call)

    def old(sampler=serial, st=serial_state) -> None:
        sampler.sweep(model, st, beta, sweeps_per_call)

    auto_state = ChainState.new(model, 1, seed=3, initial=equilibrated)

    def timed(sampler=auto, st=auto_state) -> None:
        sampler.sweep(model, st, beta, sweeps_per_call)

    sites = np.random.default_rng(0).random(L * L)
    n_strips = -(-L // strips.strip_rows)

    def control(a=sites) -> None:
        for _ in range(sweeps_per_call):
            _control(a, n_strips)

    out: dict[str, tuple[Callable[[], None], int | None]] = {
        "thermolearn strips, 1 thread": (ours, 1),
        "thermolearn strips, 2 threads": (ours, 2),
        "thermolearn strips, default (timed choice)": (timed, 2),
        "thermolearn serial kernel": (old, 1),
        "control, 1 thread": (control, 1),
        "control, 2 threads": (control, 2),
    }
    try:
        import mcising._core as mc
    except ImportError:
        print("  mcising not installed: no reference")
        return out
    sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, "swendsen_wang", "square")
    sim.set_spins(equilibrated[0].astype(np.int8))
    sim.sweep(burn_in, temperature=T_C)

    def theirs(sim=sim) -> None:
        sim.sweep(sweeps_per_call, temperature=T_C)

    out["mcising swendsen_wang"] = (theirs, None)
    return out


def measure(L: int, rounds: int, seconds: float, burn_in: int, sweeps_per_call: int) -> dict[str, float]:
    """Median sweeps per wall-clock second of every contender, blocks alternating."""
    runs = contenders(L, burn_in, sweeps_per_call)
    pool = numba.get_num_threads()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    try:
        for _ in range(rounds):
            for name, (call, threads) in runs.items():
                if threads is not None:
                    numba.set_num_threads(min(threads, pool))
                call()  # (a warm call: the thread pool awake)
                done = 0
                t0 = time.perf_counter()
                while time.perf_counter() - t0 < seconds:
                    call()
                    done += sweeps_per_call
                rates[name].append(done / (time.perf_counter() - t0))
    finally:
        numba.set_num_threads(pool)
    return {name: statistics.median(r) for name, r in rates.items()}


def small_table(sizes: list[int], rounds: int, seconds: float, burn_in: int) -> None:
    """Sweeps per CPU second, one per call, one thread: serial kernel, forced strips, mcising."""
    print(
        f"\nBelow the threshold: sweeps per CPU second, one sweep per call, one thread (median of {rounds} "
        f"alternating blocks of {seconds} CPU s)\n"
    )
    print("| L | per-bond kernel | strips | mcising SW | strips / per-bond | per-bond / mcising | strips / mcising |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    pool = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for L in sizes:
            model = Ising.lattice((L, L))
            beta = 1.0 / T_C
            calls: dict[str, Callable[[], None]] = {}
            equilibrated = None
            for name, sampler in (("serial", SwendsenWang(strip_sites=None)), ("strips", SwendsenWang(strip_sites=1))):
                state = ChainState.new(model, 1, seed=1)
                sampler.sweep(model, state, beta, burn_in)
                equilibrated = state.spins.copy()

                def step(sampler=sampler, state=state) -> None:
                    sampler.sweep(model, state, beta, 1)

                calls[name] = step
            try:
                import mcising._core as mc

                sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, "swendsen_wang", "square")
                assert equilibrated is not None
                sim.set_spins(equilibrated[0].astype(np.int8))
                sim.sweep(burn_in, temperature=T_C)

                def theirs(sim=sim) -> None:
                    sim.sweep(1, temperature=T_C)

                calls["mcising"] = theirs
            except ImportError:
                pass
            rates: dict[str, list[float]] = {name: [] for name in calls}
            for _ in range(rounds):
                for name, call in calls.items():
                    done = 0
                    t0 = time.process_time()
                    while time.process_time() - t0 < seconds:
                        for _ in range(10):
                            call()
                        done += 10
                    rates[name].append(done / (time.process_time() - t0))
            r = {name: statistics.median(v) for name, v in rates.items()}
            m = r.get("mcising")
            ref = f"{m:.0f} | {r['serial'] / m:.2f} | {r['strips'] / m:.2f}" if m else "- | - | -"
            print(
                f"| {L} | {r['serial']:.0f} | {r['strips']:.0f} | {ref.split(' | ')[0]} | {r['strips'] / r['serial']:.2f} | "
                + " | ".join(ref.split(" | ")[1:])
                + " |",
                flush=True,
            )
    finally:
        numba.set_num_threads(pool)


def multi_table(sizes: list[int], chains: int, rounds: int, seconds: float, sweeps_per_call: int) -> None:
    """Sweeps (of every chain) per wall-clock second for ``chains`` chains: per-bond kernel against
    strips, 1 and 2 Numba threads, blocks alternating, median over ``rounds``."""
    print(
        f"\n{chains} chains: sweeps per wall-clock second, {sweeps_per_call} sweep(s) per call (median of {rounds} "
        f"alternating blocks of {seconds} s)\n"
    )
    print(
        "| L | per-bond 1 thread | strips 1 thread | strips / per-bond | per-bond 2 threads | strips 2 threads | strips / per-bond |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    pool = numba.get_num_threads()
    try:
        for L in sizes:
            model = Ising.lattice((L, L))
            beta = 1.0 / T_C
            calls: dict[tuple[str, int], Callable[[], None]] = {}
            for name, sampler in (("per-bond", SwendsenWang(strip_sites=None)), ("strips", SwendsenWang())):
                state = ChainState.new(model, chains, seed=1)
                sampler.sweep(model, state, beta, 20)

                def step(sampler=sampler, state=state) -> None:
                    sampler.sweep(model, state, beta, sweeps_per_call)

                for threads in (1, 2):
                    calls[(name, threads)] = step
            rates: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
            for _ in range(rounds):
                for (name, threads), call in calls.items():
                    numba.set_num_threads(min(threads, pool))
                    call()
                    done = 0
                    t0 = time.perf_counter()
                    while time.perf_counter() - t0 < seconds:
                        call()
                        done += sweeps_per_call
                    rates[(name, threads)].append(done / (time.perf_counter() - t0))
            r = {key: statistics.median(v) for key, v in rates.items()}
            cells = []
            for threads in (1, 2):
                a, b = r[("per-bond", threads)], r[("strips", threads)]
                cells += [f"{a:.0f}", f"{b:.0f}", f"{b / a:.2f}"]
            print(f"| {L} | {' | '.join(cells)} |", flush=True)
    finally:
        numba.set_num_threads(pool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,1024,2048", help="comma-separated L (each >= 512)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating blocks per contender")
    parser.add_argument("--seconds", type=float, default=0.5, help="wall-clock seconds per block")
    parser.add_argument("--burn-in", type=int, default=50, help="sweeps before timing")
    parser.add_argument("--sweeps-per-call", type=int, default=1, help="sweeps per sweep() call")
    parser.add_argument("--small", default="", help="comma-separated L below 512 for the per-call table (none)")
    parser.add_argument("--multi", default="", help="comma-separated L below 512 for the several-chains table (none)")
    parser.add_argument("--chains", type=int, default=4, help="chains of the --multi table")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else []
    if any(L < 512 for L in sizes):
        parser.error("--sizes: every L must be >= 512 (smaller lattices run their strips on one thread)")
    if numba.get_num_threads() < 2:
        parser.error("needs at least 2 Numba threads (unset NUMBA_NUM_THREADS or set it >= 2)")
    print(
        f"Swendsen-Wang at T_c, sweeps per wall-clock second (median of {args.rounds} alternating blocks of "
        f"{args.seconds} s, {args.sweeps_per_call} sweep(s) per call, RAYON_NUM_THREADS="
        f"{os.environ.get('RAYON_NUM_THREADS')})\n"
    )
    print(
        "| L | strips 1 thread | strips 2 threads | scaling 2/1 | control scaling 2/1 | strips default | "
        "serial kernel | mcising SW | 1 thread / mcising | 2 threads / mcising | default / mcising |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for L in sizes:
        r = measure(L, args.rounds, args.seconds, args.burn_in, args.sweeps_per_call)
        one, two = r["thermolearn strips, 1 thread"], r["thermolearn strips, 2 threads"]
        theirs = r.get("mcising swendsen_wang")
        default = r["thermolearn strips, default (timed choice)"]
        ref = (
            f"{theirs:.2f} | {one / theirs:.2f} | {two / theirs:.2f} | {default / theirs:.2f}"
            if theirs
            else "- | - | - | -"
        )
        control = r["control, 2 threads"] / r["control, 1 thread"]
        print(
            f"| {L} | {one:.2f} | {two:.2f} | {two / one:.2f} | {control:.2f} | {default:.2f} | "
            f"{r['thermolearn serial kernel']:.2f} | {ref} |",
            flush=True,
        )
    if args.small:
        small_table([int(x) for x in args.small.split(",")], args.rounds, args.seconds, args.burn_in)
    if args.multi:
        multi_table(
            [int(x) for x in args.multi.split(",")], args.chains, args.rounds, args.seconds, args.sweeps_per_call
        )


if __name__ == "__main__":
    main()
