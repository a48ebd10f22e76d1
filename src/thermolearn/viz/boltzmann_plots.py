"""The Boltzmann distribution of two coupled spins: the smallest picture of p = e^{-beta E}/Z."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from thermolearn.exact.enumeration import probability_table, state_index_to_spins
from thermolearn.models.ising import Ising
from thermolearn.viz.figures import new_figure, save_figure


def two_spin_model(coupling: float, field: float = 0.0) -> Ising:
    """Two spins with E = -J s1 s2 - h (s1 + s2)."""
    return Ising.from_dense(np.array([[0.0, coupling], [coupling, 0.0]]), np.full(2, field), name="two spins")


def two_spin_probabilities(coupling: float, temperatures: np.ndarray, field: float = 0.0) -> np.ndarray:
    """p(s1, s2) for the four states at each temperature, shape (n_temperatures, 4)."""
    model = two_spin_model(coupling, field)
    return np.array([probability_table(model, T)[0] for T in temperatures])


def plot_two_spins(path: str | os.PathLike, coupling: float = 1.0, field: float = 0.25) -> Path:
    """Three panels: p(s) of the four states against T (coupling J, field h); the probability
    that the spins agree over the (J, T) plane; and <s1 s2> against T for several J in zero
    field, enumerated (dots) on the closed form tanh(J / T) (lines)."""
    temps = np.geomspace(0.1, 20.0, 120)
    spins = state_index_to_spins(np.arange(4), 2)
    model = two_spin_model(coupling, field)
    probs = two_spin_probabilities(coupling, temps, field)
    fig, axes = new_figure(ncols=3, width=4.3)
    ax = axes[0, 0]
    for k, s in enumerate(spins):
        ax.plot(
            temps,
            probs[:, k],
            lw=2,
            ls="-" if s[0] == s[1] else "--",
            label=f"s = ({s[0]:+d}, {s[1]:+d}), E = {model.energy(s):+.2f}",
        )
    ax.set_xscale("log")
    ax.axhline(0.25, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("temperature T (k_B = 1)")
    ax.set_ylabel("Boltzmann probability p(s)")
    ax.set_title(f"J = {coupling:g}, h = {field:g}")
    ax.legend(fontsize=7)

    ax = axes[0, 1]
    couplings = np.linspace(-2.0, 2.0, 41)
    grid_t = np.geomspace(0.1, 10.0, 40)
    agree = np.array([[p[0] + p[3] for p in two_spin_probabilities(J, grid_t)] for J in couplings])
    image = ax.pcolormesh(grid_t, couplings, agree, cmap="RdBu_r", vmin=0, vmax=1, shading="auto")
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("coupling J")
    ax.set_title("p(s1 = s2), h = 0")
    fig.colorbar(image, ax=ax)

    ax = axes[0, 2]
    coarse = temps[::8]
    for J in (-1.0, 0.5, 1.0, 2.0):
        corr = two_spin_probabilities(J, coarse) @ (spins[:, 0] * spins[:, 1])
        (line,) = ax.plot(temps, np.tanh(J / temps), lw=1.5, label=f"J = {J:+g}: tanh(J/T)")
        ax.plot(coarse, corr, "o", ms=4, color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("correlation <s1 s2>")
    ax.set_title("enumerated (dots), closed form (lines)")
    ax.legend(fontsize=7)
    return save_figure(fig, path)
