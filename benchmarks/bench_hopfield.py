"""Hopfield capacity sweep speed: thermolearn's compiled kernels against the same algorithm in plain NumPy.

Workload 1 (the issue's target: under a minute on 2 cores): the default Hebbian capacity
sweep at N = 1000 (`thermolearn hopfield capacity --neurons 1000 --rule hebbian`): 25 loads
alpha = 0.01..0.25, 8 independent pattern sets, up to 200 recalls per load, each a
zero-temperature asynchronous descent started at a stored pattern.

Workload 2 (the ratio): one pattern set, loads 0.10, 0.14, 0.18, 50 recalls each, run by
thermolearn and by a plain NumPy implementation of the same algorithm (random site order per
sweep, local fields updated by one row of J per flip). Both are timed in wall-clock seconds
after a warm-up, so Numba compilation is excluded.

    .venv/bin/python benchmarks/bench_hopfield.py            # both workloads
    .venv/bin/python benchmarks/bench_hopfield.py --quick    # the ratio only
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numba
import numpy as np

import thermolearn
from thermolearn.learning.capacity import capacity_curve
from thermolearn.learning.hebbian import hebbian_couplings


def numpy_relax(J: np.ndarray, s: np.ndarray, rng: np.random.Generator, max_sweeps: int = 200) -> np.ndarray:
    """Asynchronous zero-T descent in plain NumPy: Python loop over units, vector field updates."""
    s = s.astype(np.float64).copy()
    h = J @ s
    n = s.size
    for _ in range(max_sweeps):
        flips = 0
        for i in rng.permutation(n):
            if s[i] * h[i] < 0:
                s[i] = -s[i]
                h += 2.0 * s[i] * J[i]
                flips += 1
        if flips == 0:
            break
    return s


def ratio_workload(n: int, loads: list[float], recalls: int, seed: int) -> tuple[float, float, float, float]:
    rng = np.random.default_rng(seed)
    xi = rng.choice(np.array([-1, 1], dtype=np.int8), size=(int(max(loads) * n), n))
    # thermolearn, one set, the same loads and recall count
    capacity_curve(n, "hebbian", loads=loads, n_sets=2, max_recalls=recalls, seed=seed, progress=False)  # warm-up
    start = time.perf_counter()
    ours = capacity_curve(n, "hebbian", loads=loads, n_sets=2, max_recalls=recalls, seed=seed, progress=False)
    t_ours = (time.perf_counter() - start) / 2  # per pattern set
    start = time.perf_counter()
    overlaps = []
    for alpha in loads:
        p = int(round(alpha * n))
        J, _ = hebbian_couplings(xi[:p])
        m = [numpy_relax(J, xi[mu], rng) @ xi[mu] / n for mu in range(min(p, recalls))]
        overlaps.append(float(np.mean(m)))
    t_numpy = time.perf_counter() - start
    return t_ours, t_numpy, float(np.mean(ours.overlap)), float(np.mean(overlaps))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the NumPy comparison")
    parser.add_argument("--neurons", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"thermolearn {thermolearn.__version__}, numpy {np.__version__}, numba {numba.__version__}, "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, numba threads {numba.get_num_threads()}"
    )
    n = args.neurons
    if not args.quick:
        capacity_curve(100, "hebbian", n_sets=2, progress=False)  # compile / load the kernels
        print(f"\ncommand: thermolearn hopfield capacity --neurons {n} --rule hebbian --seed 0")
        start = time.perf_counter()
        r = capacity_curve(n, "hebbian", seed=0, progress=False)
        seconds = time.perf_counter() - start
        print(
            f"N = {n}, {r.loads.size} loads x {r.n_sets} sets: {seconds:.2f} s wall "
            f"(target: under 60 s on 2 cores); alpha_c = {r.alpha_c:.4f} ± {r.alpha_c_stderr:.4f}"
        )
    loads = [0.10, 0.14, 0.18]
    t_ours, t_numpy, m_ours, m_numpy = ratio_workload(n, loads, 50, seed=1)
    print(f"\nsame algorithm, N = {n}, loads {loads}, 50 recalls each (one pattern set):")
    print(f"{'implementation':>16}  {'seconds':>8}  {'mean overlap':>12}")
    print(f"{'thermolearn':>16}  {t_ours:8.3f}  {m_ours:12.4f}")
    print(f"{'plain NumPy':>16}  {t_numpy:8.3f}  {m_numpy:12.4f}")
    print(f"ratio NumPy / thermolearn: {t_numpy / t_ours:.0f}x")


if __name__ == "__main__":
    main()
