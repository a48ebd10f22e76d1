"""Demo sections: mean field and Bethe on the lattice, every variational method against the exact answer,
and the ELBO of Bayesian linear regression."""

from __future__ import annotations

import numpy as np

from thermolearn.demo.wording import plus_minus, sigmas
from thermolearn.viz.report import Report


def _fmt(x: float | None, digits: int = 6) -> str:
    if x is None or not np.isfinite(x):
        return "-"
    return f"{0.0 if abs(x) < 1e-12 else x:.{digits}g}"


def against_bound(elbo: float, stderr: float, bound: float, name: str = "the mean-field bound") -> str:
    """How a sampled ELBO compares with a bound: within two error bars of it ("reaches"), above it by
    more ("beats it by"), or below it by more ("stays below it by")."""
    difference = elbo - bound
    shown = plus_minus(abs(difference), stderr)
    if sigmas(difference, stderr) <= 2.0:
        side = "above" if difference > 0 else "below"
        return f"reaches {name} within two error bars ({shown} nats {side} it)"
    if difference > 0:
        return f"beats {name} by {shown} nats"
    return f"stays below {name} by {shown} nats"


def section_mean_field_lattice(report: Report) -> None:
    """Mean field and Bethe on the square lattice: the graphical solution and m(T) with three T_c."""
    from thermolearn import Ising
    from thermolearn.exact import onsager
    from thermolearn.variational.belief_propagation import belief_propagation
    from thermolearn.variational.lattice_mean_field import (
        bethe_critical_temperature,
        bethe_magnetization,
        exact_lattice_magnetization,
        mean_field_magnetization,
    )
    from thermolearn.variational.mean_field import mean_field
    from thermolearn.viz.variational_plots import plot_graphical_solution, plot_magnetization_curves

    sec = report.section("Mean field and the Bethe approximation")
    sec.text(
        "The physicist's way around the partition function is the machine learner's variational inference. "
        "For any trial distribution q, the Gibbs-Bogoliubov-Feynman inequality log Z &ge; E<sub>q</sub>[-&beta;E] + "
        "S(q) is the evidence lower bound (ELBO); its gap is KL(q || p). Naive mean field takes q to be a product "
        "of independent spins, whose best means solve m<sub>i</sub> = tanh(&beta;(&sum;<sub>j</sub> J<sub>ij</sub> "
        "m<sub>j</sub> + h<sub>i</sub>)); on a lattice with z neighbours, m = tanh(&beta;(zJm + H)), solved below "
        "graphically: an ordered solution appears when the slope zJ/T at the origin exceeds one."
    )
    plot_graphical_solution(report.figure_path("meanfield_graphical.png"))
    sec.figure("meanfield_graphical.png", "The Weiss equation m = tanh(β(zJm + H)) on the square lattice (z = 4).")

    # m(T): closed forms of the infinite lattice and the solvers on a 16 x 16 periodic lattice
    lattice = Ising.lattice((16, 16))
    tc_mf, tc_bethe, tc_exact = 4.0, bethe_critical_temperature(4), onsager.critical_temperature()
    fine = np.union1d(np.linspace(0.8, 5.0, 300), [tc_exact * (1 - 1e-9), tc_bethe * (1 - 1e-9)])
    coarse = np.linspace(1.0, 5.0, 9)
    mf_points = [
        mean_field(lattice, T, starts=("up",), n_random=0, stability=False).magnetization_per_spin for T in coarse
    ]
    bp_points = [belief_propagation(lattice, T, tol=1e-9, max_iter=3000).magnetization_per_spin for T in coarse]
    plot_magnetization_curves(
        report.figure_path("meanfield_magnetization.png"),
        fine,
        {
            "mean field": np.asarray(mean_field_magnetization(fine, 4)),
            "Bethe": np.asarray(bethe_magnetization(fine, 4)),
            "exact (Yang)": exact_lattice_magnetization(fine, 2),
        },
        {"mean field": tc_mf, "Bethe": tc_bethe, "exact (Yang)": tc_exact},
        points={"mean field": (coarse, np.array(mf_points)), "Bethe": (coarse, np.array(bp_points))},
        title="square lattice: spontaneous magnetisation",
    )
    sec.text(
        f"Mean field orders at T<sub>c</sub> = zJ = 4, the Bethe approximation (belief propagation, exact on trees) "
        f"at 2/ln 2 = {tc_bethe:.4f}, and the exact square lattice at Onsager's {tc_exact:.4f}: each step of the "
        "hierarchy takes more of the fluctuations into account. Markers are the general solvers (damped mean-field "
        "iteration, loopy BP on the directed edges) run on a 16 &times; 16 periodic lattice; lines are the closed forms."
    )
    sec.figure("meanfield_magnetization.png", "m(T) by mean field, Bethe and Yang's exact formula, T_c of each marked.")


def section_variational_inference(report: Report) -> None:
    """One frustrated model by every method; black-box VI with a product and an autoregressive family."""
    from thermolearn import Ising
    from thermolearn.exact import enumerate_exact
    from thermolearn.runs.comparison import compare
    from thermolearn.variational.bbvi import black_box_vi
    from thermolearn.viz.variational_plots import plot_elbo_traces

    sec = report.section("Variational inference: every method against the exact answer")
    # one frustrated model, every method; BBVI with two families
    model = Ising.sherrington_kirkpatrick(12, seed=3)
    T = 0.4
    exact = enumerate_exact(model, T, correlations=False)[0]
    table = compare(model, T, methods=("exact", "mean_field", "tap", "bethe"), seed=0)
    families = {}
    for family in ("product", "autoregressive"):
        families[family] = black_box_vi(model, T, family=family, steps=600, seed=1)
    rows = []
    for r in table.rows:
        rows.append(
            [
                r.method,
                r.kind,
                _fmt(r.log_z),
                "",
                _fmt(r.free_energy_per_spin),
                _fmt(r.energy_per_spin),
                _fmt(r.magnetization_per_spin, 3),
                "yes" if r.converged else "NO",
            ]
        )
    for family, b in families.items():
        rows.append(
            [
                f"bbvi ({family})",
                "lower_bound",
                _fmt(b.elbo),
                f"{b.elbo_stderr:.2g}",
                _fmt(b.free_energy_per_spin),
                _fmt(b.energy_per_spin),
                _fmt(b.magnetization_per_spin, 3),
                "yes" if b.converged else "NO",
            ]
        )
    mf_bound = table.row("mean_field").log_z
    product, auto = families["product"], families["autoregressive"]
    sec.text(
        f"One frustrated model, every method: a Sherrington-Kirkpatrick spin glass of 12 spins at T = {T} (below "
        "its glass temperature 1), with the exact answer by enumeration of all 4096 states. Mean field and black-box VI "
        "are lower bounds on log Z; TAP and Bethe are approximations with no guarantee. Black-box VI uses only the "
        "energies of sampled states (score-function gradients with a leave-one-out control variate, Adam): the product "
        f"family {against_bound(product.elbo, product.elbo_stderr, mf_bound)}, and the autoregressive family, which "
        f"can hold both mirror-image ground states at once, {against_bound(auto.elbo, auto.elbo_stderr, mf_bound)} "
        f"and {against_bound(auto.elbo, auto.elbo_stderr, exact.log_z, 'the exact log Z')}."
    )
    sec.table(["method", "kind", "log Z", "±", "f/spin", "e/spin", "m/spin", "converged"], rows)
    plot_elbo_traces(
        report.figure_path("bbvi_elbo.png"),
        {f"BBVI {family}": b.history for family, b in families.items()},
        {"exact log Z": exact.log_z, "mean-field bound": mf_bound},
        title=f"black-box VI on SK n = 12 at T = {T}",
    )
    sec.figure("bbvi_elbo.png", "ELBO per step (running mean) of black-box VI, below exact log Z.")


def section_elbo_regression(report: Report) -> None:
    """The same bound in machine learning: Bayesian linear regression with a known posterior."""
    from thermolearn.variational.bayesian_regression import BayesianLinearRegression
    from thermolearn.viz.variational_plots import plot_regression_posterior

    sec = report.section("The ELBO in machine learning: Bayesian linear regression")
    problem, w_true = BayesianLinearRegression.synthetic(
        n_samples=20, n_features=2, noise_std=1.0, input_correlation=0.9, seed=2
    )
    fit = problem.mean_field()
    mean, cov = problem.posterior()
    plot_regression_posterior(report.figure_path("regression_elbo.png"), problem, fit, w_true)
    sec.text(
        "The same inequality in machine learning: the ELBO for the posterior over the latent weights of a Bayesian "
        "linear regression, where the exact posterior and the evidence are known. A full Gaussian q reaches the "
        "evidence; the mean-field (factorised) Gaussian, fitted by coordinate ascent, finds the right mean but too "
        "little uncertainty along the correlated direction, and stays below by exactly KL(q || posterior)."
    )
    sec.table(
        ["quantity", "nats"],
        [
            ["log evidence log p(y) (exact)", _fmt(problem.log_evidence(), 8)],
            ["ELBO, full Gaussian q = posterior", _fmt(problem.elbo(mean, cov), 8)],
            ["ELBO, mean-field Gaussian (coordinate ascent)", _fmt(fit.elbo, 8)],
            ["gap = KL(q || posterior)", _fmt(fit.gap, 6)],
            ["closed form ½(Σ log Λ_kk − log det Λ)", _fmt(problem.mean_field_gap(), 6)],
        ],
    )
    sec.figure("regression_elbo.png", "Bayesian linear regression: exact posterior vs mean-field q; ELBO vs evidence.")
