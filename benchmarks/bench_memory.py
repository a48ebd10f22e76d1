"""Peak memory of the main jobs, each run as its own `thermolearn` process.

The figure is the child's peak resident set (``ru_maxrss``), next to the memory the job's own
arrays need at the least, so a job that allocates O(2^n) or O(N^2) where O(N) would do stands
out. The baseline row is `thermolearn --version` plus NumPy, SciPy and Numba imported (what any
job pays before it allocates anything).

    .venv/bin/python benchmarks/bench_memory.py --mnist ../shared/data/binarized_mnist [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import thermolearn

BIN = str(Path(sys.executable).with_name("thermolearn"))


def _child_peak(argv: list[str], cwd: str) -> tuple[float, float, int]:
    """Run ``argv`` in a fresh wrapper process; its child's peak RSS (MB), seconds, exit code."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t, code)\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], cwd=cwd, capture_output=True, text=True, check=True)
    peak, seconds, code = out.stdout.split()
    return float(peak), float(seconds), int(code)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", help="a binarised-MNIST folder (the RBM and AIS rows need it)")
    parser.add_argument("--quick", action="store_true", help="smaller jobs (n = 24, L = 1024)")
    args = parser.parse_args()
    n_enum = 24 if args.quick else 30
    side = 1024 if args.quick else 4096
    print(
        f"thermolearn {thermolearn.__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"resident memory as ru_maxrss of each job's process"
    )
    with tempfile.TemporaryDirectory() as tmp:
        from thermolearn import Ising

        Ising.sherrington_kirkpatrick(n_enum, seed=1).save(os.path.join(tmp, "sk.npz"))
        jobs: list[tuple[str, list[str], str]] = [
            ("baseline", [sys.executable, "-c", "import numpy, scipy.sparse, numba, thermolearn"], "-"),
            (
                f"exact enumeration, SK n = {n_enum}",
                [BIN, "exact", "sk.npz", "-T", "1", "--no-progress"],
                "O(n) per thread: the states are never stored",
            ),
            (
                f"ising Metropolis, L = {side}, 4 chains",
                [BIN, "ising", "-L", str(side), "-T", "2.269", "--sweeps", "10", "--burn-in", "0", "--no-progress"],
                f"spins 4 x {side * side / 1e6:.1f} MB int8; no coupling matrix (the kernels read the geometry)",
            ),
        ]
        if args.mnist:
            jobs += [
                (
                    "rbm train, binarised MNIST (50000), 500 hidden, 1 epoch",
                    [BIN, "rbm", "train", "--data", args.mnist, "--hidden", "500", "--epochs", "1"]
                    + ["--save", "rbm.npz", "--no-progress"],
                    "data 50000 x 784 (39 MB as uint8, 314 MB as float64); weights 3 MB",
                ),
                (
                    "rbm loglik, AIS 100 runs, 1000 test images",
                    [BIN, "rbm", "loglik", "rbm.npz", "--data", args.mnist, "--split", "test", "--limit", "1000"]
                    + ["--method", "ais", "--schedule", "fast", "--no-progress"],
                    "100 chains x 784 units",
                ),
            ]
        print(f"{'job':58s} {'peak MB':>9s} {'seconds':>8s}  least the arrays need")
        for name, argv, least in jobs:
            peak, seconds, code = _child_peak(argv, tmp)
            status = "" if code == 0 else f"  (exit {code})"
            print(f"{name:58s} {peak:9.0f} {seconds:8.1f}  {least}{status}")


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    main()
