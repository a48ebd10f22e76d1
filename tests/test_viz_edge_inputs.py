"""Plots fed honest-but-awkward inputs: absolute units labelled as such, non-finite values,
missing error bars and empty inputs.

Each test inspects the drawn artists (axis labels, error-bar segments, marker face colours,
axis limits) of a figure captured just before it would be saved, after a full Agg draw.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.container import ErrorbarContainer

from thermolearn.viz import (
    dynamics_plots,
    exact_plots,
    figures,
    hopfield_plots,
    monte_carlo_plots,
    pbits_plots,
    quantum_learning_plots,
    quantum_plots,
    rg_plots,
    variational_plots,
)
from thermolearn.viz.figures import NO_ERROR_BAR_NOTE

NAN, INF = float("nan"), float("inf")
_MODULES = (
    dynamics_plots,
    exact_plots,
    figures,
    hopfield_plots,
    monte_carlo_plots,
    pbits_plots,
    quantum_learning_plots,
    quantum_plots,
    rg_plots,
    variational_plots,
)


@pytest.fixture
def figs(monkeypatch) -> list:
    """Figures the plot functions would save, drawn in full (as saving would) and kept open."""
    kept: list = []

    def grab(fig, path):
        fig.canvas.draw()  # the same rendering savefig does: limits and artists must be drawable
        kept.append(fig)
        return Path(path)

    for module in _MODULES:
        monkeypatch.setattr(module, "save_figure", grab)
    yield kept
    for fig in kept:
        plt.close(fig)


def bar_count(ax) -> int:
    """Error bars drawn with a non-zero length (a bar of zero length claims an exact value)."""
    n = 0
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            for collection in container.lines[2]:
                for seg in collection.get_segments():
                    seg = np.asarray(seg)
                    if np.all(np.isfinite(seg)) and not np.allclose(seg[0], seg[-1]):
                        n += 1
    return n


def open_points(ax) -> list[tuple[float, float]]:
    """(x, y) of every hollow marker on the axes."""
    out = []
    for line in ax.get_lines():
        if line.get_marker() not in (None, "None", "") and str(line.get_markerfacecolor()) == "none":
            out += list(zip(np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)))
    return out


def legend_texts(ax) -> list[str]:
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def test_onsager_axes_carry_the_absolute_values_the_cli_prints(figs) -> None:
    from thermolearn.exact import onsager

    T = np.linspace(1.0, 8.0, 50)
    exact_plots.plot_onsager("x.png", T, coupling=2.0)
    axes = figs[0].axes
    for ax in axes:
        assert "/ J" not in ax.get_xlabel() and "/ J" not in ax.get_ylabel()
        assert ax.get_xlabel() == "temperature T"
    energy = next(ax for ax in axes if ax.get_ylabel().startswith("energy per spin"))
    np.testing.assert_allclose(energy.get_lines()[0].get_xdata(), T)
    # absolute u (the table's e/spin column): -2J = -4 per spin at low T for J = 2
    np.testing.assert_allclose(energy.get_lines()[0].get_ydata(), onsager.energy_per_spin(T, 2.0))
    assert energy.get_lines()[0].get_ydata()[0] == pytest.approx(-4.0, abs=1e-5)
    assert any("J = 2" in text for text in legend_texts(axes[0]))


@pytest.mark.parametrize(
    "history", [np.array([1.0, NAN, 2.0, 3.0]), np.array([-INF, 1.0, 2.0, 3.0]), np.array([NAN, NAN])]
)
def test_elbo_traces_take_limits_from_finite_values(figs, history) -> None:
    variational_plots.plot_elbo_traces("x.png", {"bbvi": history}, {"log Z": 3.5}, smooth=2)
    low, high = figs[0].axes[0].get_ylim()
    assert math.isfinite(low) and math.isfinite(high) and low < 3.5 < high


def test_elbo_traces_name_a_reference_that_is_not_finite(figs) -> None:
    variational_plots.plot_elbo_traces("x.png", {"bbvi": np.arange(5.0)}, {"log Z": NAN, "bound": 4.0}, smooth=1)
    texts = legend_texts(figs[0].axes[0])
    assert any(t.startswith("log Z = nan") and "not drawn" in t for t in texts)
    assert "bound = 4.0000" in texts


def test_vmc_energy_with_a_diverged_iteration(figs) -> None:
    energy = np.array([NAN, -3.0, -3.4, -3.45])
    quantum_learning_plots.plot_vmc_energy("x.png", energy, np.full(4, 0.1), -3.5)
    ax = figs[0].axes[0]
    low, high = ax.get_ylim()
    assert math.isfinite(low) and math.isfinite(high) and low < -3.5 and high > -3.0
    assert any("1 iterations not finite" in t for t in legend_texts(ax))


def test_sgd_variance_draws_a_missing_stderr_hollow_without_a_bar(figs) -> None:
    runs = [
        {"lr": 0.1, "batch": 1, "variance": {"mean": 0.05, "stderr": None}},
        {"lr": 0.2, "batch": 1, "variance": {"mean": 0.11, "stderr": 0.01}},
        {"lr": 0.3, "batch": 1, "variance": {"mean": 0.18, "stderr": 0.02}},
    ]
    dynamics_plots.plot_sgd_variance("x.png", runs, curvature=1.0, noise=1.0)
    ax = figs[0].axes[0]
    assert bar_count(ax) == 2
    assert open_points(ax) == [(0.1, 0.05)]
    assert NO_ERROR_BAR_NOTE in legend_texts(ax)


def _sweep_record(T: float, mean: float | None, stderr: float | None) -> dict:
    value = {"mean": mean, "stderr": stderr}
    keys = ("energy_per_spin", "abs_magnetization", "specific_heat_per_spin", "susceptibility_per_spin")
    return {
        "size": 8,
        "temperature": T,
        "algorithm": "wolff",
        **{k: value for k in keys},
        "binder_cumulant": value,
    }


def test_ising_sweep_never_draws_a_missing_stderr_as_zero(figs) -> None:
    records = [_sweep_record(2.0, -1.7, 0.05), _sweep_record(2.5, -1.2, None), _sweep_record(3.0, -0.9, 0.03)]
    monte_carlo_plots.plot_ising_sweep("x.png", records, 3)  # cubic: no exact curves to compute
    axes = figs[0].axes
    for ax in axes[:5]:
        assert bar_count(ax) == 2  # was 3: the missing error drawn as a bar of zero
        assert open_points(ax) == [(2.5, -1.2)]
    caption = " ".join(t.get_text() for t in axes[5].texts)
    assert "1 standard error" in caption and NO_ERROR_BAR_NOTE in caption


def test_mcrg_exponents_never_draw_a_missing_stderr_as_zero(figs) -> None:
    levels = [
        {"level": 1, "y_t": {"mean": 0.9, "stderr": 0.05}, "y_h": {"mean": 1.8, "stderr": None}},
        {"level": 2, "y_t": {"mean": 0.95, "stderr": 0.02}, "y_h": {"mean": 1.85, "stderr": 0.02}},
    ]
    rg_plots.plot_mcrg_exponents("x.png", levels, y_t_exact=1.0, y_h_exact=1.875)
    y_t, y_h = figs[0].axes
    assert bar_count(y_t) == 2 and open_points(y_t) == []
    assert bar_count(y_h) == 1 and open_points(y_h) == [(1.0, 1.8)]
    assert NO_ERROR_BAR_NOTE in legend_texts(y_h) and NO_ERROR_BAR_NOTE not in legend_texts(y_t)


def test_sample_plot_keeps_a_nan_site_error_as_no_bar(figs) -> None:
    from thermolearn.cli.sample_command import _plot

    result = SimpleNamespace(
        energy=np.array([[-4.0, -3.0, -3.5]]),
        thin=1,
        mean_spin=np.array([[0.5, -0.2, 0.1, 0.0]]),
        mean_spin_stderr=np.array([[0.1, NAN, 0.05, NAN]]),
    )
    args = SimpleNamespace(burn_in=10, temperature=2.0, algorithm="metropolis")
    _plot("x.png", result, SimpleNamespace(n_spins=4), args)
    ax = figs[0].axes[1]
    assert bar_count(ax) == 2  # was 4: nan_to_num made the two missing errors bars of zero
    assert sorted(open_points(ax)) == [(1.0, -0.2), (3.0, 0.0)]
    assert NO_ERROR_BAR_NOTE in ax.get_title()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: dynamics_plots.plot_sgd_variance("x.png", [], curvature=1.0, noise=1.0), "runs"),
        (lambda: hopfield_plots.plot_capacity("x.png", []), "results"),
        (lambda: hopfield_plots.plot_pattern_rows("x.png", []), "rows"),
        (lambda: pbits_plots.plot_distributions("x.png", []), "panels"),
        (lambda: rg_plots.plot_mk_flow("x.png", []), "curves"),
        (lambda: rg_plots.plot_mcrg_exponents("x.png", [], y_t_exact=1.0, y_h_exact=1.875), "levels"),
        (lambda: quantum_plots.plot_anneal_energies("x.png", {}, n_spins=4), "energies"),
        (lambda: quantum_plots.plot_anneal_energies("x.png", {"sa": np.array([])}, n_spins=4), "energies['sa']"),
        (lambda: variational_plots.plot_elbo_traces("x.png", {}, {"log Z": 1.0}), "histories"),
        (lambda: variational_plots.plot_elbo_traces("x.png", {"bbvi": []}, {}), "histories['bbvi']"),
        (lambda: quantum_learning_plots.plot_vmc_energy("x.png", [], [], -1.0), "energy"),
        (lambda: monte_carlo_plots.plot_ising_sweep("x.png", [], 2), "records"),
    ],
)
def test_an_empty_input_is_refused_naming_the_argument(figs, call, name) -> None:
    open_before = len(plt.get_fignums())
    with pytest.raises(ValueError, match=rf"^{re.escape(name)} is empty: the plot needs at least one"):
        call()
    assert len(plt.get_fignums()) == open_before  # refused before a figure was opened


def test_pattern_rows_without_any_state_is_refused() -> None:
    with pytest.raises(ValueError, match="rows hold no states"):
        hopfield_plots.plot_pattern_rows("x.png", [("stored", np.zeros((0, 4)))])


def test_anneal_energies_count_reads_that_are_not_finite(figs) -> None:
    quantum_plots.plot_anneal_energies("x.png", {"sa": np.array([-8.0, NAN, -6.0])}, n_spins=4)
    assert legend_texts(figs[0].axes[0]) == ["sa (best -2.0000), 1 reads not finite"]
    with pytest.raises(ValueError, match=r"energies\['sa'\] is empty: .* finite energy"):
        quantum_plots.plot_anneal_energies("x.png", {"sa": np.array([NAN])}, n_spins=4)


def test_as_errors_makes_every_missing_error_nan() -> None:
    got = figures.as_errors([0.1, None, NAN, INF, -1.0, 0.0])
    np.testing.assert_array_equal(np.isnan(got), [False, True, True, True, True, False])
    assert got[0] == 0.1 and got[5] == 0.0
    assert figures.finite_range([NAN, -INF, 2.0], [1.0, INF]) == (1.0, 2.0)
    assert figures.finite_range([NAN]) is None
