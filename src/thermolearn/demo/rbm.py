"""Demo section: a restricted Boltzmann machine learns the digits, is scored exactly and by AIS, and repairs images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thermolearn.demo.compilation import after_compilation
from thermolearn.viz.report import Report

if TYPE_CHECKING:
    from thermolearn.learning.contrastive_divergence import TrainingResult


def section_rbm(report: Report, *, hidden: int = 16, epochs: int = 30, seed: int = 0) -> None:
    from thermolearn.datasets.binary_images import load_binary_images
    from thermolearn.datasets.damage import damage_mask
    from thermolearn.estimators.ais import FAST, rbm_log_likelihood
    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.models.rbm import RBM
    from thermolearn.viz.figures import plot_image_grid
    from thermolearn.viz.rbm_plots import plot_filters, plot_repair, plot_training

    sec = report.section("Restricted Boltzmann machines: learning the digits, scoring them, repairing them")
    sec.text(
        "A restricted Boltzmann machine is an Ising model of two layers, binary pixels v and hidden units h, with "
        "energy E(v, h) = &minus;v<sup>T</sup>W h &minus; b<sup>T</sup>v &minus; c<sup>T</sup>h. Training balances two "
        "forces: the data pull the statistics &lt;v h<sup>T</sup>&gt; up (positive phase, exact given p(h|v)) and the "
        "model's own samples push them down (negative phase, here contrastive divergence: one block Gibbs sweep "
        f"from the data). {hidden} hidden units learn scikit-learn's binarised 8 x 8 digits; with so few hidden units "
        "the partition function is an exact sum over 2<sup>16</sup> hidden states, so every epoch's log-likelihood "
        "is exact, and annealed importance sampling can be checked against it."
    )
    train = load_binary_images("digits", split="train").data
    test = load_binary_images("digits", split="test").data
    model = RBM.random(train.shape[1], hidden, data=train, seed=seed)

    def training(n_epochs: int) -> TrainingResult:
        return train_rbm(
            model,
            train,
            epochs=n_epochs,
            method="cd",
            k=1,
            batch_size=20,
            learning_rate=0.1,
            momentum=0.5,
            seed=seed,
            progress=False,
            eval_data=test,
        )

    training(1)  # compiles the training step, so the time reported below is the training's own
    result = training(epochs)
    rbm = result.model
    h = result.history
    plot_training(
        report.figure_path("rbm_training.png"),
        h.reconstruction_error,
        h.log_likelihood,
        title=f"CD-1 on the digits, {hidden} hidden units",
    )
    sec.figure(
        "rbm_training.png",
        "Left: reconstruction error per epoch. Right: the exact log-likelihood of the "
        "300 held-out digits (nats per image), log Z summed exactly over the hidden layer.",
    )
    plot_filters(report.figure_path("rbm_filters.png"), rbm.weights, (8, 8), n=hidden)
    sec.figure(
        "rbm_filters.png",
        "What each hidden unit looks for: its weights W[:, j] as an image (red: pixel on raises the unit's input).",
    )

    exact, exact_seconds = after_compilation(
        lambda: rbm_log_likelihood(rbm.weights, rbm.visible_bias, rbm.hidden_bias, test, method="exact")
    )
    ais, ais_seconds = after_compilation(
        lambda: rbm_log_likelihood(
            rbm.weights,
            rbm.visible_bias,
            rbm.hidden_bias,
            test,
            method="ais",
            base_data=train,
            schedule=FAST,
            n_runs=100,
            seed=seed + 1,
        )
    )
    raised, raised_seconds = after_compilation(
        lambda: rbm_log_likelihood(
            rbm.weights,
            rbm.visible_bias,
            rbm.hidden_bias,
            test[:100],
            method="raise",
            base_data=train,
            schedule=FAST,
            seed=seed + 2,
        )
    )
    exact_100 = float(np.mean(-rbm.free_energy(test[:100])) - exact.log_z)
    sec.table(
        ["estimate", "log Z", "held-out log-likelihood (nats/image)", "seconds (compiled)"],
        [
            [
                "exact sum over 2^16 hidden states",
                f"{exact.log_z:.3f}",
                f"{exact.mean:.3f} ± {exact.stderr:.3f}",
                f"{exact_seconds:.2f}",
            ],
            [
                "AIS, 100 runs x 1,450 temperatures (optimistic side)",
                f"{ais.log_z:.3f} ± {ais.log_z_stderr:.3f}",
                f"{ais.mean:.3f} ± {ais.stderr:.3f}",
                f"{ais_seconds:.2f}",
            ],
            [
                "RAISE, first 100 images (conservative side)",
                "-",
                f"{raised.mean:.3f} ± {raised.stderr:.3f} (exact on them: {exact_100:.3f})",
                f"{raised_seconds:.2f}",
            ],
        ],
    )
    sec.text(
        f"Trained in {result.seconds:.1f} s ({epochs} epochs). AIS anneals from a model of independent pixels "
        "(Salakhutdinov &amp; Murray 2008) and its log Z is a stochastic lower bound, so its log-likelihood errs "
        "high; RAISE (Burda, Grosse &amp; Salakhutdinov 2015) anneals backwards from each image and errs low. On "
        "large models, where no exact sum exists, the two together bracket the answer."
    )

    samples = rbm.gibbs_trace(rbm.sample(32, n_steps=1, seed=seed + 3), 500, seed=seed + 4, every=500)
    plot_image_grid(
        report.figure_path("rbm_samples.png"),
        samples.probabilities[-1],
        (8, 8),
        title="samples: 500 block Gibbs sweeps from noise",
        vmin=0.0,
        vmax=1.0,
    )
    sec.figure(
        "rbm_samples.png",
        "Fantasies of the trained machine: independent chains after 500 block Gibbs "
        "sweeps (shown: the mean of v given the last hidden state).",
    )

    rng = np.random.default_rng(seed + 5)
    original = test[:8].astype(np.float64)
    damaged_px = damage_mask(len(original), (8, 8), "bottom", 0.5, rng)
    damaged = np.where(damaged_px, 0.0, original)
    trace = rbm.gibbs_trace(damaged, 200, seed=seed + 6, every=2, clamp=~damaged_px)
    repaired = trace.probabilities[51:].mean(axis=0)
    shown = np.where(damaged_px, 0.5, original)
    plot_repair(
        report.figure_path("rbm_repair.png"),
        [("original", original), ("damaged", shown), ("repaired", repaired)],
        (8, 8),
        trace.sweeps,
        trace.free_energy,
        title="repairing digits whose lower half was erased",
    )
    correct_before = float(((damaged == original) & damaged_px).sum() / damaged_px.sum())
    correct_after = float((((repaired >= 0.5) == original) & damaged_px).sum() / damaged_px.sum())
    sec.figure(
        "rbm_repair.png",
        "Image repair: the known upper half is clamped, block Gibbs sampling fills in the "
        "lower half, and the free energy F(v) of each image falls as it is restored. Erased pixels correct: "
        f"{correct_before:.0%} left blank, {correct_after:.0%} after repair.",
    )
