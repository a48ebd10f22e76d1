"""Demo section: a restricted Boltzmann machine learns the digits, is scored exactly and by AIS, and repairs images."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from thermolearn.demo.compilation import after_compilation
from thermolearn.demo.wording import format_seconds, plus_minus, sigmas
from thermolearn.viz.report import Report

if TYPE_CHECKING:
    from thermolearn.learning.contrastive_divergence import TrainingResult


def _side(error: float, stderr: float, expected: str) -> str:
    """How one estimate's log-likelihood error reads: the side it errs on, against the side it errs on in
    expectation, and whether it is within two error bars of zero."""
    side = "high" if error > 0 else "low"
    words = f"errs {side} by {plus_minus(abs(error), stderr)} nats per image"
    if sigmas(error, stderr) <= 2.0:
        words += " (within two error bars of exact)"
    return words + (
        ", the side it errs on in expectation" if side == expected else ", opposite to its side in expectation"
    )


def ais_raise_verdict(
    ais_error: float, ais_stderr: float, raise_error: float, raise_stderr: float, *, n_images: int
) -> str:
    """The sentence on AIS and RAISE, from their log-likelihood errors (estimate minus exact, nats per
    image) on the same ``n_images`` images with their standard errors.

    In expectation AIS's log Z is low (the log of an unbiased estimate of Z is biased low), so its
    log-likelihood errs high, and RAISE's log-likelihood errs low; one run can land on either side.
    The sentence says which side each landed on and whether the two bracket the exact value."""
    text = (
        "In expectation AIS's log Z errs low (it is the log of an unbiased estimate of Z, a stochastic lower bound), "
        "so its log-likelihood errs high, and RAISE's log-likelihood errs low: on large models, where no exact sum "
        "exists, the two are meant to bracket the answer. One run can land on either side by about its error bar. "
        f"Here, on the same first {n_images} held-out images, AIS {_side(ais_error, ais_stderr, 'high')}; RAISE "
        f"{_side(raise_error, raise_stderr, 'low')}. "
    )
    if raise_error <= 0.0 <= ais_error:
        return text + "The two bracket the exact value, as they should."
    if ais_error <= 0.0 <= raise_error:
        return text + "The two bracket the exact value, but each from the side opposite to its expected one."
    return text + (
        "So the two do not bracket the exact value here: the bracket holds in expectation, not run by run, and "
        "where no exact sum exists it is only as good as the error bars."
    )


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
    # the three on the same first 100 images, paired image by image: AIS's error there is its log Z's
    # error (the same on every image), RAISE's the mean of its per-image differences from the exact values
    n_paired = len(raised.per_image)
    exact_paired = exact.per_image[:n_paired]
    exact_100 = float(np.mean(exact_paired))
    ais_error, ais_error_se = exact.log_z - ais.log_z, ais.log_z_stderr
    differences = raised.per_image - exact_paired
    raise_error = float(np.mean(differences))
    raise_error_se = float(np.std(differences, ddof=1) / np.sqrt(n_paired))
    sec.table(
        [
            "estimate",
            "log Z",
            "held-out log-likelihood (nats/image)",
            f"estimate − exact, first {n_paired} images (paired)",
            "time (compiled)",
        ],
        [
            [
                "exact sum over 2^16 hidden states",
                f"{exact.log_z:.3f}",
                plus_minus(exact.mean, exact.stderr),
                f"0 (exact on them: {exact_100:.3f})",
                format_seconds(exact_seconds),
            ],
            [
                "AIS, 100 runs x 1,450 temperatures",
                plus_minus(ais.log_z, ais.log_z_stderr),
                plus_minus(ais.mean, ais.stderr),
                plus_minus(ais_error, ais_error_se, signed=True),
                format_seconds(ais_seconds),
            ],
            [
                f"RAISE, first {n_paired} images",
                "-",
                f"{plus_minus(raised.mean, raised.stderr)} (on these {n_paired} only)",
                plus_minus(raise_error, raise_error_se, signed=True),
                format_seconds(raised_seconds),
            ],
        ],
    )
    sec.text(
        f"Trained in {result.seconds:.1f} s ({epochs} epochs). AIS anneals from a model of independent pixels "
        "(Salakhutdinov &amp; Murray 2008); RAISE (Burda, Grosse &amp; Salakhutdinov 2015) anneals backwards from "
        "each image. " + ais_raise_verdict(ais_error, ais_error_se, raise_error, raise_error_se, n_images=n_paired)
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
