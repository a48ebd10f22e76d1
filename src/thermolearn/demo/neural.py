"""Demo section: a variational autoregressive network on a small lattice, beating mean field
against the exact answer, and made exact by importance sampling and neural MCMC."""

from __future__ import annotations

import numpy as np

from thermolearn.demo.wording import plus_minus
from thermolearn.viz.report import Report

TEMPERATURES = (2.0, 2.269, 3.0)
STEPS = 300  # the same compiled training step as the tests of thermolearn.neural (4x4, batch 256)


def _span(values: list[float], fmt: str) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:{fmt}}" if f"{lo:{fmt}}" == f"{hi:{fmt}}" else f"{lo:{fmt}} to {hi:{fmt}}"


def van_verdict(
    relative_errors: list[float],
    absolute_errors: list[float],
    mean_field_relative_errors: list[float],
    acceptances: list[float],
    pareto_ks: list[float],
) -> str:
    """The sentences on the VAN's free energy, importance sampling and neural MCMC, from the per-temperature
    numbers: (F_q - F) / |F|, F_q - F, mean field's (F_MF - F) / |F|, the Metropolis-Hastings acceptance
    and the Pareto k-hat of the importance weights."""
    rel = [abs(r) for r in relative_errors]
    above = all(r > 0 for r in relative_errors)
    where = (
        f"above Kaufman's exact F by a relative error of {_span(rel, '.1e')}"
        if above
        else f"within a relative error of {_span(rel, '.1e')} of Kaufman's exact F"
    )
    text = (
        f"Its F<sub>q</sub> lands {where} (absolute {_span([abs(a) for a in absolute_errors], '.4f')}), where naive "
        f"mean field is off by {_span([100 * abs(m) for m in mean_field_relative_errors], '.1f')} per cent. "
    )
    ks = [k for k in pareto_ks if np.isfinite(k)]
    if not ks:
        health = "here k&#770; could not be estimated"
    elif max(ks) <= 0.5:
        health = f"here k&#770; is at most {max(ks):.2f}, below 0.5"
    else:
        health = f"here k&#770; reaches {max(ks):.2f}, above 0.5: that error bar is too small"
    text += (
        "Reweighting fresh samples of q by p/q gives an unbiased estimate of Z (importance sampling, with the "
        "effective sample size and the Pareto tail k&#770; of the weights as its health checks: above 0.5 the error "
        f"bar is too small; {health}), and using q as the proposal of a Metropolis-Hastings chain makes sampling exact"
    )
    lo, hi = min(acceptances), max(acceptances)
    share = f"{100 * lo:.0f}" if round(100 * lo) == round(100 * hi) else f"{100 * lo:.0f} to {100 * hi:.0f}"
    if lo > 0.5:
        return text + f", with most proposals accepted ({share} per cent)."
    if hi < 0.5:
        return text + f", though only {share} per cent of the proposals are accepted."
    return text + f", with {share} per cent of the proposals accepted."


def section_neural_samplers(report: Report) -> None:
    """A VAN on the 4x4 periodic ferromagnet at three temperatures: F_q against Kaufman's exact F and
    mean field, the importance-sampling ln Z and the Metropolis-Hastings acceptance of q."""
    from thermolearn import Ising
    from thermolearn.exact.kaufman import kaufman
    from thermolearn.neural import (
        exact_log_z,
        mean_field_log_z,
        neural_importance_sampling,
        neural_mcmc,
        train_van,
    )
    from thermolearn.viz.neural_plots import plot_van_training

    sec = report.section("Neural samplers: a variational autoregressive network against the exact answer")
    L = 4
    model = Ising.lattice((L, L))
    rows = []
    runs = {}
    rel_errors, abs_errors, mf_errors, acceptances, pareto_ks = [], [], [], [], []
    for T in TEMPERATURES:
        run = train_van(model, T, steps=STEPS, batch_size=256, seed=0, n_eval=4096, progress=False)
        runs[T] = run
        exact_f = -T * kaufman(L, T).log_z
        mf_f = -T * mean_field_log_z(model, T)[0]
        nis = neural_importance_sampling(run.network, model, T, n_samples=4096, seed=1)
        mc = neural_mcmc(run.network, model, T, n_chains=8, n_sweeps=100, burn_in=10, local_sweeps=0, seed=2)
        b = run.bound
        abs_errors.append(b.free_energy - exact_f)
        rel_errors.append(abs_errors[-1] / abs(exact_f))
        mf_errors.append((mf_f - exact_f) / abs(exact_f))
        acceptances.append(mc.global_acceptance)
        pareto_ks.append(nis.pareto_k)
        rows.append(
            [
                f"{T:g}",
                f"{exact_f:.5f}",
                plus_minus(b.free_energy, b.free_energy_stderr),
                f"{rel_errors[-1]:.1e}",
                f"{mf_errors[-1]:.1e}",
                plus_minus(nis.free_energy, nis.free_energy_stderr),
                f"{nis.ess / nis.n_samples:.3f}",
                f"{nis.pareto_k:.2f}",
                f"{mc.global_acceptance:.3f}",
            ]
        )
    sec.text(
        "A generative network can be the trial distribution q of the Gibbs-Bogoliubov-Feynman bound, with a far "
        "richer family than mean field (Wu, Wang and Zhang 2019). A MADE network writes q(s) = &prod;<sub>i</sub> "
        "q(s<sub>i</sub> | s<sub>&lt;i</sub>), so it is sampled exactly, spin by spin, and log q(s) is exact: the "
        "variational free energy F<sub>q</sub> = E<sub>q</sub>[E + T log q] &ge; F is estimated without bias. It is "
        "trained by the REINFORCE gradient with a baseline while &beta; is annealed up to 1/T "
        f"({STEPS} steps of 256 samples here) on the {L} &times; {L} periodic ferromagnet. "
        + van_verdict(rel_errors, abs_errors, mf_errors, acceptances, pareto_ks)
    )
    sec.table(
        [
            "T",
            "exact F (Kaufman)",
            "VAN F_q",
            "rel. error",
            "mean field rel. error",
            "NIS -T ln Z",
            "ESS / N",
            "Pareto k",
            "MH acc.",
        ],
        rows,
    )
    T = TEMPERATURES[1]
    run = runs[T]
    grid = np.linspace(float(run.betas[0]), 1.0 / T, 40)
    exact = exact_log_z(model, 1.0 / grid)
    mf = mean_field_log_z(model, 1.0 / grid)
    plot_van_training(
        report.figure_path("neural_van.png"),
        run.betas,
        run.history,
        reference_betas=grid,
        exact_free_energy=None if exact is None else [-z / b for z, b in zip(exact, grid)],
        mean_field_free_energy=[-z / b for z, b in zip(mf, grid)],
        bound=run.bound.free_energy,
        bound_stderr=run.bound.free_energy_stderr,
        n_spins=model.n_spins,
        title=f"VAN on the {L}x{L} periodic ferromagnet, annealed to T = {T:g}",
    )
    sec.figure(
        "neural_van.png",
        "β F_q per spin of the training batches as β is annealed, on Kaufman's exact curve and below mean field; "
        "right: the relative excess F_q - F over the steps.",
    )
