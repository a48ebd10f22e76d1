"""`thermolearn demo` writes a report with every section of the tour, each with its figures and
tables. The demo runs once for this module (about two minutes); each test reads its page."""

from __future__ import annotations

import contextlib
import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from thermolearn.cli.main import main
from thermolearn.demo import SECTIONS
from thermolearn.demo.compilation import after_compilation
from thermolearn.demo.tour import section_label

# every test here reads one module-scoped run: under pytest -n 2 --dist loadgroup they all go to
# one worker, which makes that run once (each worker made its own: 2 x 2 minutes)
pytestmark = pytest.mark.xdist_group("demo")

# what each section of the tour shows: (a phrase of its title, its figures, its number of tables)
EXPECTED = {
    "section_two_spins": ("two coupled spins", ["two_spins.png"], 0),
    "section_exact_2d": ("exact 2D Ising", ["onsager.png"], 1),
    "section_ising": ("Monte Carlo on the 2D Ising model", ["ising_sweep.png"], 1),
    "section_annealing": ("Simulated annealing", ["annealing.png"], 1),
    "section_spin_glass": ("Spin glasses", ["spinglass_overlaps.png"], 1),
    "section_mean_field_lattice": (
        "Mean field and the Bethe approximation",
        ["meanfield_graphical.png", "meanfield_magnetization.png"],
        0,
    ),
    "section_variational_inference": ("Variational inference", ["bbvi_elbo.png"], 1),
    "section_elbo_regression": ("Bayesian linear regression", ["regression_elbo.png"], 1),
    "section_neural_samplers": ("Neural samplers", ["neural_van.png"], 1),
    "section_hopfield": (
        "Hopfield networks",
        ["hopfield_digits.png", "hopfield_restoration.png", "hopfield_capacity.png"],
        2,
    ),
    "section_rbm": (
        "Restricted Boltzmann machines",
        ["rbm_training.png", "rbm_filters.png", "rbm_samples.png", "rbm_repair.png"],
        1,
    ),
    "section_diffusion": ("Diffusion models", ["diffusion_swiss_roll.png", "diffusion_entropy_bounds.png"], 1),
    "section_training_dynamics": (
        "The thermodynamics of training",
        ["dynamics_mixture.png", "dynamics_sgd.png", "dynamics_predictive.png"],
        3,
    ),
    "section_pbits": ("p-bits", ["pbits_and_inverted.png", "pbits_factor.png"], 2),
    "section_rg": (
        "Renormalisation",
        ["rg_chain_flow.png", "rg_migdal_kadanoff.png", "rg_mcrg.png", "rg_rbm.png"],
        4,
    ),
    "section_quantum": (
        "transverse-field Ising model",
        ["quantum_chain_log_z.png", "quantum_spectrum.png", "quantum_pimc_trotter.png"],
        2,
    ),
    "section_quantum_learning": ("Quantum learning", ["quantum_vmc_energy.png", "quantum_qbm_kl.png"], 2),
}


class _Page(HTMLParser):
    """The report's sections: title, figure files and tables (each a list of rows of cells)."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict] = []
        self._in_title = self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append({"title": "", "figures": [], "tables": []})
        elif not self.sections:
            return
        elif tag == "h2":
            self._in_title = True
        elif tag == "img":
            self.sections[-1]["figures"].append(attrs["src"])
        elif tag == "table":
            self.sections[-1]["tables"].append([])
        elif tag == "tr":
            self.sections[-1]["tables"][-1].append([])
        elif tag in ("td", "th"):
            self.sections[-1]["tables"][-1][-1].append("")
            self._in_cell = True

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_title = False
        elif tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data):
        if self._in_title:
            self.sections[-1]["title"] += data
        elif self._in_cell:
            self.sections[-1]["tables"][-1][-1][-1] += data


# session scope: the worker that runs the "demo" group may run other modules' tests between these,
# and a module-scoped fixture would then run the two-minute tour once more
@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> tuple[Path, list[dict], str, str]:
    folder = tmp_path_factory.mktemp("demo") / "report"
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        assert main(["demo", "--output", str(folder)]) == 0
    page = _Page()
    page.feed((folder / "index.html").read_text())
    return folder, page.sections, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def demo(demo_run) -> tuple[Path, list[dict]]:
    return demo_run[0], demo_run[1]


def test_each_section_announces_itself_as_it_starts_and_the_report_is_named_at_the_end(demo_run):
    folder, sections, out, err = demo_run
    lines = err.splitlines()
    n = len(SECTIONS)
    starts = [i for i, line in enumerate(lines) if line.startswith("[") and line.endswith(" ...")]
    assert len(starts) == n
    for number, (index, function) in enumerate(zip(starts, SECTIONS), start=1):
        assert lines[index] == f"[{number:>{len(str(n))}}/{n}] {section_label(function)} ..."
        # the section's end line (time and title) follows its start line, before the next section starts
        assert lines[index + 1].strip().endswith(sections[number - 1]["title"].strip())
    assert str((folder / "index.html").resolve().as_uri()) in out


def test_the_report_links_the_interactive_explorer_written_beside_it(demo):
    folder, _ = demo
    page = (folder / "index.html").read_text()
    assert 'href="thermolearn-explorer.html"' in page
    explorer = (folder / "thermolearn-explorer.html").read_text()
    assert "<canvas" in explorer and "https://" not in explorer.split("</head>")[0]


def test_the_demo_group_runs_on_one_worker(request):
    """The two-minute tour is run once per worker that needs it: xdist's loadgroup must keep this
    module's tests together (it stopped grouping, silently, with pytest 9.2 and xdist 3.8)."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not request.config.getoption("loadgroup", False):
        pytest.skip("not run by pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@demo"), "xdist's loadgroup did not group this test (pytest-xdist issue 1386)"


def test_timed_rows_of_the_report_exclude_compilation():
    calls = []
    result, seconds = after_compilation(lambda: calls.append(len(calls)) or len(calls))
    assert calls == [0, 1] and result == 2 and 0 <= seconds < 1


def test_every_section_of_the_tour_is_in_the_report_in_order(demo):
    _, sections = demo
    assert set(EXPECTED) == {f.__name__ for f in SECTIONS}, "a new demo section needs its line in EXPECTED"
    assert len(sections) == len(SECTIONS)
    for section, function in zip(sections, SECTIONS):
        assert EXPECTED[function.__name__][0] in section["title"], (function.__name__, section["title"])


@pytest.mark.parametrize("name", [f.__name__ for f in SECTIONS])
def test_each_section_has_its_figures_and_tables(demo, name):
    folder, sections = demo
    index = [f.__name__ for f in SECTIONS].index(name)
    section = sections[index]
    _, figures, n_tables = EXPECTED[name]
    assert section["figures"] == figures
    for png in figures:
        data = (folder / png).read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000, png  # a real plot, not an empty canvas
    assert len(section["tables"]) == n_tables
    for table in section["tables"]:
        header, *rows = table
        assert rows, f"{name}: a table without rows"
        assert all(len(row) == len(header) for row in rows)
        assert all(cell.strip() for row in rows for cell in row[:1]), f"{name}: an empty row label"


# what a section's own text states, beyond its figures and tables (these sections were once also run
# on their own by test_*_demo.py: the tour already runs them)
STATED = {
    "section_diffusion": ("<th>K (bits)</th>", "<td>2.35</td>"),  # Sohl-Dickstein et al.'s Table 1
    "section_rg": ("0.304689",),  # K* of the square lattice, b = 2
    "section_pbits": ("5 &times; 7", "synchronous", "Peretto"),
}


@pytest.mark.parametrize("name", sorted(STATED))
def test_sections_state_their_reference_values(demo, name):
    folder, _ = demo
    html = _section_html(folder, name)
    for phrase in STATED[name]:
        assert phrase in html, (name, phrase)


def test_the_quantum_section_finds_diagonalisation_equal_to_free_fermions(demo):
    folder, _ = demo
    html = _section_html(folder, "section_quantum")
    worst = re.search(r"largest \|&Delta; ln Z\| ([0-9]+(?:\.[0-9]+)?e[+-][0-9]+)", html)
    assert worst is not None and float(worst.group(1)) < 1e-10


def _section_html(folder: Path, name: str) -> str:
    """The report's HTML of the section that ``name`` (a function of the tour) wrote."""
    parts = (folder / "index.html").read_text().split("<section")[1:]
    assert len(parts) == len(SECTIONS)
    return parts[[f.__name__ for f in SECTIONS].index(name)]


def test_the_demo_refuses_fewer_than_one_worker(tmp_path):
    from thermolearn.demo.tour import run_demo

    with pytest.raises(ValueError, match="jobs must be at least 1"):
        run_demo(tmp_path / "report", jobs=0)
