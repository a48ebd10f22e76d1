"""Demo section: the Boltzmann distribution of two coupled spins."""

from __future__ import annotations

from thermolearn.viz.report import Report


def section_two_spins(report: Report) -> None:
    from thermolearn.viz.boltzmann_plots import plot_two_spins

    sec = report.section("The Boltzmann distribution of two coupled spins")
    sec.text(
        "Two spins with energy E = -J s<sub>1</sub> s<sub>2</sub> - h (s<sub>1</sub> + s<sub>2</sub>) and "
        "probabilities p(s) = e<sup>-E/T</sup>/Z, summed exactly over the four states. At low temperature the "
        "lowest-energy state takes all the probability; at high temperature every state tends to 1/4. A positive "
        "coupling makes the spins agree, a negative one makes them disagree, and temperature washes both out. "
        "The correlation &lt;s<sub>1</sub>s<sub>2</sub>&gt; from enumeration lies on the closed form tanh(J/T)."
    )
    plot_two_spins(report.figure_path("two_spins.png"))
    sec.figure(
        "two_spins.png",
        "Left: p(s) against T for J = 1, h = 0.25. Middle: probability that the spins agree over "
        "coupling and temperature. Right: <s1 s2> against T for several J.",
    )
