"""Demo section: the Boltzmann distribution of two coupled spins."""

from __future__ import annotations

from thermolearn.viz.report import Report


def correlation_sentence(zero_field_gap: float, field: float, field_gap: float) -> str:
    """The sentence on <s1 s2> against tanh(J/T): ``zero_field_gap`` is the largest |<s1 s2> - tanh(J/T)|
    found by enumeration at h = 0, ``field_gap`` the same at h = ``field``."""
    at_zero = (
        f"In zero field (h = 0, right panel) the correlation &lt;s<sub>1</sub>s<sub>2</sub>&gt; from enumeration "
        f"lies on the closed form tanh(J/T) (largest difference {zero_field_gap:.0e})"
        if zero_field_gap < 1e-9
        else f"Even in zero field the correlation from enumeration is {zero_field_gap:.2g} from tanh(J/T)"
    )
    if field_gap < 1e-9:
        return at_zero + f", and at h = {field:g} too."
    return at_zero + f"; a field adds to it, and at h = {field:g} it departs from tanh(J/T) by up to {field_gap:.2f}."


def _largest_gap_to_tanh(field: float) -> float:
    """Largest |<s1 s2> - tanh(J/T)| over a few couplings and temperatures, by enumeration."""
    import numpy as np

    from thermolearn.exact import state_index_to_spins
    from thermolearn.viz.boltzmann_plots import two_spin_probabilities

    temps = np.geomspace(0.1, 20.0, 15)
    spins = state_index_to_spins(np.arange(4), 2)
    agree = spins[:, 0] * spins[:, 1]
    gaps = [np.abs(two_spin_probabilities(J, temps, field) @ agree - np.tanh(J / temps)) for J in (-1.0, 0.5, 1.0)]
    return float(np.max(gaps))


def section_two_spins(report: Report) -> None:
    from thermolearn.viz.boltzmann_plots import plot_two_spins

    sec = report.section("The Boltzmann distribution of two coupled spins")
    sec.text(
        "Two spins with energy E = -J s<sub>1</sub> s<sub>2</sub> - h (s<sub>1</sub> + s<sub>2</sub>) and "
        "probabilities p(s) = e<sup>-E/T</sup>/Z, summed exactly over the four states. At low temperature the "
        "lowest-energy state takes all the probability; at high temperature every state tends to 1/4. A positive "
        "coupling makes the spins agree, a negative one makes them disagree, and temperature washes both out. "
        + correlation_sentence(_largest_gap_to_tanh(0.0), 0.25, _largest_gap_to_tanh(0.25))
    )
    plot_two_spins(report.figure_path("two_spins.png"))
    sec.figure(
        "two_spins.png",
        "Left: p(s) against T for J = 1, h = 0.25. Middle: probability that the spins agree over "
        "coupling and temperature (h = 0). Right: <s1 s2> against T for several J at h = 0.",
    )
