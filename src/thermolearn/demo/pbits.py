"""Demo section: p-bits. What each hardware update rule samples, an invertible AND gate run both
ways, and a factorisation by a multiplier run backwards."""

from __future__ import annotations

import numpy as np

from thermolearn.viz.report import Report


def chains_that_found(success_fraction: float, chains: int) -> int:
    """Chains that visited a factorisation, from the fraction of chains that did."""
    return int(round(success_fraction * chains))


def found_in(hits: int, chains: int, sweeps: int) -> str:
    """``found in 31 of 32 chains within 2000 sweeps``, or the words for all and none."""
    if hits == chains:
        return f"found in every one of its {chains} chains within {sweeps} sweeps"
    if hits == 0:
        return f"found in none of its {chains} chains within {sweeps} sweeps"
    return f"found in {hits} of {chains} chains within {sweeps} sweeps"


def factoring_sentence(
    *,
    width: int,
    p_bits: int,
    free_p_bits: int,
    factors: list[int] | None,
    hits: int,
    chains: int,
    sweeps: int,
    stationary: tuple[float, float],
    exact: float | None,
) -> str:
    """The factoring sentence of 35 from the run's numbers: how many chains found the factors, and the
    time on the factorisation against its exact value (when there is one)."""
    text = (
        f"Factoring: a {width}&times;{width}-bit multiplier of AND gates and adders ({p_bits} p-bits, pairwise "
        "couplings only) with its product clamped to 35"
    )
    if not factors or hits == 0:
        return text + f" found no factorisation in any of its {chains} chains within {sweeps} sweeps in this run."
    text += f": {factors[0]} &times; {factors[1]} {found_in(hits, chains, sweeps)}"
    mean, stderr = stationary
    text += f"; at equilibrium it sits on the factorisation a fraction {mean:.3f} ± {stderr:.3f} of the time"
    if exact is not None:
        text += f" (exact, by enumerating its {free_p_bits} free p-bits: {exact:.3f})"
    return text + "."


def section_pbits(report: Report, *, seed: int = 0) -> None:
    from thermolearn.models.ising import Ising
    from thermolearn.pbits.factoring import factor
    from thermolearn.pbits.invertible import run_gate
    from thermolearn.pbits.stationary import (
        boltzmann_distribution,
        stationary_distribution,
        total_variation,
        tv_distance,
        tv_noise_floor,
    )
    from thermolearn.pbits.updates import UPDATE_MODELS, run_pbits
    from thermolearn.viz.pbits_plots import plot_distributions, plot_success_curve

    sec = report.section("p-bits: probabilistic computing, honestly simulated")
    sec.text(
        "A p-bit is a binary stochastic neuron, m<sub>i</sub> = sgn(tanh(I<sub>0</sub> I<sub>i</sub>) &minus; u) "
        "with u uniform in (&minus;1, 1) and input I<sub>i</sub> = &Sigma;<sub>j</sub> J<sub>ij</sub> m<sub>j</sub> "
        "+ h<sub>i</sub>: the heat-bath update of an Ising spin, built in hardware from stochastic magnetic tunnel "
        "junctions or emulated on FPGAs. What a p-bit machine samples depends on <em>when</em> the p-bits update. "
        "One at a time (sequential) or a colour class of a graph colouring at once (chromatic) is exact Gibbs "
        "sampling. All at once (synchronous) samples Peretto's law exp(&beta;h&middot;m) &Pi;<sub>i</sub> "
        "cosh(&beta;I<sub>i</sub>), not Boltzmann's. On Poisson clocks with neighbour states broadcast at rate "
        "&eta; per p-bit update time (asynchronous), the bias shrinks as &eta; grows. The table measures each on a "
        "frustrated four-p-bit network against exact enumeration."
    )
    J = np.zeros((4, 4))
    for i, j, w in ((0, 1, 0.8), (1, 2, -0.6), (0, 2, 0.5), (2, 3, 0.7)):
        J[i, j] = J[j, i] = w
    model = Ising.from_dense(J, [0.3, -0.2, 0.1, 0.4])
    beta, eta = 0.8, 2.0
    boltzmann = boltzmann_distribution(model, beta)
    rows = []
    for k, update in enumerate(UPDATE_MODELS):
        run = run_pbits(model, beta=beta, update=update, n_sweeps=40_000, n_chains=8, eta=eta, seed=seed + k)
        tv = total_variation(run, boltzmann)
        bias = tv_distance(stationary_distribution(model, beta, update, eta=eta), boltzmann)
        rows.append([update, f"{tv.mean:.4f} ± {tv.stderr:.4f}", f"{tv_noise_floor(run):.4f}", f"{bias:.4f}"])
    sec.table(["update model", "TV to Boltzmann (sampled)", "noise floor", "exact bias"], rows)
    sec.text(
        f"I<sub>0</sub> = {beta}, 8 chains &times; 40 000 sweeps each; asynchronous with &eta; = {eta}. The noise "
        "floor is the distance an exact sampler shows at this run's sampling noise; the exact bias is the TV distance "
        "between the update model's own stationary law and Boltzmann's."
    )

    sec.text(
        "Invertible logic: the AND gate of Camsari et al. (2017), J = [[0, &minus;1, 2], [&minus;1, 0, 2], [2, 2, 0]], "
        "h = [1, 1, &minus;2], has its four truth-table rows as ground states and the other four 4 or 12 higher, so "
        "P(valid) = 4 / (4 + 3e<sup>&minus;4I<sub>0</sub></sup> + e<sup>&minus;12I<sub>0</sub></sup>). Clamp the "
        "inputs and it computes; clamp the output to 0 and it samples the three inputs that give 0."
    )
    gate_rows = []
    panels = []
    for label, clamps in (("free", {}), ("forward A=1, B=1", {"A": 1, "B": 1}), ("inverted C=0", {"C": 0})):
        for update in ("sequential", "synchronous"):
            r = run_gate("and", i0=1.0, update=update, n_sweeps=10_000, n_chains=8, clamps=clamps, seed=seed)
            gate_rows.append(
                [label, update, f"{r.p_valid.mean:.4f} ± {r.p_valid.stderr:.4f}", f"{r.p_valid_exact:.4f}"]
            )
            if label.startswith("inverted"):
                names = ["".join(str(row["bits"][v]) for v in r.visible) for row in r.rows()]
                panels.append((f"AND, C = 0 clamped, {update}", [f"AB={n}" for n in names], r.sampled, r.exact))
    sec.table(["AND gate", "update", "P(valid) sampled", "exact (of the update model)"], gate_rows)
    plot_distributions(report.figure_path("pbits_and_inverted.png"), panels, title="AND run backwards at I0 = 1")
    sec.figure(
        "pbits_and_inverted.png",
        "The AND gate with its output clamped to 0: the inputs (A, B) sampled (bars) against the exact law of the "
        "update model (dots). Sequential p-bits find the three consistent inputs equally often; synchronous ones "
        "sample their own, different law.",
    )

    result = factor(35, i0=0.5, n_sweeps=2000, n_chains=32, seed=seed)
    hard = factor(143, i0=0.5, n_sweeps=2000, n_chains=32, seed=seed, exact=False)
    plot_success_curve(
        report.figure_path("pbits_factor.png"),
        [
            (
                f"35 ({result.free_p_bits} free p-bits)",
                result.curve_sweeps,
                result.curve_success,
                result.curve_low,
                result.curve_high,
            ),
            (
                f"143 ({hard.free_p_bits} free p-bits)",
                hard.curve_sweeps,
                hard.curve_success,
                hard.curve_low,
                hard.curve_high,
            ),
        ],
        title="P(factorisation visited within k sweeps), 32 chains, I0 = 0.5",
    )
    sec.text(
        factoring_sentence(
            width=result.width,
            p_bits=result.p_bits,
            free_p_bits=result.free_p_bits,
            factors=result.factors,
            hits=chains_that_found(result.success_probability.mean, result.n_chains),
            chains=result.n_chains,
            sweeps=result.n_sweeps,
            stationary=(result.stationary_probability.mean, result.stationary_probability.stderr),
            exact=result.stationary_probability_exact,
        )
        + f" 143 = 11 &times; 13 needs {hard.p_bits} p-bits; a factorisation of it was "
        + found_in(chains_that_found(hard.success_probability.mean, hard.n_chains), hard.n_chains, hard.n_sweeps)
        + "."
    )
    sec.figure(
        "pbits_factor.png",
        "Success probability against sweeps with 95% Wilson intervals over independent chains started at random.",
    )
