"""The interactive explorer in a real browser: Playwright drives the system Chromium over file://.

Every panel is checked against the library: the two-spin probabilities against enumeration,
the lattice's running energy against Kaufman within the page's own block-average error, the
mean-field roots against ``mean_field_solutions``, the RBM's free energy and conditionals and
the Hopfield energy and recall against the models. No request may leave the page's own file.

The browser is Debian's ``chromium`` (Playwright's own download needs the network): ``make test``
finds or installs it and exports ``THERMOLEARN_CHROMIUM``. Without it these tests fail, never skip.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from thermolearn.cli.main import main
from thermolearn.viz.explorer import EXPLORER_FILENAME, HOPFIELD_DIGITS

EPOCHS = 2  # the page's RBM: the checks compare the page with the library, not a well-trained model


def chromium_path() -> str:
    """The system Chromium: $THERMOLEARN_CHROMIUM, else chromium on the PATH; fail loudly if absent."""
    path = os.environ.get("THERMOLEARN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            "no Chromium browser for the explorer tests: run `make test` (it installs Debian's chromium when "
            "root) or install it (apt-get install -y chromium) and set THERMOLEARN_CHROMIUM=/path/to/chromium"
        )
    return path


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict:
    """The page, written once per test run by ``thermolearn explore`` (the xdist workers of one run
    share their base folder's parent, and the first to come writes the page for all)."""
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    folder = shared / "explorer-page"
    record = folder / "explore.json"
    with open(shared / "explorer-page.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir(exist_ok=True)
            argv = ["explore", "--output", str(folder), "--epochs", str(EPOCHS), "--json", str(record)]
            assert main(argv) == 0
    info = json.loads(record.read_text())
    assert Path(info["path"]) == folder / EXPLORER_FILENAME
    return info


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        pytest.fail("playwright (Python) is missing: pip install -e '.[dev]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return Path(os.environ.get("THERMOLEARN_SCREENSHOTS") or tmp_path_factory.mktemp("explorer-screenshots"))


class Loaded:
    """A fresh tab on the page, recording every request and every script error."""

    def __init__(self, browser, url: str) -> None:
        self.url = url
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.goto(url)
        self.wait_until("window.thermolearnExplorer && window.thermolearnExplorer.ready")

    def js(self, expression: str):
        return self.page.evaluate(expression)

    def wait_until(self, expression: str, timeout: float = 10.0) -> None:
        """Poll ``expression`` (the page's policy forbids eval, which wait_for_function would need)."""
        deadline = time.monotonic() + timeout
        while not self.js(expression):
            if time.monotonic() > deadline:
                pytest.fail(f"the page never reached {expression!r} in {timeout} s")
            self.page.wait_for_timeout(20)

    def slide(self, selector: str, value: float) -> float:
        """Move a range slider to ``value`` (input events, as a drag sends); returns the value it took."""
        self.page.locator(selector).fill(str(value))
        return float(self.page.locator(selector).input_value())

    def number(self, selector: str) -> float:
        """The number displayed in an element (its text, as a reader sees it)."""
        return float(self.page.locator(selector).text_content())

    def finish(self, shots: Path, name: str) -> None:
        self.page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        assert self.errors == []
        # nothing but the page's own file: no CDN, no font, no fetch
        assert self.requests == [self.url]
        self.page.close()


@pytest.fixture
def loaded(browser, written) -> Loaded:
    return Loaded(browser, written["url"])


def test_page_is_small_and_self_contained(written) -> None:
    html = Path(written["path"]).read_text()
    assert written["bytes"] == len(html.encode()) < 400_000  # about 0.2 MB, no plotting bundle
    for needle in ("http://", "https://", "fetch(", "XMLHttpRequest", "<link", "src=", "@import"):
        assert needle not in html, needle
    assert "default-src 'none'" in html  # the page's own policy forbids any request


def test_two_spin_probabilities_match_enumeration(loaded, shots) -> None:
    from thermolearn.exact import enumerate_exact, probability_table
    from thermolearn.models.ising import Ising

    names = {3: "pp", 1: "pm", 2: "mp", 0: "mm"}  # bit i of the index set: s_(i+1) = +1
    for T, w, h in ((1.0, 1.0, 0.0), (0.37, -1.25, 0.4), (4.83, 1.99, -0.73), (0.05, 0.6, 0.01)):
        T, w, h = loaded.slide("#ts-T", T), loaded.slide("#ts-w", w), loaded.slide("#ts-h", h)
        model = Ising.from_dense(np.array([[0.0, w], [w, 0.0]]), [h, h])
        p, _ = probability_table(model, T)
        for index, name in names.items():  # relative: a probability is 1.7e-11 at T = 0.05
            assert loaded.number(f"#ts-p-{name}") == pytest.approx(p[index], rel=1e-12, abs=0.0)
        exact = enumerate_exact(model, T)[0]
        assert loaded.number("#ts-logz") == pytest.approx(exact.log_z, abs=1e-9, rel=1e-12)
        assert loaded.number("#ts-corr") == pytest.approx(exact.extras["correlations"][0, 1], abs=1e-9, rel=0)
    # a keyboard drag: one step of 0.01 in T
    loaded.page.locator("#ts-T").press("ArrowRight")
    T = float(loaded.page.locator("#ts-T").input_value())
    assert T == pytest.approx(0.06)
    p, _ = probability_table(Ising.from_dense(np.array([[0.0, w], [w, 0.0]]), [h, h]), T)
    assert loaded.number("#ts-p-pp") == pytest.approx(p[3], abs=1e-9, rel=0)
    loaded.finish(shots, "two-spin")


@pytest.mark.parametrize(("algorithm", "L", "T", "steps"), [("metropolis", 16, 3.0, 12_000), ("wolff", 8, 2.27, 8_000)])
def test_lattice_running_energy_matches_kaufman(loaded, shots, algorithm, L, T, steps) -> None:
    from thermolearn.exact.kaufman import kaufman

    start = loaded.js("thermolearnExplorer.ising.steps")
    # the lattice runs by itself (requestAnimationFrame) ...
    loaded.wait_until(f"thermolearnExplorer.ising.steps > {start + 20}")
    loaded.page.click("#is-run")  # ... pause it so that the run below is the seeded one
    assert loaded.js("thermolearnExplorer.ising.running") is False
    loaded.page.select_option("#is-L", str(L))
    loaded.page.select_option("#is-alg", algorithm)
    T = loaded.slide("#is-T", T)
    stats = loaded.js(f"thermolearnExplorer.ising.advance({steps})")
    exact = kaufman(L, T).energy / L**2
    assert stats["exact"]["energyPerSpin"] == pytest.approx(exact, rel=1e-14)
    assert loaded.number("#is-e-exact") == pytest.approx(exact, abs=1e-12)
    mean, err = stats["energyPerSpin"], stats["energyPerSpinError"]
    assert stats["blocks"] == (steps - stats["discard"]) // stats["blockSize"]
    assert 0 < err < 0.01  # a sharp test: the error bar is small
    assert abs(mean - exact) < 4 * err, (mean, err, exact)
    assert float(loaded.page.locator("#is-e").get_attribute("data-value")) == mean
    loaded.finish(shots, f"ising-{algorithm}")


def test_lattice_shows_no_error_bar_until_two_blocks(loaded, shots) -> None:
    # the page explains its error bar as what the code computes: spread / sqrt(blocks)
    assert "standard error of the block means" in loaded.page.locator("#ising").text_content()
    loaded.page.click("#is-run")  # pause; advance by hand from a fresh start
    loaded.page.select_option("#is-L", "8")  # a new lattice: its statistics start again
    stats = loaded.js("thermolearnExplorer.ising.advance(0)")
    assert stats["blocks"] == 0 and loaded.page.locator("#is-e").text_content() == "thermalising\u2026"
    stats = loaded.js(f"thermolearnExplorer.ising.advance({stats['discard'] + stats['blockSize']})")
    assert stats["blocks"] == 1 and math.isnan(stats["energyPerSpinError"])
    for where in ("#is-e", "#is-m"):
        text = loaded.page.locator(where).text_content()
        assert text.endswith(" (1 block: no error bar yet)") and "\u00b1" not in text, text
    stats = loaded.js(f"thermolearnExplorer.ising.advance({stats['blockSize']})")
    assert stats["blocks"] == 2 and stats["energyPerSpinError"] > 0
    mean, err = stats["energyPerSpin"], stats["energyPerSpinError"]
    assert loaded.page.locator("#is-e").text_content() == f"{mean:.5f} \u00b1 {err:.5f}"
    loaded.finish(shots, "ising-blocks")


def test_mean_field_roots_match_library(loaded, shots) -> None:
    from thermolearn.variational.lattice_mean_field import mean_field_critical_temperature, mean_field_solutions

    coordinations = loaded.js("thermolearnExplorer.data.mean_field.coordinations")
    for T, h, zi in ((3.0, 0.0, 2), (5.0, 0.0, 2), (2.0, 0.3, 2), (1.2, -0.2, 0), (7.5, 0.05, 4)):
        T, h = loaded.slide("#mf-T", T), loaded.slide("#mf-h", h)
        z = coordinations[int(loaded.slide("#mf-z", zi))]
        expected = mean_field_solutions(T, z, 1.0, h)
        roots = loaded.js("thermolearnExplorer.meanField.result")
        assert len(roots) == len(expected)
        for k, (got, want) in enumerate(zip(roots, expected)):
            assert loaded.number(f"#mf-root-{k}") == pytest.approx(want.magnetization, abs=1e-9)
            assert got["stable"] == want.stable
        tc = float(loaded.page.locator("#mf-tc").get_attribute("data-value"))
        assert tc == mean_field_critical_temperature(z)
    loaded.finish(shots, "mean-field")


def test_rbm_matches_library_and_repairs_with_the_known_half_clamped(loaded, shots) -> None:
    import jax

    from thermolearn.datasets.binary_images import load_binary_images
    from thermolearn.exact import rbm_free_energy
    from thermolearn.models.rbm import RBM

    data = loaded.js("thermolearnExplorer.data.rbm")
    W, b, c = (np.array(data[k]) for k in ("weights", "visible_bias", "hidden_bias"))
    test = load_binary_images("digits", split="test").data
    np.testing.assert_array_equal(np.array(data["repair_digits"]), test[: len(data["repair_digits"])])
    beta = loaded.slide("#rbm-beta", 1.37)
    digit = int(loaded.slide("#rbm-digit", 3))
    loaded.page.click("#rbm-run")  # pause the animation; advance by hand
    loaded.js("thermolearnExplorer.rbm.advance(40)")
    repaired = np.array(loaded.js("thermolearnExplorer.rbm.repair"), dtype=float)
    chain = np.array(loaded.js("thermolearnExplorer.rbm.chains[0]"), dtype=float)
    original = test[digit].astype(float)
    erased = np.array(loaded.js("thermolearnExplorer.rbm.erased"))
    np.testing.assert_array_equal(repaired[~erased], original[~erased])  # the known half never moves
    # beta F_beta(v) is the free energy of the RBM with beta W, beta b, beta c
    for v, where in ((repaired, "#rbm-repair-F"), (chain, "#rbm-F")):
        want = rbm_free_energy(beta * W, beta * b, beta * c, v[None])[0] / beta
        assert loaded.number(where) == pytest.approx(want, abs=1e-9, rel=1e-12)
    with jax.enable_x64(True):  # the model in float64, to compare to 1e-9
        model = RBM(W, b, c)
        ph = model.hidden_probabilities(repaired, beta=beta)[0]
        pv = model.visible_mean(ph.round(), beta=beta)[0]
        assert model.free_energy(original)[0] == pytest.approx(
            loaded.js(f"thermolearnExplorer.rbm.freeEnergy({original.astype(int).tolist()}, 1)"), abs=1e-9
        )
    got_ph = loaded.js(f"thermolearnExplorer.rbm.hiddenProbabilities({repaired.astype(int).tolist()})")
    got_pv = loaded.js(f"thermolearnExplorer.rbm.visibleProbabilities({ph.round().astype(int).tolist()})")
    np.testing.assert_allclose(got_ph, ph, atol=1e-9, rtol=0)
    np.testing.assert_allclose(got_pv, pv, atol=1e-9, rtol=0)
    loaded.finish(shots, "rbm")


def test_hopfield_recalls_the_stored_digit_as_the_library_does(loaded, shots) -> None:
    from thermolearn.datasets.digits import load_digits
    from thermolearn.learning.hebbian import binarize_images, store

    images, labels = load_digits(return_labels=True)
    xi = binarize_images(images[[np.flatnonzero(labels == d)[0] for d in HOPFIELD_DIGITS]], 8.0)
    net = store(xi, "projection")
    np.testing.assert_array_equal(np.array(loaded.js("thermolearnExplorer.data.hopfield.couplings")), net.couplings)
    pattern = int(loaded.slide("#hf-pattern", 2))
    loaded.slide("#hf-noise", 0.12)
    loaded.page.click("#hf-corrupt")
    cue = np.array(loaded.js("thermolearnExplorer.hopfield.cue"), dtype=np.int8)
    flipped = int(np.sum(cue != xi[pattern]))
    assert 0 < flipped
    assert loaded.number("#hf-energy") == pytest.approx(net.energy(cue), abs=1e-9, rel=1e-12)
    loaded.page.click("#hf-recall")  # recall runs live, one sweep every few frames
    loaded.wait_until("thermolearnExplorer.hopfield.converged")
    final = np.array(loaded.js("thermolearnExplorer.hopfield.state"), dtype=np.int8)
    np.testing.assert_array_equal(final, xi[pattern])
    assert loaded.page.locator("#hf-status").text_content() == f"retrieved digit {HOPFIELD_DIGITS[pattern]}"
    assert loaded.number("#hf-energy") == pytest.approx(net.energy(final), abs=1e-9, rel=1e-12)
    energies = loaded.js("thermolearnExplorer.hopfield.energies")
    assert all(b <= a + 1e-12 for a, b in zip(energies, energies[1:]))  # never rises
    library = net.recall(cue, seed=0)
    np.testing.assert_array_equal(library.final, xi[pattern])
    loaded.finish(shots, "hopfield")


def test_explore_refuses_a_file_as_its_folder_before_training(tmp_path, capsys) -> None:
    target = tmp_path / "page.html"
    target.write_text("mine")
    started = time.perf_counter()
    assert main(["explore", "--output", str(target)]) == 2
    assert time.perf_counter() - started < 5.0  # refused before the RBM trains
    err = capsys.readouterr().err
    assert "output must be a folder" in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == "mine"


def test_explorer_refuses_an_rbm_too_big_for_the_page_before_training(tmp_path, capsys) -> None:
    from thermolearn.viz.explorer import MAX_RBM_HIDDEN, explorer_data

    started = time.perf_counter()
    with pytest.raises(ValueError, match=rf"rbm_hidden \(--hidden\) must be between 1 and {MAX_RBM_HIDDEN}.*got 1025"):
        explorer_data(rbm_hidden=MAX_RBM_HIDDEN + 1)
    # the audit's case: a 68 MB page and about 1 GB of memory, now one line and exit 2, nothing written
    assert main(["explore", "--output", str(tmp_path / "page"), "--hidden", "50000"]) == 2
    assert time.perf_counter() - started < 5.0  # refused before the RBM trains
    err = capsys.readouterr().err
    assert f"between 1 and {MAX_RBM_HIDDEN}" in err and "got 50000" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "page").exists()


def test_explorer_accepts_the_largest_rbm(monkeypatch) -> None:
    from thermolearn.viz import explorer

    asked = []
    monkeypatch.setattr(explorer, "_rbm_data", lambda hidden, epochs, seed: asked.append(hidden) or {})
    monkeypatch.setattr(explorer, "_lattice_data", dict)
    monkeypatch.setattr(explorer, "_hopfield_data", dict)
    explorer.explorer_data(rbm_hidden=explorer.MAX_RBM_HIDDEN, rbm_epochs=1)
    assert asked == [explorer.MAX_RBM_HIDDEN]
