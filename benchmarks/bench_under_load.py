"""Samplers under load: the throughput each keeps while another process keeps one core busy.

Workload: the 2D Ising ferromagnet, periodic L x L at T_c, through the per-sweep API
``sampler.sweep(model, state, beta, n)`` with n = 1 (one kernel call per sweep, as ``sample``
and most user loops call it) and n = 200, for one chain and for several chains, with Numba's
default thread pool (every core). Each case is timed quiet, then with a background process
spinning on one core (started and stopped by this script), then quiet again; the figure is
loaded / quiet throughput (the mean of the two quiet runs; the one after the load also measures
how soon a sampler that times its threads returns to the pool). With two cores and one busy
neighbour, a loop that uses both cores can keep about half of its quiet throughput, a serial one
nearly all of it; the target is at least 0.45 for every sampler.

    .venv/bin/python benchmarks/bench_under_load.py [--size 128] [--seconds 1.5]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import time

import numba
import numpy as np

import thermolearn
from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.registry import make_sampler

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _spin_forever() -> None:  # the busy neighbour: pure Python, one core
    x = 0
    while True:
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF


def _case(name: str, chains: int, model: Ising) -> tuple[object, ChainState, object]:
    if name == "pt":
        temps = np.geomspace(0.8 * T_C, 1.25 * T_C, 4)
        sampler = make_sampler("pt", temperatures=temps)
        state = ChainState.new(model, 4 * chains, seed=1)
        return sampler, state, np.tile(1.0 / np.sort(temps), chains)
    sampler = make_sampler(name)
    n = chains * 64 if name == "metropolis-msc" else chains
    return sampler, ChainState.new(model, n, seed=1), 1.0 / T_C


def _rate(sampler, model: Ising, state: ChainState, beta, per_call: int, seconds: float) -> float:
    """Sweeps per second (all chains) over about ``seconds``."""
    sampler.sweep(model, state, beta, per_call)  # compile and settle
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        sampler.sweep(model, state, beta, per_call)
        done += per_call
    return done * state.n_chains / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="lattice side L (default 128)")
    parser.add_argument("--chains", type=int, default=8, help="chains of the many-chain case (default 8)")
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds per timing (default 1.5)")
    parser.add_argument("--samplers", default="metropolis,heatbath,wolff,sw,pt,metropolis-msc")
    args = parser.parse_args()
    model = Ising.lattice((args.size, args.size))
    make_sampler("wolff").sweep(model, ChainState.new(model, 2, seed=0), 0.4, 1)  # starts the thread pool
    print(
        f"thermolearn {thermolearn.__version__}, numba {numba.__version__} ({numba.threading_layer()}), "
        f"{os.cpu_count()} CPUs, {numba.get_num_threads()} Numba threads, {platform.processor() or platform.machine()}"
    )
    print(f"L = {args.size}, T = T_c, one background process spinning on one core during 'loaded'")
    print(
        f"{'sampler':16s} {'chains':>6s} {'sweeps/call':>11s} {'quiet sweeps/s':>15s} {'loaded':>12s} {'ratio':>6s}"
        f" {'quiet before':>13s} {'quiet after':>12s}"
    )
    context = multiprocessing.get_context("spawn")
    worst = math.inf
    for name in args.samplers.split(","):
        for chains in (1, args.chains):
            for per_call in (1, 200):
                sampler, state, beta = _case(name, chains, model)
                quiet1 = _rate(sampler, model, state, beta, per_call, args.seconds)
                busy = context.Process(target=_spin_forever, daemon=True)
                busy.start()
                time.sleep(0.2)
                try:
                    loaded = _rate(sampler, model, state, beta, per_call, args.seconds)
                finally:
                    busy.terminate()
                    busy.join()
                quiet2 = _rate(sampler, model, state, beta, per_call, args.seconds)
                quiet = 0.5 * (quiet1 + quiet2)
                ratio = loaded / quiet
                worst = min(worst, ratio)
                print(
                    f"{name:16s} {state.n_chains:6d} {per_call:11d} {quiet:15.4g} {loaded:12.4g} {ratio:6.2f}"
                    f" {quiet1:13.4g} {quiet2:12.4g}"
                )
    print(f"worst ratio {worst:.2f} (target >= 0.45)")


if __name__ == "__main__":
    main()
