"""Pictures of quantum learning: KL(data || model) of Boltzmann machines and quantum Boltzmann
machines against training epochs, and the VMC energy of an RBM wave function against iteration
with the exact ground energy."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from thermolearn.viz.figures import finite_range, new_figure, require_items, save_figure

_MODEL_LABELS = {"bm": "BM (Gamma = 0)", "bqbm": "bQBM (Golden-Thompson bound)", "qbm": "QBM (exact gradient)"}
_MODEL_COLOURS = {"bm": "C0", "bqbm": "C2", "qbm": "C3"}


def plot_qbm_kl(path, curves: Mapping[str, np.ndarray], *, title: str = "", entropy: float | None = None):
    """KL(q || P) in nats against the epoch, one line per model (``bm``, ``bqbm``, ``qbm`` or any
    label), on a log scale; the right panel gives the exact log-likelihood sum_v q ln P."""
    fig, axes = new_figure(ncols=2 if entropy is not None else 1, width=4.6, height=3.4)
    ax = axes[0, 0]
    for k, (name, kl) in enumerate(curves.items()):
        kl = np.asarray(kl, dtype=float)
        ax.plot(np.arange(1, kl.size + 1), kl, color=_colour(name, k), label=_MODEL_LABELS.get(name, name))
    ax.set_yscale("log")
    ax.set_xlabel("epoch (full-batch update)")
    ax.set_ylabel("KL(data || model) [nats]")
    ax.set_title(title or "quantum Boltzmann machine training", fontsize=9)
    ax.legend(fontsize=7)
    if entropy is not None:
        ax = axes[0, 1]
        for k, (name, kl) in enumerate(curves.items()):
            kl = np.asarray(kl, dtype=float)
            ax.plot(
                np.arange(1, kl.size + 1), -entropy - kl, color=_colour(name, k), label=_MODEL_LABELS.get(name, name)
            )
        ax.axhline(-entropy, color="0.4", ls="--", lw=1, label=f"-H(data) = {-entropy:.4f}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("log-likelihood [nats per sample]")
        ax.set_title("exact log-likelihood", fontsize=9)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


def _colour(name: str, k: int) -> str:
    """One colour per model whatever the order of the curves."""
    return _MODEL_COLOURS.get(name, f"C{k + 3}")


def plot_vmc_energy(
    path, energy: np.ndarray, stderr: np.ndarray, exact: float | None, *, title: str = "", n_spins: int | None = None
):
    """Left: the VMC energy per iteration with its error band and the exact ground energy; right: the
    relative error |E - E_exact| / |E_exact| on a log scale.

    An iteration whose energy is not finite (a diverged step) is a gap in the line, counted in
    the legend; the y range comes from the finite energies only. ``stderr`` has one entry per
    iteration (NaN where none was estimated: no band there).
    """
    energy = np.asarray(energy, dtype=float)
    stderr = np.asarray(stderr, dtype=float)
    require_items("energy", energy, "iteration (the VMC energy per iteration)")
    if stderr.shape != energy.shape:
        raise ValueError(f"stderr must have the shape of energy {energy.shape}, got {stderr.shape}")
    it = np.arange(energy.size)
    fig, axes = new_figure(ncols=2 if exact is not None else 1, width=4.4, height=3.3)
    ax = axes[0, 0]
    bad = int(np.count_nonzero(~np.isfinite(energy)))
    ax.plot(it, energy, color="C0", lw=1, label="VMC <H>" + (f" ({bad} iterations not finite: gaps)" if bad else ""))
    ax.fill_between(it, energy - stderr, energy + stderr, color="C0", alpha=0.25, lw=0)
    if exact is not None:
        ax.axhline(exact, color="C3", ls="--", lw=1, label=f"exact {exact:.6f}")
        # the first iterations from a random start would squeeze the converged part flat
        settled = finite_range(energy[min(energy.size - 1, energy.size // 20) :])
        every = finite_range(energy)
        top = settled[1] if settled is not None else exact
        bottom = min(exact, every[0]) if every is not None else exact
        span = max(top - exact, 1e-6 * abs(exact), 1e-12)
        ax.set_ylim(bottom - 0.1 * span, exact + 1.1 * span)
    ax.set_xlabel("iteration")
    ax.set_ylabel("energy" + (f" (N = {n_spins}, total)" if n_spins else ""))
    ax.set_title(title or "variational Monte Carlo", fontsize=9)
    ax.legend(fontsize=7)
    if exact is not None:
        ax = axes[0, 1]
        rel = np.abs(energy - exact) / abs(exact) if exact != 0 else np.abs(energy)
        ax.semilogy(it, np.maximum(rel, 1e-12), color="C0", lw=1)
        ax.set_xlabel("iteration")
        ax.set_ylabel("|E - E_exact| / |E_exact|")
        ax.set_title("relative error", fontsize=9)
    return save_figure(fig, path)
