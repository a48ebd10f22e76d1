"""Langevin samplers on the exact linear-regression posterior: accuracy against cost.

For ULA, SGLD, MALA and HMC (fixed step sizes chosen for each), 8 chains: the largest |z| of
the posterior mean and covariance entries against the exact ones (ULA against its own exact,
biased stationary law as well), the integrated autocorrelation time of theta_2, the effective
samples per second, and the wall time of a warm run (the compile excluded). Then constant-lr
SGD: steps per second of 16 vectorised runs. Times are wall-clock seconds on this machine.

With --digits: the binary-image EBM against the library's RBM on the binarised digits at equal
parameter count (EBM 64 swish units, 4,288 parameters; RBM 65 hidden units, 4,289), the same
budget (3,000 updates of 100 images; per negative one Gibbs sweep or 4 Metropolis-adjusted
discrete-Langevin steps (alpha = 0.3) for the EBM; Adam at 1e-3, CD-1 for the RBM) and the same AIS (the
"fast" schedule, 1,450 steps, 100 runs): held-out log-likelihood per image. The EBM's log Z is
rechecked with Salakhutdinov and Murray's 14,500-step schedule (a converged AIS agrees).

    .venv/bin/python benchmarks/bench_dynamics.py            # 100,000 steps per chain
    .venv/bin/python benchmarks/bench_dynamics.py --quick    # 10,000
    .venv/bin/python benchmarks/bench_dynamics.py --digits   # the EBM against the RBM only (minutes)
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
    parser.add_argument("--digits", action="store_true", help="only the binary EBM against the RBM on the digits")
    args = parser.parse_args()
    if args.digits:
        rows = digits_rows()
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh, indent=2)
        return
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


def digits_rows() -> list[dict]:
    """The binary EBM (Gibbs and discrete-Langevin negatives) against the RBM, held-out AIS nats per image."""
    from thermolearn.dynamics.binary_ebm import binary_ebm_log_partition, compare_with_rbm, digits_binary
    from thermolearn.estimators.ais import ais_log_partition as rbm_ais
    from thermolearn.estimators.ais import base_rate_visible_bias

    rows = []
    print(f"{'model':>22} {'params':>7} {'test log-lik':>13} {'± se':>6} {'log Z':>9} {'ESS':>6} {'train s':>8}")
    rbm_done = False
    for sampler in ("gibbs", "langevin"):
        steps = 1 if sampler == "gibbs" else 4  # one sweep of n sites costs about as much as 4 Langevin steps
        c = compare_with_rbm(
            sampler=sampler, iterations=3000, hidden=64, batch_size=100, mcmc_steps=steps, lr=1e-3, progress=False
        )
        d = c.as_dict()
        e, r = d["ebm"], d["rbm"]
        models = [(f"EBM ({sampler})", e)] + ([] if rbm_done else [(f"RBM ({r['method']}-1)", r)])
        rbm_done = True
        for name, m in models:
            ll = m["test_log_likelihood"]
            print(
                f"{name:>22} {m['parameters']:>7} {ll['mean']:>13.3f} {ll['stderr']:>6.3f} {m['log_z']['mean']:>9.3f} "
                f"{m['ais']['effective_sample_size']:>6.1f} {m['train_seconds']:>8.1f}"
            )
            rows.append({"model": name, **{k: v for k, v in m.items() if k not in ("cd_gap", "acceptance")}})
            if m is e:
                ebm_row = rows[-1]
            else:
                rbm_row = rows[-1]
        train, _ = digits_binary()
        long = binary_ebm_log_partition(
            c.ebm.params, base_logits=base_rate_visible_bias(train), schedule="salakhutdinov-murray", n_runs=100
        )
        print(
            f"{'':>22} EBM ({sampler}) log Z with 14,500 AIS steps: {long.log_z:.3f} ± {long.log_z_stderr:.3f} "
            f"(acceptance {e['acceptance'][-1]:.2f})"
        )
        ebm_row["log_z_14500_steps"] = {"mean": long.log_z, "stderr": long.log_z_stderr}
        if sampler == "gibbs":
            rbm = c.rbm_model
            rbm_long = rbm_ais(
                rbm.weights, rbm.visible_bias, rbm.hidden_bias, data=train, schedule="salakhutdinov-murray", n_runs=100
            )
            print(f"{'':>22} RBM log Z with 14,500 AIS steps: {rbm_long.log_z:.3f} ± {rbm_long.log_z_stderr:.3f}")
            rbm_row["log_z_14500_steps"] = {"mean": rbm_long.log_z, "stderr": rbm_long.log_z_stderr}
    print(f"{'independent pixels':>22} {64:>7} {d['independent_pixels_test_log_likelihood']:>13.3f}")
    rows.append({"model": "independent pixels", "test_log_likelihood": d["independent_pixels_test_log_likelihood"]})
    return rows


if __name__ == "__main__":
    main()
