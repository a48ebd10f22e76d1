"""Demo section: the thermodynamics of training. Langevin samplers against the exact posterior of
Bayesian linear regression (ULA's bias in closed form, MALA and HMC without it), Welling and Teh's
bimodal posterior, constant-learning-rate SGD as a sampler at temperature ~ eta / S, and seeds as
an ensemble where the posterior predictive is exact (random features)."""

from __future__ import annotations

import numpy as np

from thermolearn.demo.wording import agreement_words
from thermolearn.viz.report import Report


def section_training_dynamics(report: Report, *, seed: int = 0) -> None:
    from thermolearn.dynamics.ensembles import random_features_ensemble
    from thermolearn.dynamics.langevin import run_langevin, ula_stationary_covariance
    from thermolearn.dynamics.posteriors import make_posterior
    from thermolearn.dynamics.sgd_temperature import run_sgd_temperature
    from thermolearn.viz.dynamics_plots import plot_posterior_samples, plot_predictive, plot_sgd_variance

    sec = report.section("The thermodynamics of training: Langevin samplers and the temperature of SGD")
    sec.text(
        "A loss is an energy U(&theta;) = &minus;log p(&theta; | data); Langevin dynamics "
        "&theta; &rarr; &theta; &minus; (&eta;/2)&nabla;U + &radic;&eta; &xi; samples exp(&minus;U) only as "
        "&eta; &rarr; 0. On a Gaussian of precision &Lambda; unadjusted Langevin (ULA) settles exactly at "
        "covariance (&Lambda;(1 &minus; &eta;&Lambda;/4))<sup>&minus;1</sup>; a Metropolis test (MALA) or a "
        "Hamiltonian particle with mass and friction (HMC) removes the bias. Below: the posterior of Bayesian "
        "linear regression (20 points, 2 weights), 8 chains each, errors from the autocorrelation time."
    )
    lr = make_posterior("linear-regression", seed=0)
    assert lr.exact_cov is not None
    step = 0.03
    rows = []
    predicted = ula_stationary_covariance(np.linalg.inv(lr.exact_cov), step)[1, 1]
    for sampler in ("ula", "mala", "hmc"):
        hmc = sampler == "hmc"
        r = run_langevin(
            lr,
            sampler,
            step=0.12 if hmc else step,
            steps=4000,
            n_chains=8,
            seed=seed,
            leapfrog_steps=3 if hmc else 1,
            friction=1.0 if hmc else None,
        )
        cov, err = r.cov_estimates()
        own = predicted if sampler == "ula" else lr.exact_cov[1, 1]
        rows.append(
            [
                sampler,
                f"{cov[1, 1]:.4f} ± {err[1, 1]:.4f}",
                f"{lr.exact_cov[1, 1]:.4f}",
                f"{own:.4f}",
                f"{(cov[1, 1] - own) / err[1, 1]:+.1f}",
                "-" if r.acceptance is None else f"{r.acceptance:.2f}",
            ]
        )
    sec.table(["sampler", "Var theta_2", "exact posterior", "sampler's stationary value", "z", "acceptance"], rows)
    sec.text(
        f"ULA at &eta; = {step:g} is predicted to settle at Var &theta;<sub>2</sub> = {predicted:.4f} rather than "
        f"{lr.exact_cov[1, 1]:.4f}: a bias of {100 * (predicted / lr.exact_cov[1, 1] - 1):.1f} %, which the "
        "exact samplers do not have."
    )

    mix = make_posterior("mixture", seed=0)
    r = run_langevin(mix, "mala", step=0.05, steps=6000, n_chains=8, seed=seed)
    weights = r.mode_weights()
    assert weights is not None and mix.exact_mode_weights is not None
    quad = mix.details["quadrature"]
    plot_posterior_samples(
        report.figure_path("dynamics_mixture.png"),
        r.samples,
        grid=(quad.theta1, quad.theta2, quad.density),
        exact_mean=quad.mean,
        title="MALA on Welling and Teh's mixture posterior",
    )
    sec.text(
        "Welling and Teh's mixture, x ~ &frac12;N(&theta;<sub>1</sub>, 2) + &frac12;N(&theta;<sub>1</sub> + "
        "&theta;<sub>2</sub>, 2), 100 data: two modes on either side of &theta;<sub>2</sub> = 0. The weight of "
        f"the upper mode: MALA {weights[0].mean:.3f} ± {weights[0].stderr:.3f}, exact (2D quadrature) "
        f"{mix.exact_mode_weights[0]:.4f}."
    )
    sec.figure("dynamics_mixture.png", "MALA samples over the exact posterior's contours (quadrature).")

    sec.text(
        "Constant-learning-rate SGD is a sampler too. On the quadratic loss A&theta;<sup>2</sup>/2 with "
        "per-sample gradient variance B and batches of S, its stationary variance is exactly "
        "&eta;B / (SA(2 &minus; &eta;A)) (the SDE limit &eta;B / (2SA)): a temperature set by &eta;/S, "
        "measured here with 16 runs per point."
    )
    runs, rows, z_scores = [], [], []
    settings = [(s, eta) for s in (4, 8) for eta in ((0.1, 0.4, 0.8) if s == 4 else (0.2, 0.8, 1.6))]
    for k, (s, eta) in enumerate(settings):
        # a seed of its own per row: rows sharing one seed share their noise, and their errors look like a bias
        res = run_sgd_temperature(1.0, 1.0, s, eta, 4000, n_chains=16, seed=seed + k, progress=False)
        runs.append({"lr": eta, "batch": s, "variance": {"mean": res.variance, "stderr": res.variance_stderr}})
        z_scores.append((res.variance - res.theory_variance) / res.variance_stderr)
        rows.append(
            [
                f"S = {s}, eta = {eta:g}",
                f"{eta / s:.3f}",
                f"{res.variance:.5f} ± {res.variance_stderr:.5f}",
                f"{res.theory_variance:.5f}",
                f"{res.sde_variance:.5f}",
            ]
        )
    sec.table(["run", "eta / S", "variance", "theory", "SDE limit"], rows)
    plot_sgd_variance(report.figure_path("dynamics_sgd.png"), runs, curvature=1.0, noise=1.0)
    sec.figure(
        "dynamics_sgd.png",
        "Stationary variance of SGD against eta / S, S = 4 and 8, against their exact curves, which part from the "
        "SDE line as eta A grows: " + agreement_words(z_scores) + ".",
    )

    sec.text(
        "Seeds as an ensemble: a linear model on 50 random Fourier features of the x<sup>3</sup> toy (20 points, "
        "y = x<sup>3</sup> + N(0, 3<sup>2</sup>)) has an exact Gaussian posterior predictive. 100 randomised-MAP "
        "members (each fitted to freshly perturbed targets and a prior anchor) are exact posterior draws; 100 plain "
        "seeds (gradient descent on the squared loss from prior draws) and SGLD are not."
    )
    comparison = random_features_ensemble(members=100, sgld_steps=10000, seed=seed)
    sec.table(
        ["method", "mean |mean - exact| / sd", "mean var / exact var"],
        [
            [name, f"{v['mean_error_in_sd']:.3f}", f"{v['variance_ratio']:.3f}"]
            for name, v in comparison.summary().items()
        ],
    )
    plot_predictive(report.figure_path("dynamics_predictive.png"), comparison)
    sec.figure(
        "dynamics_predictive.png",
        "Predictive mean and 2 sd bands of each method (lines) over the exact posterior predictive (grey).",
    )
