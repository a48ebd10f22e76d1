"""The API reference: its examples run as written, and pdoc renders it offline (``make docs``).

The whole reference takes pdoc about 30 s (it imports every module); the test builds the guide
pages and two modules with the same script, which is what ``make docs`` runs.
"""

from __future__ import annotations

import doctest
import importlib.util
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _build_script():
    spec = importlib.util.spec_from_file_location("build_docs", ROOT / "docs" / "build_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_in_the_reference_run_as_written() -> None:
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, verbose=False)
    assert result.attempted >= 20
    assert result.failed == 0


def test_make_docs_runs_the_build_script() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.fail("make is not installed")
    plan = subprocess.run([make, "-n", "docs"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "docs/build_docs.py build/docs" in plan


def test_reference_builds_offline_with_the_guide_pages(tmp_path) -> None:
    build = _build_script()
    pages = build.build(tmp_path, ["thermolearn.exact", "thermolearn.exact.kaufman"])
    assert [p.relative_to(tmp_path).as_posix() for p in pages] == [
        "index.html",
        "modules.html",
        "guide/architecture.html",
        "guide/benchmarks.html",
    ]
    kaufman = (tmp_path / "thermolearn" / "exact" / "kaufman.html").read_text()
    # a module no package lists in __all__ is documented, with its maths legible: "<E>" and
    # "sum_<ij>" would otherwise be swallowed by the browser as tags
    assert "Kaufman (1949)" in kaufman
    assert "U = &lt;E&gt;" in kaufman or "U = &lt;E>" in kaufman
    assert "guide/architecture.html" in kaufman
    assert "The layer map" in (tmp_path / "guide" / "architecture.html").read_text()
    listed = (tmp_path / "modules.html").read_text()
    assert 'href="thermolearn/exact/kaufman.html"' in listed and 'href="thermolearn/exact.html"' in listed
    index = (tmp_path / "index.html").read_text()
    assert "Associative memory" in index and "enumerate_exact" in index
    for page in tmp_path.rglob("*.html"):
        text = page.read_text()
        for needle in ('src="http', "src='http", "cdn.", "katex"):
            assert needle not in text, (page, needle)


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("<p>sum_{i<j} J_ij</p>", "<p>sum_{i&lt;j} J_ij</p>"),
        ("U = <E> and <code>x</code>", "U = &lt;E> and <code>x</code>"),
        ('<a href="x">y</a><br /><!-- c --><sup>2</sup>', '<a href="x">y</a><br /><!-- c --><sup>2</sup>'),
    ],
)
def test_stray_angle_brackets_are_escaped_and_tags_kept(text, escaped) -> None:
    assert _build_script().escape_stray_lt(text) == escaped
