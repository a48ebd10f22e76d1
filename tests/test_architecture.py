"""The shape of the library, enforced: imports point down the layer map, and the cheap entry
points (``import thermolearn``, ``thermolearn --version``, ``thermolearn onsager --help``)
load no JAX and start fast.

The layer map (lower number = lower layer). A module may import from a lower layer or from
its own package; an import inside a function counts like one at the top of a module.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "thermolearn"

LAYERS: dict[str, int] = {
    # 0 foundation
    "validation": 0,
    "fixed_settings": 0,
    "storage": 0,
    "file_contents": 0,
    "resources": 0,
    "derived_quantities": 0,
    "number_text": 0,
    "randomness": 0,
    "progress": 0,
    "lazy_exports": 0,
    "kernel_cache": 0,
    "kernel_entry": 0,
    "kernel_threads": 0,
    # 1 what a state costs, and data
    "models": 1,
    "datasets": 1,
    # 2 answers without sampling; Markov chains (independent of each other)
    "exact": 2,
    "samplers": 2,
    # 3 error bars
    "estimators": 3,
    # 4 (independent of each other)
    "variational": 4,
    "learning": 4,
    "pbits": 4,
    "rg": 4,
    "quantum": 4,
    "spinglass": 4,
    # 5 (independent of each other)
    "diffusion": 5,
    "neural": 5,
    "dynamics": 5,
    # 6 orchestration and the conformance kits
    "runs": 6,
    "testing": 6,
    "dimod": 6,
    # 7..9
    "viz": 7,
    "demo": 8,
    "cli": 9,
    # 10: ``python -m thermolearn`` runs the command
    "__main__": 10,
}

FOUNDATION = {unit for unit, layer in LAYERS.items() if layer == 0}  # one group: may import each other
ROOT_LAYER = LAYERS["runs"]  # the root package re-exports sample and compare from runs

STARTUP_LIMIT_S = 3.0  # safe on a loaded 2-core machine; typical is well under a second


def _unit(module: str) -> str | None:
    """The layer unit (top-level package or foundation module) of ``thermolearn.X...``."""
    parts = module.split(".")
    if parts[0] != "thermolearn":
        return None
    return parts[1] if len(parts) > 1 else ""  # "" is the root package


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, at any depth. ``from X import y``
    counts as importing X.y when y is a submodule, else X."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                sub = SRC.parent.joinpath(*candidate.split("."))
                is_sub = sub.with_suffix(".py").is_file() or (sub / "__init__.py").is_file()
                out.append((node.lineno, candidate if is_sub else module))
    return out


def import_edges() -> list[tuple[str, int, str, str, str]]:
    """Every import between two layer units: (file, line, importer unit, imported unit, module)."""
    edges = []
    for path in sorted(SRC.rglob("*.py")):
        src_unit = _unit(_module_name(path))
        for line, module in _imported_modules(path):
            dst_unit = _unit(module)
            if dst_unit is None or dst_unit == src_unit:
                continue
            edges.append((str(path.relative_to(SRC.parent)), line, src_unit, dst_unit, module))
    return edges


def test_every_unit_of_the_library_has_a_layer():
    units = {
        p.stem if p.is_file() else p.name for p in SRC.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()
    }
    units.discard("__init__")
    missing = sorted(units - set(LAYERS))
    assert not missing, f"add these to the layer map (here and in docs/architecture.md): {missing}"


def test_imports_point_down_the_layer_map():
    bad = []
    for path, line, src, dst, module in import_edges():
        if src == "" or (src in FOUNDATION and dst in FOUNDATION):
            continue  # the root re-exports lazily from every layer; the foundation is one group
        dst_layer = ROOT_LAYER if dst == "" else LAYERS[dst]
        if dst_layer >= LAYERS[src]:
            way = "sideways" if dst_layer == LAYERS[src] else "up"
            what = "the root package" if dst == "" else f"layer {dst_layer}"
            bad.append(f"{path}:{line}: {src} (layer {LAYERS[src]}) -> {module} ({what}, {way})")
    assert not bad, "imports against the layer map:\n" + "\n".join(bad)


def test_the_scan_sees_relative_and_function_level_imports(tmp_path):
    # the scanner itself: an import inside a function and a relative import are both found
    tree = SRC / "runs" / "comparison.py"
    found = {m for _, m in _imported_modules(tree)}
    assert "thermolearn.runs.sample" in found  # imported inside _run_monte_carlo
    assert any(m.startswith("thermolearn.variational") for m in found)


# ------------------------------------------------------------------------------ start-up
_PROBE = """
import sys, time
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
heavy = sorted(m for m in ("jax", "numba", "scipy", "matplotlib", "torch") if m in sys.modules)
print("PROBE", round(elapsed, 3), ",".join(heavy) or "-", len([m for m in sys.modules if m.startswith("thermolearn")]))
"""

_RUN_CLI = """
from thermolearn.cli.main import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
"""


def _probe(body: str) -> tuple[float, set[str], int]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(body=body)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("PROBE"))
    _, seconds, heavy, n_modules = line.split()
    return float(seconds), set() if heavy == "-" else set(heavy.split(",")), int(n_modules)


@pytest.mark.parametrize(
    "label, body, forbidden",
    [
        ("import thermolearn", "import thermolearn", {"jax", "numba", "scipy"}),
        ("thermolearn.__version__", "import thermolearn; thermolearn.__version__", {"jax", "numba", "scipy"}),
        ("thermolearn --version", _RUN_CLI.format(argv=["--version"]), {"jax"}),
        ("thermolearn onsager --help", _RUN_CLI.format(argv=["onsager", "--help"]), {"jax"}),
    ],
)
def test_cheap_entry_points_load_no_jax_and_start_fast(label, body, forbidden):
    wall = time.perf_counter()
    seconds, heavy, n_modules = _probe(body)
    wall = time.perf_counter() - wall
    print(f"{label}: {seconds:.3f} s in Python, {wall:.3f} s with the interpreter, {n_modules} thermolearn modules")
    assert not heavy & forbidden, f"{label} imported {sorted(heavy & forbidden)}"
    assert wall < STARTUP_LIMIT_S, f"{label} took {wall:.2f} s (limit {STARTUP_LIMIT_S} s)"


def test_import_thermolearn_loads_only_a_handful_of_modules():
    _, _, n_modules = _probe("import thermolearn")
    assert n_modules <= 3, f"import thermolearn loaded {n_modules} thermolearn modules"


# ------------------------------------------------------------------------------ public surface
PACKAGES = sorted(u for u in LAYERS if (SRC / u / "__init__.py").is_file())


def test_every_subpackage_is_an_attribute_of_the_root_and_lists_its_names():
    import importlib

    import thermolearn

    for name in PACKAGES:
        package = getattr(thermolearn, name)
        assert package is importlib.import_module(f"thermolearn.{name}")
        assert isinstance(package.__all__, list | tuple), name
        listed = dir(package)
        for public in package.__all__:
            assert public in listed, f"thermolearn.{name}.{public} missing from dir()"


def test_root_exports():
    import thermolearn
    from thermolearn.models import Ising, MaxCut
    from thermolearn.runs import compare, sample

    assert thermolearn.Ising is Ising and thermolearn.MaxCut is MaxCut
    assert thermolearn.sample is sample and thermolearn.compare is compare
    assert isinstance(thermolearn.__version__, str)
    assert {"Ising", "MaxCut", "sample", "compare", "__version__", "exact", "runs"} <= set(dir(thermolearn))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        thermolearn.nothing_here  # noqa: B018


def test_an_export_keeps_its_name_when_its_same_named_submodule_is_imported():
    import importlib

    importlib.import_module("thermolearn.exact.solve")
    importlib.import_module("thermolearn.runs.sample")
    import thermolearn.exact
    import thermolearn.runs

    assert callable(thermolearn.exact.solve) and thermolearn.exact.solve.__name__ == "solve"
    assert callable(thermolearn.runs.sample) and thermolearn.runs.sample.__name__ == "sample"


def _init_tables(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The ``_EXPORTS`` table of a package ``__init__`` and what its TYPE_CHECKING block imports,
    both as {public name: "module:attribute"} with absolute module names."""
    tree = ast.parse(path.read_text())
    package = _module_name(path)
    table: dict[str, str] = {}
    typed: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "_EXPORTS" for t in node.targets):
            for name, target in ast.literal_eval(node.value).items():
                module, _, attribute = target.partition(":")
                table[name] = f"{package}.{module}:{attribute or name}"
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), f"{path}: only imports belong under TYPE_CHECKING"
                for alias in imp.names:
                    typed[alias.asname or alias.name] = f"{imp.module}:{alias.name}"
    return table, typed


def test_each_package_lists_its_exports_once_for_the_run_time_and_once_for_type_checkers():
    for path in [SRC / "__init__.py", *sorted(SRC.glob("*/__init__.py"))]:
        table, typed = _init_tables(path)
        assert "lazy_exports(__name__" in path.read_text(), f"{path}: use thermolearn.lazy_exports"
        assert table == typed, f"{path}: the _EXPORTS table and the TYPE_CHECKING imports differ"
