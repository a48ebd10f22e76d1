"""Diffusion models against the paper: held-out bounds, sample checks and training times.

Every run is the command line a user would type (``thermolearn diffusion train``, then
``bound --json`` and ``sample --check --json``), so each row of docs/benchmarks.md has its
command. Runs:

* ``roll``: the Swiss roll of thickness 0.05 (the library's default), T = 40, next to the
  exact log density of that roll (the ceiling) and the paper's Table 1 value (2.35 bits);
* ``thin-roll``: the same on a roll four times thinner (noise 0.0125), whose ceiling is
  above the paper's value, so the paper's number can be beaten or not;
* ``digits``: scikit-learn's digits, T = 100, with the 1-nearest-neighbour sample check
  repeated over several sample seeds;
* ``mnist`` (with ``--mnist PATH``): MNIST, T = 100, trained with a checkpoint; the bound
  on 1,000 test images and a sample grid.

    python benchmarks/bench_diffusion_quality.py [--only roll,thin-roll,digits,mnist] [--mnist PATH]

Models, JSON outputs and figures go to ``benchmarks/results/diffusion/`` (git-ignored); a
summary is printed and written to ``NAME_result.json`` there.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "diffusion"

RUNS = {
    # name: (train arguments, bound arguments, check seeds)
    "roll": (
        ["--data", "swiss-roll", "--steps", "40", "--hidden", "256", "--iterations", "30000"],
        ["--n", "10000"],
        (0, 1, 2),
    ),
    "thin-roll": (
        [
            "--data",
            "swiss-roll",
            "--noise",
            "0.0125",
            "--beta-1",
            "1e-5",
            "--steps",
            "40",
            "--hidden",
            "256",
            "--iterations",
            "30000",
        ],
        ["--n", "10000"],
        (0, 1, 2),
    ),
    "digits": (
        ["--data", "digits", "--steps", "100", "--beta-1", "1e-2", "--iterations", "20000"],
        [],
        (0, 1, 2, 3, 4),
    ),
    "mnist": (["--steps", "100", "--iterations", "15000", "--checkpoint-every", "1000"], ["--n", "1000"], ()),
}


def thermolearn(*args: str) -> None:
    cmd = [sys.executable, "-m", "thermolearn.cli.main", *args]
    print("$ thermolearn " + " ".join(args), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def run(name: str, mnist: str | None) -> dict:
    train_args, bound_args, seeds = RUNS[name]
    if name == "mnist":
        train_args = ["--data", mnist, *train_args, "--checkpoint", str(OUT / "mnist_checkpoint.npz")]
        # a model file names its data folder but the CLI reads only a folder given on the command line
        bound_args = ["--data", mnist, *bound_args]
    model = OUT / f"{name}.npz"
    t0 = time.perf_counter()
    thermolearn(
        "diffusion",
        "train",
        *train_args,
        "--save",
        str(model),
        "--json",
        str(OUT / f"{name}_train.json"),
        "--no-progress",
    )
    wall = time.perf_counter() - t0
    thermolearn(
        "diffusion",
        "bound",
        str(model),
        *bound_args,
        "--json",
        str(OUT / f"{name}_bound.json"),
        "--plot",
        str(OUT / f"{name}_bound_terms.png"),
        "--no-progress",
    )
    out = {
        "train": json.loads((OUT / f"{name}_train.json").read_text()),
        "train_wall_s": wall,
        "bound": json.loads((OUT / f"{name}_bound.json").read_text()),
        "checks": [],
    }
    for seed in seeds:
        path = OUT / f"{name}_check_{seed}.json"
        thermolearn(
            "diffusion",
            "sample",
            str(model),
            "--check",
            "--seed",
            str(seed),
            "--json",
            str(path),
            *(["--n", "150"] if name == "digits" else []),
        )
        out["checks"].append(json.loads(path.read_text())["check"])
    thermolearn(
        "diffusion",
        "sample",
        str(model),
        "--seed",
        "0",
        "--plot",
        str(OUT / f"{name}_samples.png"),
        *(["--n", "1500"] if "roll" in name else []),
    )
    return out


def describe(name: str, r: dict) -> str:
    b = r["bound"]
    line = (
        f"{name}: bound {b['bound_bits']['mean']:.3f} +- {b['bound_bits']['stderr']:.3f} {b['unit']}"
        f" (n = {b['n']}); trained {r['train']['training']['iterations']} steps in {r['train']['seconds']:.0f} s"
    )
    if "exact_log_likelihood_bits" in b:
        line += f"; exact ceiling {b['exact_log_likelihood_bits']['mean']:.3f}"
    if "paper_bits" in b:
        line += f"; paper {b['paper_bits']}"
    for c in r["checks"]:
        if c["test"] == "energy distance":
            line += f"\n    energy distance {c['statistic']:.5f} (threshold {c['threshold']:.5f}) passed={c['passed']}"
        else:
            line += (
                f"\n    1-NN accuracy {c['accuracy']:.3f} (samples {c['sample_accuracy']:.3f}, real "
                f"{c['real_accuracy']:.3f}, chance {c['chance']:.3f}, p = {c['p_value']:.3f}; real-vs-real "
                f"{c['reference_accuracy']:.3f}) copy ratio {c['copy_ratio']:.2f} passed={c['passed']}"
            )
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="roll,thin-roll,digits", help="comma-separated runs (default: all but mnist)")
    parser.add_argument("--mnist", metavar="PATH", help="folder with the MNIST IDX files (needed for the mnist run)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        parser.error(f"unknown runs {unknown}; choose from {', '.join(RUNS)}")
    if "mnist" in names and not args.mnist:
        parser.error("the mnist run needs --mnist PATH")
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        result = run(name, args.mnist)
        (OUT / f"{name}_result.json").write_text(json.dumps(result, indent=1))
        print(describe(name, result), flush=True)


if __name__ == "__main__":
    main()
