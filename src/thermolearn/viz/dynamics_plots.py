"""Pictures of training dynamics: posterior samples over the exact contours, and the stationary
variance of SGD against eta / S with the discrete-time theory and its SDE limit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from thermolearn.viz.figures import NO_ERROR_BAR_NOTE, errorbar_marking_missing, new_figure, require_items, save_figure


def _gaussian_grid(mean: np.ndarray, cov: np.ndarray, n: int = 160):
    sd = np.sqrt(np.diag(cov))
    t1 = np.linspace(mean[0] - 4 * sd[0], mean[0] + 4 * sd[0], n)
    t2 = np.linspace(mean[1] - 4 * sd[1], mean[1] + 4 * sd[1], n)
    a1, a2 = np.meshgrid(t1, t2, indexing="ij")
    d = np.stack([a1 - mean[0], a2 - mean[1]], axis=-1)
    q = np.einsum("...i,ij,...j->...", d, np.linalg.inv(cov), d)
    return t1, t2, np.exp(-0.5 * q)


def plot_posterior_samples(
    path,
    samples: np.ndarray,
    *,
    exact_mean: np.ndarray | None = None,
    exact_cov: np.ndarray | None = None,
    grid: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    title: str = "",
    max_points: int = 4000,
):
    """2D samples (n, 2) as dots over the exact posterior's contours: the Gaussian (exact_mean,
    exact_cov) or a density on a grid ``(theta1, theta2, density[i, j])``; the sample mean and the
    exact mean marked."""
    pts = np.asarray(samples, dtype=np.float64).reshape(-1, np.shape(samples)[-1])
    if pts.shape[1] != 2:
        raise ValueError(f"plot_posterior_samples draws 2D posteriors, got dimension {pts.shape[1]}")
    fig, axes = new_figure(width=4.6, height=4.0)
    ax = axes[0, 0]
    if len(pts) > max_points:
        pts = pts[np.linspace(0, len(pts) - 1, max_points).astype(int)]
    ax.plot(pts[:, 0], pts[:, 1], ".", ms=1.5, alpha=0.35, color="C0", label="samples")
    if grid is None and exact_mean is not None and exact_cov is not None:
        grid = _gaussian_grid(np.asarray(exact_mean), np.asarray(exact_cov))
    if grid is not None:
        t1, t2, dens = grid
        top = float(np.max(dens))
        levels = top * np.exp(-0.5 * np.array([9.0, 4.0, 1.0]))  # 3, 2, 1 "sigma" of a Gaussian
        ax.contour(t1, t2, dens.T, levels=levels, colors="C3", linewidths=0.9)
    mean = pts.mean(axis=0)
    ax.plot([mean[0]], [mean[1]], "x", color="k", ms=8, label="sample mean")
    if exact_mean is not None:
        ax.plot([exact_mean[0]], [exact_mean[1]], "+", color="C3", ms=10, label="exact mean")
    ax.set_xlabel("theta_1")
    ax.set_ylabel("theta_2")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)


def plot_sgd_variance(
    path,
    runs: Sequence[dict],
    *,
    curvature: float,
    noise: float,
    title: str = "",
):
    """Measured stationary variance against eta / S (one colour per batch size S, error bars),
    with the discrete-time theory eta B / (S A (2 - eta A)) per S and the SDE line eta B / (2 S A).
    ``runs``: dicts with lr, batch, variance (mean, stderr); a stderr of None (too few
    independent blocks to estimate one) is drawn as an open marker without a bar."""
    require_items("runs", runs, "run (a dict with lr, batch and variance {mean, stderr})")
    fig, axes = new_figure(width=5.0, height=3.6)
    ax = axes[0, 0]
    batches = sorted({int(r["batch"]) for r in runs})
    x_max = max(r["lr"] / r["batch"] for r in runs)
    unbarred = 0
    for k, s in enumerate(batches):
        mine = sorted((r for r in runs if int(r["batch"]) == s), key=lambda r: r["lr"])
        x = np.array([r["lr"] / s for r in mine])
        y = np.array([np.nan if r["variance"]["mean"] is None else r["variance"]["mean"] for r in mine], dtype=float)
        e = [r["variance"]["stderr"] for r in mine]
        unbarred += errorbar_marking_missing(ax, x, y, e, color=f"C{k}", label=f"SGD, S = {s}", capsize=0.0)
        lr = np.linspace(0.0, max(r["lr"] for r in mine), 100)
        ax.plot(lr / s, lr * noise / (s * curvature * (2.0 - lr * curvature)), "-", color=f"C{k}", lw=0.9)
    xs = np.linspace(0.0, x_max, 50)
    ax.plot(xs, xs * noise / (2.0 * curvature), "--", color="0.4", lw=0.9, label="SDE limit eta B / (2 S A)")
    if unbarred:
        ax.plot([], [], "o", color="0.4", mfc="none", ls="none", label=NO_ERROR_BAR_NOTE)
    ax.set_xlabel("eta / S")
    ax.set_ylabel("stationary variance of theta")
    ax.set_title(title or f"temperature of SGD: A = {curvature:g}, B = {noise:g}", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_ensemble(path, record: dict, *, title: str = ""):
    """Left: each seed's test NLL (dots), their mean +- stderr and the ensemble's NLL; middle:
    rho(t) = corr(theta(t), theta(0)) with the 1/e line; right: distances between seeds before
    and after aligning hidden units (relative to the parameter norm)."""
    fig, axes = new_figure(ncols=3, width=3.6, height=3.2)
    ax = axes[0, 0]
    per = np.asarray(record["test_loss_per_seed"])
    ax.plot(np.arange(len(per)), per, "o", color="C0", label="single seeds")
    m, e = record["test_loss"]["mean"], record["test_loss"]["stderr"] or 0.0
    ax.axhspan(m - e, m + e, color="C0", alpha=0.2, label="mean ± stderr")
    ax.axhline(record["ensemble_loss"], color="C3", label="ensemble")
    ax.set_xlabel("seed")
    ax.set_ylabel("test NLL (nats per example)")
    ax.legend(fontsize=7)
    ax.set_title(title or record.get("task", ""), fontsize=9)
    ax = axes[0, 1]
    rho = np.asarray(record["rho"])
    ax.plot(np.arange(len(rho)), rho, "-", color="C2")
    ax.axhline(np.exp(-1.0), color="0.5", ls="--", lw=0.8, label="1/e")
    ax.set_xlabel("epoch")
    ax.set_ylabel("corr(theta(t), theta(0))")
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    if record.get("distance_raw") is not None:
        vals = [record["distance_raw"], record["distance_aligned"]]
        ax.bar([0, 1], [v["mean"] for v in vals], yerr=[v["spread"] or 0.0 for v in vals], color=["C7", "C1"])
        ax.set_xticks([0, 1], ["raw", "aligned"])
    ax.set_ylabel("|theta_k - theta_0| / |theta|")
    ax.set_title("distance between seeds", fontsize=9)
    return save_figure(fig, path)


def plot_predictive(path, comparison):
    """Predictive mean +- 2 sd on the grid: exact (shaded) against each method (lines)."""
    fig, axes = new_figure(ncols=len(comparison.members), width=3.6, height=3.2)
    x = comparison.x
    sd = np.sqrt(comparison.exact_var)
    for k, (name, (m, v)) in enumerate(comparison.members.items()):
        ax = axes[0, k]
        ax.fill_between(x, comparison.exact_mean - 2 * sd, comparison.exact_mean + 2 * sd, color="0.8", label="exact")
        ax.plot(x, comparison.exact_mean, color="0.3", lw=0.9)
        ax.plot(x, m, color=f"C{k}", label=name)
        ax.plot(x, m - 2 * np.sqrt(v), color=f"C{k}", ls="--", lw=0.8)
        ax.plot(x, m + 2 * np.sqrt(v), color=f"C{k}", ls="--", lw=0.8)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_ebm(path, result, *, data: np.ndarray | None = None):
    """Left: the model density exp(-E)/Z on the box with data points; middle: short-run (red) and
    long-run (blue) samples; right: held-out log-likelihood and KL(data || model) per evaluation."""
    fig, axes = new_figure(ncols=3, width=3.6, height=3.3)
    t = result.grid
    ax = axes[0, 0]
    ax.pcolormesh(t, t, result.density.T, shading="auto", cmap="viridis")
    if data is not None:
        ax.plot(data[:300, 0], data[:300, 1], ".", ms=1.5, color="w", alpha=0.6)
    ax.set_title("model density (exact Z)", fontsize=9)
    ax.set_aspect("equal")
    ax = axes[0, 1]
    ax.plot(result.samples_long[:, 0], result.samples_long[:, 1], ".", ms=1.5, color="C0", label="long run")
    ax.plot(result.samples_short[:, 0], result.samples_short[:, 1], ".", ms=1.5, color="C3", label="short run")
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(t[0], t[-1])
    ax.set_aspect("equal")
    ax.legend(fontsize=7, markerscale=4)
    ax.set_title("Langevin samples from noise", fontsize=9)
    ax = axes[0, 2]
    it = result.history["iteration"]
    ax.plot(it, result.history["test_log_likelihood"], "o-", color="C0", label="held-out log-lik")
    ax.axhline(result.data_log_likelihood, color="C0", ls="--", lw=0.8, label="data's own density")
    ax.plot(it, result.history["kl"], "s-", color="C1", label="KL(data || model)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("nats")
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def plot_network_temperature(path, runs: Sequence[dict]):
    """Digits MLP under plain SGD: the standard deviation and the mean of the training loss
    against eta / S, one colour per batch size (error bars from tau_int)."""
    fig, axes = new_figure(ncols=2, width=4.2, height=3.3)
    batches = sorted({int(r["batch"]) for r in runs})
    for k, s in enumerate(batches):
        mine = sorted((r for r in runs if int(r["batch"]) == s), key=lambda r: r["lr"])
        x = np.array([r["lr"] / s for r in mine])
        for ax, key in ((axes[0, 0], "sd_loss"), (axes[0, 1], "mean_loss")):
            y = np.array([r[key]["mean"] for r in mine])
            e = np.array([r[key]["stderr"] for r in mine])
            ax.errorbar(x, y, yerr=e, fmt="o-", ms=4, color=f"C{k}", label=f"S = {s}")
    axes[0, 0].set_ylabel("sd of the training loss (nats)")
    axes[0, 0].set_title("loss fluctuations: a temperature ~ eta / S", fontsize=9)
    axes[0, 1].set_ylabel("mean training loss (nats)")
    axes[0, 1].set_title("the loss rises with the temperature", fontsize=9)
    for ax in axes[0]:
        ax.set_xlabel("eta / S")
        ax.legend(fontsize=7)
    return save_figure(fig, path)
