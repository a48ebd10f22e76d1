"""The wheel builds offline, installs into a clean venv, runs from there, and carries its package data."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "thermolearn"


def _setuptools_new_enough() -> bool:
    """pyproject's build-system needs setuptools >= 77 (PEP 639 license expression)."""
    try:
        major = int(metadata.version("setuptools").split(".")[0])
    except metadata.PackageNotFoundError:
        return False
    return major >= 77


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("build")
    if not _setuptools_new_enough():
        pytest.skip("building the wheel needs setuptools >= 77 in this environment: pip install 'setuptools>=77'")
    work = tmp_path_factory.mktemp("wheel")
    # a copy of the sources, so that the build leaves nothing in the working tree
    project = work / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    dist = work / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--skip-dependency-check", "--outdir", str(dist)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (path,) = dist.glob("thermolearn-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh venv holding only the wheel; the dependencies come from this environment through a
    .pth path line (a path line does not run this environment's own .pth files, so its editable
    thermolearn stays out of sight)."""
    env = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True, timeout=120)
    python = env / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(here)))
    return env


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return env


def test_the_wheel_holds_every_package_file_and_the_explorer_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "thermolearn/" + p.relative_to(SOURCE).as_posix()
        for p in SOURCE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert expected - names == set(), "package files missing from the wheel"
    assets = [n for n in names if n.startswith("thermolearn/viz/explorer_assets/")]
    assert len(assets) == len(list((SOURCE / "viz" / "explorer_assets").glob("*"))) > 0
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


def test_the_installed_wheel_runs_from_a_clean_venv(venv):
    python, command = venv / "bin" / "python", venv / "bin" / "thermolearn"
    where = subprocess.run(
        [str(python), "-c", "import thermolearn; print(thermolearn.__file__)"],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(venv), f"imported {where.stdout.strip()}, not the wheel's copy"
    version = subprocess.run([str(command), "--version"], capture_output=True, text=True, env=_clean_env(), timeout=60)
    assert version.returncode == 0, version.stderr
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert declared in version.stdout + version.stderr
    from thermolearn.exact.onsager import energy_per_spin

    small = subprocess.run(
        [str(command), "onsager", "-T", "2.0"], capture_output=True, text=True, env=_clean_env(), timeout=120
    )
    assert small.returncode == 0, small.stderr
    assert f"{energy_per_spin(2.0):.5f}" in small.stdout, small.stdout
