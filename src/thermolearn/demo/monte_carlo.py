"""Demo sections: Monte Carlo against the exact 2D answer, and annealing a spin glass."""

from __future__ import annotations

import numpy as np

from thermolearn.demo.wording import agreement_words, format_seconds, plus_minus
from thermolearn.viz.report import Report

PARISI_GROUND_STATE = -0.7633
"""Ground-state energy per spin of the SK model as N -> infinity (Parisi's solution)."""


def slowing_down_words(taus: dict[str, float]) -> str:
    """The critical-slowing-down sentence from the longer of the two autocorrelation times of each
    algorithm (sweeps): the cluster updates against single-spin Metropolis."""
    metropolis = taus["metropolis"]
    clusters = {k: v for k, v in taus.items() if k != "metropolis"}
    slowest = max(clusters.values())
    shown = ", ".join(f"{k} {v:.1f}" for k, v in clusters.items())
    if metropolis >= 2 * slowest:
        return (
            f"Single-spin Metropolis needs {metropolis:.1f} sweeps to decorrelate where the cluster updates need "
            f"at most {slowest:.1f} ({shown}): critical slowing down, which the clusters avoid."
        )
    return (
        f"Single-spin Metropolis decorrelates in {metropolis:.1f} sweeps, the cluster updates in {shown}: on this "
        "small lattice the clusters' advantage is less than a factor of two."
    )


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
        "points carry autocorrelation-aware error bars and are drawn over Kaufman's exact finite-lattice curves."
    )
    temps = np.linspace(1.8, 3.0, 7)
    records = []
    z_scores: list[float] = []  # (Wolff - Kaufman) / stderr of E/N and C/N at every point
    for L in (8, 16):
        model = Ising.lattice((L, L))
        for T in temps:
            obs = sample(model, "wolff", float(T), sweeps=2000, burn_in=100, seed=L, progress=False).at()
            k = kaufman(L, float(T))
            for estimate, exact_value in (
                (obs.energy_per_spin, k.energy_per_spin),
                (obs.specific_heat, k.specific_heat_per_spin),
            ):
                if np.isfinite(estimate.stderr) and estimate.stderr > 0:
                    z_scores.append((estimate.mean - exact_value) / estimate.stderr)
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
    sec.figure(
        "ising_sweep.png",
        "Wolff Monte Carlo (points, one standard error) and Kaufman's exact curves (lines) of the energy and "
        f"specific heat: {agreement_words(z_scores) if z_scores else 'no point has an error bar to compare'}.",
    )
    rows = []
    taus = {}
    model = Ising.lattice((16, 16))
    exact = kaufman(16, tc)
    for name in ("metropolis", "wolff", "sw"):
        # the kernels compile (or load from the cache) on their first call: the table times the sampling alone
        sample(Ising.lattice((4, 4)), name, tc, sweeps=2, burn_in=0, seed=0, progress=False)
        result = sample(model, name, tc, sweeps=3000, burn_in=200, seed=1, progress=False)
        obs = result.at()
        e = obs.energy_per_spin
        taus[name] = max(obs.tau_energy.tau, obs.tau_abs_magnetization.tau)
        rows.append(
            [
                name,
                plus_minus(e.mean, e.stderr),
                f"{exact.energy_per_spin:.4f}",
                f"{obs.tau_energy.tau:.1f}",
                f"{obs.tau_abs_magnetization.tau:.1f}",
                format_seconds(result.wall_time),
            ]
        )
    sec.text(f"At T<sub>c</sub> = {tc:.4f} on 16 x 16, 3000 sweeps each. " + slowing_down_words(taus))
    sec.table(["algorithm", "E/N", "exact E/N", "tau_int(E) [sweeps]", "tau_int(|m|) [sweeps]", "time"], rows)


def annealing_verdict(
    means: dict[int, list[float]], bests: dict[int, list[float]], sweeps: tuple[int, ...] | list[int]
) -> str:
    """What the annealing table shows, from its numbers: ``means[N]`` and ``bests[N]`` are the mean and
    best energy per spin of the reads at each of ``sweeps`` (increasing), one instance per N."""
    sizes = sorted(bests)
    falling = [n for n in sizes if all(b < a for a, b in zip(means[n], means[n][1:]))]
    if len(falling) == len(sizes):
        text = "Longer anneals reach lower mean energies at every N. "
    elif falling:
        text = f"Longer anneals reach lower mean energies at N = {', '.join(map(str, falling))}, not at every N. "
    else:
        text = "The mean energy does not fall steadily with the anneal's length here. "
    gaps = {n: bests[n][-1] - PARISI_GROUND_STATE for n in sizes}
    parts = [
        f"{bests[n][-1]:.4f} at N = {n}, {gaps[n]:+.4f} from Parisi's value (N<sup>-2/3</sup> = {n ** (-2 / 3):.4f})"
        for n in sizes
    ]
    text += (
        f"The best read of the longest anneal ({sweeps[-1]} sweeps) is an upper bound on its instance's "
        "ground-state energy: " + "; ".join(parts) + ". "
    )
    if len(sizes) < 2:
        return text
    unsettled = [n for n in sizes if means[n][-1] - bests[n][-1] > 5e-5]
    if all(gaps[a] > gaps[b] for a, b in zip(sizes, sizes[1:])):
        text += "The gap shrinks as N grows, as the theory expects, though one instance per N cannot measure the rate."
    else:
        text += (
            "The gap does not shrink as N grows here, so the table does not show the approach to Parisi's value: "
            "one instance per N scatters by about as much as the N<sup>-2/3</sup> shift"
        )
        text += (
            f", and at N = {', '.join(map(str, unsettled))} the reads of the longest anneal still end at different "
            "energies (mean above best), so its best read may lie above the instance's ground state."
            if unsettled
            else "."
        )
    return text


def section_annealing(report: Report) -> None:
    from thermolearn.models.ising import Ising
    from thermolearn.samplers.annealing import anneal
    from thermolearn.viz.figures import new_figure, save_figure

    sec = report.section("Simulated annealing of a Sherrington-Kirkpatrick spin glass")
    sec.text(
        "Simulated annealing cools many independent reads of a frustrated SK model (Gaussian couplings, "
        "variance 1/N) from hot to cold and ends each with a zero-temperature quench, one instance per N. As "
        f"N &rarr; &infin; the ground-state energy per spin tends to Parisi's {PARISI_GROUND_STATE}; at finite N "
        "its average over instances sits above that by roughly N<sup>-2/3</sup>, and single instances scatter "
        "around the average by an amount of the same order at these sizes."
    )
    rows = []
    means: dict[int, list[float]] = {}
    bests: dict[int, list[float]] = {}
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
            rows.append([str(n), str(sweeps), f"{mean[-1]:.4f}", f"{best[-1]:.4f}", format_seconds(result.seconds)])
        means[n], bests[n] = mean, best
        ax.plot(sweep_counts, mean, "o--", label=f"N = {n}, mean of 16 reads")
        ax.plot(sweep_counts, best, "s-", label=f"N = {n}, best read")
    ax.axhline(PARISI_GROUND_STATE, color="black", lw=1, ls=":", label="Parisi, N = inf")
    ax.set_xscale("log")
    ax.set_xlabel("annealing sweeps")
    ax.set_ylabel("energy per spin")
    ax.legend(fontsize=8)
    save_figure(fig, report.figure_path("annealing.png"))
    sec.figure("annealing.png", "SK energy per spin reached by simulated annealing against the number of sweeps.")
    sec.table(["N", "sweeps", "mean E/N", "best E/N", "time"], rows)
    sec.text(annealing_verdict(means, bests, sweep_counts))
