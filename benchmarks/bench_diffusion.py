"""Diffusion training speed and peak memory: the Swiss-roll, digits and MNIST models (MLP and CNN).

Each workload runs in its own process (so its peak resident memory is its own): it builds
the model the ``thermolearn diffusion train`` defaults would build (or the CNN alternative), trains for a fixed number
of optimiser steps, and reports steps per second after the first compiled chunk (compilation
is timed separately) and the process's peak RSS. ``--mnist PATH`` adds the MNIST workload.

    python benchmarks/bench_diffusion.py [--quick] [--mnist /path/to/mnist]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time

WORKLOADS = {
    # name: (dataset, config overrides, batch, iterations); the first three are `thermolearn diffusion train`'s
    # defaults for that data, the conv workloads the alternative network
    "swiss-roll": (
        "swiss-roll",
        dict(dim=2, steps=40, schedule="snr", beta_1=1e-4, parameterization="paper", hidden=128, depth=3),
        256,
        1000,
    ),
    "digits": (
        "digits",
        dict(
            dim=64,
            steps=100,
            schedule="snr",
            beta_1=(2 / 17) ** 2,
            parameterization="eps",
            network="mlp",
            hidden=512,
            depth=4,
            image_shape=(8, 8),
        ),
        256,
        1000,
    ),
    "mnist": (
        None,
        dict(
            dim=784,
            steps=100,
            schedule="snr",
            beta_1=(2 / 256) ** 2,
            parameterization="eps",
            network="resmlp",
            hidden=1024,
            depth=4,
            image_shape=(28, 28),
        ),
        128,
        500,
    ),
    "digits-conv": (
        "digits",
        dict(
            dim=64,
            steps=100,
            schedule="snr",
            beta_1=(2 / 17) ** 2,
            parameterization="eps",
            network="conv",
            channels=32,
            depth=4,
            image_shape=(8, 8),
        ),
        256,
        300,
    ),
    "mnist-conv": (
        None,
        dict(
            dim=784,
            steps=100,
            schedule="snr",
            beta_1=(2 / 256) ** 2,
            parameterization="eps",
            network="conv",
            channels=16,
            depth=4,
            image_shape=(28, 28),
        ),
        64,
        200,
    ),
}


def run_one(name: str, mnist: str | None, quick: bool) -> dict:
    import numpy as np

    from thermolearn.datasets import load_dataset
    from thermolearn.diffusion import DiffusionConfig, DiffusionModel, train

    dataset, overrides, batch, iterations = WORKLOADS[name]
    if quick:
        iterations = iterations // 4
    data = load_dataset(dataset or mnist, n=20_000 if name.startswith("mnist") else None)
    model = DiffusionModel.create(DiffusionConfig(**overrides), seed=0)
    marks: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    objective = "hybrid" if overrides["parameterization"] == "eps" else "vb"
    result = train(
        model,
        data.data,
        iterations=iterations,
        batch_size=batch,
        learning_rate=1e-3,
        objective=objective,
        seed=0,
        progress=False,
        dequantize=(2.0 / data.levels if data.levels else None),
        checkpoint_every=max(iterations // 10, 1),
        callback=lambda step, loss: marks.append((step, time.perf_counter())),
    )
    first_step, first_time = marks[0]
    last_step, last_time = marks[-1]
    rate = (last_step - first_step) / (last_time - first_time)
    return {
        "workload": name,
        "network": overrides.get("network", "mlp"),
        "dim": data.dim,
        "steps_T": overrides["steps"],
        "batch": batch,
        "iterations": iterations,
        "parameters": model.n_parameters(),
        "first_chunk_s_incl_compile": first_time - t0,
        "steps_per_second": rate,
        "seconds_per_1000_steps": 1000 / rate,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_data": int(len(data.data)),
        "checksum": float(np.sum(result.model.arrays()["net.out.bias"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--mnist", metavar="PATH", help="folder with the MNIST IDX files (adds the MNIST workload)")
    parser.add_argument("--workload", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.workload:
        print(json.dumps(run_one(args.workload, args.mnist, args.quick)))
        return
    import jax

    import thermolearn

    print(
        f"thermolearn {thermolearn.__version__}, jax {jax.__version__} ({jax.default_backend()}), "
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}"
    )
    names = ["swiss-roll", "digits", "digits-conv"] + (["mnist", "mnist-conv"] if args.mnist else [])
    print(
        f"{'workload':>12} {'dim':>4} {'T':>4} {'batch':>5} {'params':>8} {'steps/s':>9} {'s/1000 steps':>13} "
        f"{'compile+1st chunk s':>20} {'peak RSS MiB':>13}"
    )
    for name in names:
        cmd = (
            [sys.executable, __file__, "--workload", name]
            + (["--quick"] if args.quick else [])
            + (["--mnist", args.mnist] if args.mnist else [])
        )
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{r['workload']:>12} {r['dim']:>4} {r['steps_T']:>4} {r['batch']:>5} {r['parameters']:>8} "
            f"{r['steps_per_second']:>9.1f} {r['seconds_per_1000_steps']:>13.1f} "
            f"{r['first_chunk_s_incl_compile']:>20.1f} {r['peak_rss_mib']:>13.0f}"
        )


if __name__ == "__main__":
    main()
