"""Neural proposals inside parallel tempering: does a learned global move at the cold end help?

An SK instance (N spins, Gaussian couplings J_ij ~ N(0, 1/N)) at T = 0.4, below its glass
temperature 1. A VAN (MADE) is trained at T = 0.4; then the same tempering ladder (geometric,
0.4 .. 1.6) runs with single-spin Metropolis as its base sampler, and with the network's
independence Metropolis-Hastings move added on the chains at the coldest temperatures
(``NeuralMCMC(min_beta=...)``, exact). Reported: the acceptance of the network's proposals,
tau_int of the energy at T = 0.4 (sweeps), the sweeps until the cold chains' running mean energy
settles (within 2 standard errors of the second half's mean), wall time per sweep, and the
plain / neural ratios.

    python benchmarks/bench_neural_pt.py                  # N = 64
    python benchmarks/bench_neural_pt.py --n 32 --steps 800 --sweeps 3000
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def settle_time(series: np.ndarray) -> int:
    """The first sweep after which the running mean of each chain's energy stays within two
    standard errors of the mean over the last half of all chains (mean over chains)."""
    target = series[:, series.shape[1] // 2 :].mean()
    err = series[:, series.shape[1] // 2 :].std() / np.sqrt(series.shape[1] // 2)
    out = []
    for row in series:
        running = np.cumsum(row) / np.arange(1, row.size + 1)
        outside = np.flatnonzero(np.abs(running - target) > 2 * err + 0.01 * abs(target))
        out.append(int(outside[-1]) + 1 if outside.size else 0)
    return int(np.mean(out))


def run_pt(model, ladder, base, sweeps: int, n_runs: int, seed: int):
    from thermolearn.samplers import ChainState, ParallelTempering

    pt = ParallelTempering(ladder, base=base)
    temps = pt.chain_temperatures(None, n_runs)
    state = ChainState.new(model, temps.size, seed=seed)
    pt.reset(model, state)
    cold = np.flatnonzero(temps == ladder[0])
    energies = np.empty((cold.size, sweeps))
    start = time.perf_counter()
    for k in range(sweeps):
        pt.sweep(model, state, 1.0 / temps, 1)
        energies[:, k] = state.energy[cold]
    return energies, (time.perf_counter() - start) / sweeps, pt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--temperature", type=float, default=0.4)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--sweeps", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--ladder", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from thermolearn import Ising
    from thermolearn.estimators import integrated_autocorrelation_time
    from thermolearn.neural import NeuralMCMC, train_van
    from thermolearn.samplers import Metropolis

    T = args.temperature
    model = Ising.sherrington_kirkpatrick(args.n, seed=args.seed)
    start = time.perf_counter()
    van = train_van(model, T, steps=args.steps, batch_size=256, seed=args.seed, progress=False)
    train_seconds = time.perf_counter() - start
    ladder = np.geomspace(T, 4 * T, args.ladder)
    rows = {}
    for name, base in (("plain", Metropolis()), ("neural", NeuralMCMC(van.network, min_beta=1 / ladder[1]))):
        energies, per_sweep, pt = run_pt(model, ladder, base, args.sweeps, args.runs, args.seed + 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tau = integrated_autocorrelation_time(energies[:, args.sweeps // 5 :]).tau
        info = pt.base.info() if name == "neural" else {}
        rows[name] = {
            "tau": tau,
            "settle": settle_time(energies),
            "ms_per_sweep": 1e3 * per_sweep,
            "acceptance": info.get("global_acceptance"),
        }
    print(
        f"SK N = {args.n} (seed {args.seed}) at T = {T}: VAN {args.steps} steps in {train_seconds:.0f} s, "
        f"bound F_q / N = {van.bound.free_energy_per_spin:.4f}; PT over {args.ladder} temperatures, "
        f"{args.runs} runs x {args.sweeps} sweeps"
    )
    for name, r in rows.items():
        acc = "" if r["acceptance"] is None else f", network acceptance {r['acceptance']:.3f}"
        print(
            f"  {name:>6}: tau_int(E at T) {r['tau']:.1f} sweeps, settles after {r['settle']} sweeps, "
            f"{r['ms_per_sweep']:.2f} ms per sweep{acc}"
        )
    p, q = rows["plain"], rows["neural"]
    print(
        f"  ratios plain / neural: tau_int {p['tau'] / q['tau']:.2f}, settling {p['settle'] / max(q['settle'], 1):.2f}, "
        f"per sweep {p['ms_per_sweep'] / q['ms_per_sweep']:.2f}"
    )


if __name__ == "__main__":
    main()
