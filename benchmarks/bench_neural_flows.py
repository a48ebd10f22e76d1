"""RealNVP flows on the Hubbard-Stratonovich relaxation of SK: forward against reverse KL, above and below T_c.

For an SK instance of N spins (J_ij ~ N(0, 1/N), T_c = 1) at each temperature: parallel
tempering gives the reference overlap distribution P(q) (overlaps between two independent runs)
and the spin samples the forward-KL flow is trained on; the reverse-KL flow sees only the
relaxed density. For each flow: P(q) of its spin samples (x ~ q, then s ~ p(s | x)), the L1
distance to PT's P(q), the weight at |q| < 0.5 (where reverse KL, mode-seeking, loses mass below
T_c), and ln Z by importance sampling against the exact value (enumeration, N <= 24).

    python benchmarks/bench_neural_flows.py                  # N = 20, T = 0.5 and 1.5
    python benchmarks/bench_neural_flows.py --n 16 --steps 600
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def pt_spins(model, T: float, sweeps: int, seed: int) -> np.ndarray:
    """Spin states of the T slot of two independent parallel-tempering runs, one per sweep:
    shape (2, sweeps, N)."""
    from thermolearn.samplers import ChainState, ParallelTempering

    ladder = np.geomspace(T, max(3.0, 3 * T), 10)
    pt = ParallelTempering(ladder, base="metropolis")
    temps = pt.chain_temperatures(None, 2)
    state = ChainState.new(model, temps.size, seed=seed)
    pt.reset(model, state)
    pt.sweep(model, state, 1.0 / temps, sweeps // 5)
    cold = np.flatnonzero(temps == ladder[0])
    out = np.empty((2, sweeps, model.n_spins), dtype=np.int8)
    for k in range(sweeps):
        pt.sweep(model, state, 1.0 / temps, 1)
        out[:, k] = state.spins[cold[:2]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.5])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--sweeps", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from thermolearn import Ising
    from thermolearn.exact import enumerate_exact
    from thermolearn.neural import hs_relaxation, overlap_histogram, train_flow

    model = Ising.sherrington_kirkpatrick(args.n, seed=args.seed)
    print(f"SK N = {args.n} (seed {args.seed}); flows: 6 coupling layers of 32 hidden units, {args.steps} steps")
    print(f"{'T':>5} {'source':>8} {'L1 to PT':>9} {'P(|q|<.5)':>9} {'ln Z':>18} {'exact':>9} {'ESS':>7} {'s':>5}")
    for T in args.temperatures:
        spins = pt_spins(model, T, args.sweeps, args.seed + 1)
        _, p_pt = overlap_histogram(spins[0], spins[1], bins=21)
        q_pt = np.einsum("ki,ki->k", spins[0].astype(float), spins[1].astype(float)) / args.n
        exact = enumerate_exact(model, T, correlations=False)[0].log_z if args.n <= 24 else float("nan")
        print(f"{T:5.2f} {'PT':>8} {0.0:9.3f} {np.mean(np.abs(q_pt) < 0.5):9.3f} {'':>18} {exact:9.4f}")
        rel = hs_relaxation(model, T)
        for direction in ("reverse", "forward"):
            start = time.perf_counter()
            data = spins.reshape(-1, args.n) if direction == "forward" else None
            flow = train_flow(rel, direction=direction, data=data, steps=args.steps, seed=args.seed)
            seconds = time.perf_counter() - start
            a, b = flow.spins(20000, seed=1), flow.spins(20000, seed=2)
            _, p_flow = overlap_histogram(a, b, bins=21)
            q = np.einsum("ki,ki->k", a.astype(float), b.astype(float)) / args.n
            log_z, err, ess = flow.log_z(8192, seed=3)
            print(
                f"{T:5.2f} {direction:>8} {np.abs(p_flow - p_pt).sum():9.3f} {np.mean(np.abs(q) < 0.5):9.3f} "
                f"{log_z:9.4f} ± {err:6.4f} {exact:9.4f} {ess:7.0f} {seconds:5.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
