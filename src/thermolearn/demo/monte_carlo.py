"""Demo sections: Monte Carlo against the exact 2D answer, and annealing a spin glass."""

from __future__ import annotations

import numpy as np

from thermolearn.viz.report import Report

PARISI_GROUND_STATE = -0.7633
"""Ground-state energy per spin of the SK model as N -> infinity (Parisi's solution)."""


def section_ising(report: Report) -> None:
    from thermolearn.exact import onsager
    from thermolearn.exact.kaufman import kaufman
    from thermolearn.models.ising import Ising
    from thermolearn.runs import sample
    from thermolearn.viz.monte_carlo_plots import plot_ising_sweep

    tc = onsager.critical_temperature()
    sec = report.section("Monte Carlo on the 2D Ising model, checked against Kaufman")
    sec.text(
        "Wolff cluster updates sample the periodic L x L ferromagnet at temperatures around T<sub>c</sub>; the "
        "points carry autocorrelation-aware error bars and sit on Kaufman's exact finite-lattice curves. At "
        "T<sub>c</sub> the cluster algorithm decorrelates in a few sweeps where single-spin Metropolis needs many "
        "(critical slowing down)."
    )
    temps = np.linspace(1.8, 3.0, 7)
    records = []
    for L in (8, 16):
        model = Ising.lattice((L, L))
        for T in temps:
            obs = sample(model, "wolff", float(T), sweeps=2000, burn_in=100, seed=L, progress=False).at()
            k = kaufman(L, float(T))
            records.append(
                {
                    "size": L,
                    "temperature": float(T),
                    "algorithm": "wolff",
                    "energy_per_spin": obs.energy_per_spin.as_dict(),
                    "abs_magnetization": obs.abs_magnetization.as_dict(),
                    "specific_heat_per_spin": obs.specific_heat.as_dict(),
                    "susceptibility_per_spin": obs.susceptibility_abs.as_dict(),
                    "binder_cumulant": obs.binder_cumulant.as_dict(),
                    "exact": {"energy_per_spin": k.energy_per_spin, "specific_heat_per_spin": k.specific_heat_per_spin},
                }
            )
    plot_ising_sweep(report.figure_path("ising_sweep.png"), records, 2)
    sec.figure("ising_sweep.png", "Wolff Monte Carlo (points, one standard error) and Kaufman's exact curves (lines).")
    rows = []
    model = Ising.lattice((16, 16))
    exact = kaufman(16, tc)
    for name in ("metropolis", "wolff", "sw"):
        # the kernels compile (or load from the cache) on their first call: the table times the sampling alone
        sample(Ising.lattice((4, 4)), name, tc, sweeps=2, burn_in=0, seed=0, progress=False)
        result = sample(model, name, tc, sweeps=3000, burn_in=200, seed=1, progress=False)
        obs = result.at()
        e = obs.energy_per_spin
        rows.append(
            [
                name,
                f"{e.mean:.4f} +- {e.stderr:.4f}",
                f"{exact.energy_per_spin:.4f}",
                f"{obs.tau_energy.tau:.1f}",
                f"{obs.tau_abs_magnetization.tau:.1f}",
                f"{result.wall_time:.2f}",
            ]
        )
    sec.text(f"At T<sub>c</sub> = {tc:.4f} on 16 x 16, 3000 sweeps each:")
    sec.table(["algorithm", "E/N", "exact E/N", "tau_int(E) [sweeps]", "tau_int(|m|) [sweeps]", "seconds"], rows)


def section_annealing(report: Report) -> None:
    from thermolearn.models.ising import Ising
    from thermolearn.samplers.annealing import anneal
    from thermolearn.viz.figures import new_figure, save_figure

    sec = report.section("Simulated annealing of a Sherrington-Kirkpatrick spin glass")
    sec.text(
        "Simulated annealing cools many independent reads of a frustrated SK model (Gaussian couplings, "
        "variance 1/N) from hot to cold and ends each with a zero-temperature quench. Longer anneals reach lower "
        f"energies; as N grows the best energy per spin approaches Parisi's ground state {PARISI_GROUND_STATE} "
        "(finite N sits a little above it, by roughly N<sup>-2/3</sup>)."
    )
    rows = []
    fig, axes = new_figure()
    ax = axes[0, 0]
    # the annealing kernels compile (or load from the cache) on their first call: the table times the annealing alone
    anneal(Ising.sherrington_kirkpatrick(8, seed=0), sweeps=2, reads=2, seed=0)
    for n in (100, 400):
        model = Ising.sherrington_kirkpatrick(n, seed=n)
        best, mean = [], []
        sweep_counts = (10, 30, 100, 300, 1000)
        for sweeps in sweep_counts:
            result = anneal(model, sweeps=sweeps, reads=16, seed=1)
            best.append(result.best_energy / n)
            mean.append(float(np.mean(result.energies)) / n)
            rows.append([str(n), str(sweeps), f"{mean[-1]:.4f}", f"{best[-1]:.4f}", f"{result.seconds:.2f}"])
        ax.plot(sweep_counts, mean, "o--", label=f"N = {n}, mean of 16 reads")
        ax.plot(sweep_counts, best, "s-", label=f"N = {n}, best read")
    ax.axhline(PARISI_GROUND_STATE, color="black", lw=1, ls=":", label="Parisi, N = inf")
    ax.set_xscale("log")
    ax.set_xlabel("annealing sweeps")
    ax.set_ylabel("energy per spin")
    ax.legend(fontsize=8)
    save_figure(fig, report.figure_path("annealing.png"))
    sec.figure("annealing.png", "SK energy per spin reached by simulated annealing against the number of sweeps.")
    sec.table(["N", "sweeps", "mean E/N", "best E/N", "seconds"], rows)
