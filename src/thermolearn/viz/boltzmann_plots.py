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


def plot_two_spins(path: str | os.PathLike, coupling: float = 1.0, field: float = 0.0) -> Path:
    """Left: p(s1, s2) against T for coupling J; right: <s1 s2> against T for several J,
    with the closed form tanh(J / T) drawn over the enumerated points."""
    temps = np.geomspace(0.1, 20.0, 120)
    probs = two_spin_probabilities(coupling, temps, field)
    spins = state_index_to_spins(np.arange(4), 2)
    fig, axes = new_figure(ncols=2)
    ax = axes[0, 0]
    for k, s in enumerate(spins):
        label = f"s = ({s[0]:+d}, {s[1]:+d}), E = {two_spin_model(coupling, field).energy(s):+.1f}"
        ax.plot(temps, probs[:, k], label=label, lw=2, ls="-" if s[0] == s[1] else "--")
    ax.set_xscale("log")
    ax.set_xlabel("temperature T (units of J, k_B = 1)")
    ax.set_ylabel("Boltzmann probability p(s)")
    ax.set_title(f"two spins, J = {coupling:g}, h = {field:g}")
    ax.axhline(0.25, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    coarse = temps[::8]
    for J in (-1.0, 0.5, 1.0, 2.0):
        p = two_spin_probabilities(J, coarse)
        corr = p @ (spins[:, 0] * spins[:, 1])
        (line,) = ax.plot(temps, np.tanh(J / temps), lw=1.5, label=f"J = {J:+g}: tanh(J/T)")
        ax.plot(coarse, corr, "o", ms=4, color=line.get_color())
    ax.set_xscale("log")
    ax.set_xlabel("temperature T")
    ax.set_ylabel("correlation <s1 s2>")
    ax.set_title("enumerated (dots) = closed form (lines)")
    ax.legend(fontsize=8)
    return save_figure(fig, path)
