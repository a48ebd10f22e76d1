"""Langevin samplers on the exact linear-regression posterior: accuracy against cost.

For ULA, SGLD, MALA and HMC (fixed step sizes chosen for each), 8 chains: the largest |z| of
the posterior mean and covariance entries against the exact ones (ULA against its own exact,
biased stationary law as well), the integrated autocorrelation time of theta_2, the effective
samples per second, and the wall time of a warm run (the compile excluded). Then constant-lr
SGD: steps per second of 16 vectorised runs. Times are wall-clock seconds on this machine.

    .venv/bin/python benchmarks/bench_dynamics.py            # 100,000 steps per chain
    .venv/bin/python benchmarks/bench_dynamics.py --quick    # 10,000
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from thermolearn.dynamics.langevin import run_langevin, ula_stationary_covariance
from thermolearn.dynamics.posteriors import make_posterior
from thermolearn.dynamics.sgd_temperature import run_sgd_temperature

CONFIGS = [
    ("ula", 0.01, {}),
    ("sgld", 0.01, {"batch_size": 5, "decay_power": 0.0}),
    ("mala", 0.05, {}),
    ("hmc", 0.1, {"leapfrog_steps": 3, "friction": 1.0}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 steps per chain instead of 100,000")
    parser.add_argument("--json", metavar="PATH", help="write the rows here")
    args = parser.parse_args()
    steps = 10_000 if args.quick else 100_000
    posterior = make_posterior("linear-regression")
    assert posterior.exact_mean is not None and posterior.exact_cov is not None
    rows = []
    print(f"{'sampler':>8} {'step':>6} {'max|z| mean':>12} {'max|z| cov':>11} {'tau_2':>8} {'ESS/s':>10} {'s':>7}")
    for sampler, step, kw in CONFIGS:
        run_langevin(posterior, sampler, step=step, steps=2000, n_chains=8, chunk=2000, **kw)  # compile
        start = time.perf_counter()
        r = run_langevin(posterior, sampler, step=step, steps=steps, n_chains=8, chunk=2000, **kw)
        seconds = time.perf_counter() - start
        cov, err = r.cov_estimates()
        target = posterior.exact_cov
        if sampler in ("ula", "sgld"):
            target_ula = ula_stationary_covariance(np.linalg.inv(posterior.exact_cov), step)
        z_mean = float(np.max(np.abs(r.mean - posterior.exact_mean) / r.mean_stderr))
        z_cov = float(np.max(np.abs(cov - target) / err))
        tau = r.mean_estimates()[1].tau
        ess = r.samples.shape[0] * r.samples.shape[1] / (2 * tau)
        row = {
            "sampler": sampler,
            "step": step,
            "steps": steps,
            "max_z_mean": z_mean,
            "max_z_cov_exact": z_cov,
            "max_z_cov_own_law": float(np.max(np.abs(cov - target_ula) / err)) if sampler in ("ula", "sgld") else None,
            "tau_theta2": tau,
            "ess_per_second": ess / seconds,
            "seconds": seconds,
        }
        rows.append(row)
        print(
            f"{sampler:>8} {step:>6g} {z_mean:>12.2f} {z_cov:>11.2f} {tau:>8.1f} {ess / seconds:>10.0f} {seconds:>7.2f}"
        )
    run_sgd_temperature(1.0, 1.0, 4, 0.1, 5000, progress=False)
    start = time.perf_counter()
    r = run_sgd_temperature(1.0, 1.0, 4, 0.1, 10 * steps, progress=False)
    seconds = time.perf_counter() - start
    z = (r.variance - r.theory_variance) / r.variance_stderr
    print(
        f"SGD: {10 * steps * 16 / seconds:.3g} chain-steps/s, variance z = {z:+.2f} against eta B / (S A (2 - eta A))"
    )
    rows.append({"sgd_chain_steps_per_second": 10 * steps * 16 / seconds, "sgd_variance_z": z, "seconds": seconds})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
