"""Exact enumeration rate: thermolearn's Gray-code kernel against plain NumPy and dimod.

Workload: log Z, <E>, C and <M> (and, for thermolearn, <s_i> and <s_i s_j>) of a dense
Sherrington-Kirkpatrick model with fields, one temperature, for growing n.
Prints states per second and the ratio to each alternative on the same model. thermolearn walks
the states on every CPU (threads) by default, dimod's ExactSolver on one: ``--threads 1`` gives
the like-for-like ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
from scipy.special import logsumexp

import thermolearn
from thermolearn import Ising
from thermolearn.exact import enumerate_exact, state_index_to_spins


def numpy_enumeration(model: Ising, T: float, chunk: int = 1 << 18) -> float:
    """What a user writes by hand: energies of every state in chunks, then logsumexp."""
    n = model.n_spins
    J, h = model.to_dense()
    parts = []
    for start in range(0, 2**n, chunk):
        s = state_index_to_spins(np.arange(start, min(start + chunk, 2**n)), n).astype(np.float64)
        e = -0.5 * np.einsum("ki,ki->k", s, s @ J) - s @ h
        parts.append(logsumexp(-e / T))
    return float(logsumexp(parts))


def dimod_exact_solver(model: Ising, T: float) -> float:
    import dimod

    sampleset = dimod.ExactSolver().sample(model.to_bqm())
    return float(logsumexp(-sampleset.record.energy / T))


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-spins", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="one repeat, skip the slow comparisons")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of thermolearn's enumeration (default: one per CPU)"
    )
    args = parser.parse_args()
    threads = args.threads
    repeats = 1 if args.quick else 3
    T = 1.0
    print(
        f"thermolearn {thermolearn.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; thermolearn on "
        f"{threads or 'up to ' + str(os.cpu_count() or 1)} threads, dimod ExactSolver on 1, NumPy on its BLAS threads "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')})"
    )
    enumerate_exact(Ising.sherrington_kirkpatrick(16, seed=0), T)  # compile once
    try:
        import dimod  # noqa: F401

        have_dimod = True
    except ImportError:
        have_dimod = False
    header = f"{'n':>3} {'thermolearn s':>14} {'states/s':>10} {'+corr s':>9} {'numpy s':>9} {'ratio':>7} {'dimod s':>9} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for n in range(16, args.max_spins + 1, 2):
        model = Ising.sherrington_kirkpatrick(n, field=0.1, seed=n)
        reps = repeats if n <= 26 else 1
        t_ours = best_of(lambda: enumerate_exact(model, T, correlations=False, n_threads=threads), reps)
        t_corr = best_of(lambda: enumerate_exact(model, T, correlations=True, n_threads=threads), reps)
        ours = enumerate_exact(model, T, correlations=False, n_threads=threads)[0].log_z
        t_np = t_dimod = float("nan")
        if n <= (22 if args.quick else 26):
            t_np = best_of(lambda: numpy_enumeration(model, T), 1)
            assert abs(numpy_enumeration(model, T) - ours) < 1e-9 * abs(ours)
        if have_dimod and n <= (16 if args.quick else 20):
            t_dimod = best_of(lambda: dimod_exact_solver(model, T), 1)
            assert abs(dimod_exact_solver(model, T) - ours) < 1e-9 * abs(ours)
        print(
            f"{n:>3} {t_ours:>14.3f} {2**n / t_ours:>10.3g} {t_corr:>9.3f} {t_np:>9.3f} {t_np / t_ours:>7.1f} "
            f"{t_dimod:>9.3f} {t_dimod / t_ours:>7.1f}"
        )


if __name__ == "__main__":
    main()
