"""Demo section: quantum learning. A short VMC run of an RBM wave function on the transverse-field
Ising chain against the free-fermion ground energy, and a small quantum Boltzmann machine against
the classical BM on mixture-of-modes data."""

from __future__ import annotations

from thermolearn.demo.wording import plus_minus
from thermolearn.viz.report import Report


def section_quantum_learning(report: Report, *, seed: int = 0) -> None:
    from thermolearn.quantum.free_fermions import chain_ground_energy
    from thermolearn.quantum.nqs import RBMWaveFunction, chain
    from thermolearn.quantum.qbm import QBM_MODELS, mode_mixture, train_qbm
    from thermolearn.quantum.vmc import run_vmc
    from thermolearn.viz.quantum_learning_plots import plot_qbm_kl, plot_vmc_energy

    sec = report.section("Quantum learning: neural quantum states and quantum Boltzmann machines")
    n, field = 10, 1.0
    exact = chain_ground_energy(n, field)
    result = run_vmc(
        chain(n, field), RBMWaveFunction(n, 1), iterations=120, n_samples=512, n_chains=16, seed=seed, progress=False
    )
    mean, err = result.final_energy()
    sec.text(
        "An RBM with its hidden units summed out is a wave function, &psi;(s) = e<sup>a&middot;s</sup> "
        "&prod;<sub>j</sub> cosh(b<sub>j</sub> + W<sub>j</sub>&middot;s) (Carleo and Troyer 2017). Variational Monte "
        "Carlo samples |&psi;|<sup>2</sup> with Metropolis chains, averages the local energy "
        "E<sub>loc</sub>(s) = &lang;s|H|&psi;&rang; / &lang;s|&psi;&rang; and moves the parameters by stochastic "
        "reconfiguration, imaginary-time evolution projected on the RBM. Here the critical transverse-field Ising "
        f"chain H = &minus;&Sigma; s<sup>z</sup>s<sup>z</sup> &minus; h &Sigma; s<sup>x</sup>, N = {n}, h = {field:g}, "
        "periodic, with alpha = 1 (N hidden units), 512 samples per iteration."
    )
    sec.table(
        ["VMC energy (last tenth)", "exact (free fermions)", "relative error", "ms per iteration"],
        [
            [
                plus_minus(mean, err),
                f"{exact:.6f}",
                f"{abs(mean - exact) / abs(exact):.2e}",
                f"{result.seconds_per_iteration * 1e3:.2f}",
            ]
        ],
    )
    plot_vmc_energy(
        report.figure_path("quantum_vmc_energy.png"),
        result.energy,
        result.stderr,
        exact,
        title=f"RBM alpha = 1, TFIM chain N = {n}, h = {field:g}",
        n_spins=n,
    )
    sec.figure("quantum_vmc_energy.png", "VMC energy against iteration (error band) and the exact ground energy.")

    q, _ = mode_mixture(6, 4, 0.9, seed=seed)
    runs = {model: train_qbm(q, model, epochs=40, learning_rate=0.1, seed=seed) for model in QBM_MODELS}
    sec.text(
        "A quantum Boltzmann machine (Amin et al. 2018) adds a transverse field to a Boltzmann machine: "
        "P(v) = Tr[&Lambda;<sub>v</sub> e<sup>&minus;H</sup>] / Z with H = &minus;&Sigma; &Gamma; s<sup>x</sup> "
        "&minus; &Sigma; b s<sup>z</sup> &minus; &Sigma; w s<sup>z</sup>s<sup>z</sup>. Exact gradients need "
        "Duhamel's formula for the derivative of ln Tr[&Lambda;<sub>v</sub> e<sup>&minus;H</sup>]; the bQBM trains "
        "the Golden-Thompson lower bound instead, with &Gamma; fixed. Data: 6 spins, a mixture of 4 random modes, "
        "each spin agreeing with its mode with p = 0.9; full-batch Adam, exact KL after each epoch."
    )
    sec.table(
        ["model", "KL after 40 epochs (nats)", "final mean Gamma"],
        [[m, f"{r.kl[-1]:.4f}", f"{r.params.gamma.mean():.3f}"] for m, r in runs.items()],
    )
    plot_qbm_kl(
        report.figure_path("quantum_qbm_kl.png"),
        {m: r.kl for m, r in runs.items()},
        title="N = 6, 4 modes, p = 0.9",
        entropy=runs["qbm"].entropy,
    )
    sec.figure("quantum_qbm_kl.png", "KL(data || model) and the exact log-likelihood of BM, bQBM and QBM per epoch.")
