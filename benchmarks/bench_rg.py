"""Monte Carlo renormalisation: y_T and y_h of the Ising model at its critical point.

Workload: Swendsen's MCRG (``thermolearn.rg.run_mcrg``) on the periodic 2D Ising model at
K_c = ln(1 + sqrt 2) / 2 for L = 64, 128, 256 and on the 3D model at K_c = 0.2216546 for
L = 16, 32, 64: Swendsen-Wang samples, b = 2 majority-rule blocks (random tie-break), the even
operators (nn, nnn, nn2, plaquette; 3D also body diagonals) for y_T and the odd ones
(magnetisation, three-spin corner and line) for y_h, bootstrap error bars over bins of
2 tau_int. Targets (issue 17): 2D y_T within 0.05 of 1 and y_h within 0.02 of 15/8 after
3-4 blockings; 3D towards y_T = 1/0.629971 = 1.5874 (and y_h = 2.4819).

This is an accuracy benchmark: it prints exponents with errors per level, the number of
blockings and operators, and the wall time of each run (a shared machine's times are
indicative only). ``--quick`` runs smaller sizes for a smoke test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import thermolearn  # noqa: E402
from thermolearn.rg import run_mcrg  # noqa: E402

EXACT = {2: (1.0, 15 / 8), 3: (1.0 / 0.629971, 2.481852)}  # 3D: conformal bootstrap (Kos et al. 2016)
TARGET = {2: (0.05, 0.02), 3: (None, None)}

# (dimension, L, blockings, samples): every level's last block lattice keeps side >= 4 for nn2
FULL = [
    (2, 64, 4, 32000),
    (2, 128, 4, 16000),
    (2, 256, 4, 8000),
    (3, 16, 2, 16000),
    (3, 32, 3, 8000),
    (3, 64, 4, 4000),
]
QUICK = [(2, 32, 3, 1000), (3, 16, 2, 1000)]


def run_one(dimension: int, size: int, blockings: int, samples: int, seed: int, bootstrap: int) -> dict:
    t0 = time.perf_counter()
    result = run_mcrg(
        size,
        dimension,
        blockings=blockings,
        n_samples=samples,
        burn_in=100,
        n_bootstrap=bootstrap,
        seed=seed,
        progress=False,
    )
    record = result.as_dict()
    record["wall_seconds"] = time.perf_counter() - t0
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--json", metavar="PATH", help="write every run's record here")
    args = parser.parse_args()
    print(
        f"thermolearn {thermolearn.__version__}, numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    records = []
    header = f"{'d':>2} {'L':>4} {'level':>5} {'samples':>7} {'y_T':>16} {'y_h':>16}  ops(even/odd)"
    print(header)
    for dimension, size, blockings, samples in QUICK if args.quick else FULL:
        rec = run_one(dimension, size, blockings, samples, args.seed, args.bootstrap)
        records.append(rec)
        y_t_exact, y_h_exact = EXACT[dimension]
        for lv in rec["levels"]:
            t, h = lv["y_t"], lv["y_h"]
            print(
                f"{dimension:>2} {size:>4} {lv['level']:>5} {rec['samples']:>7} "
                f"{t['mean']:8.4f} ± {t['stderr']:.4f} {h['mean']:8.4f} ± {h['stderr']:.4f}  "
                f"{len(rec['even_operators'])}/{len(rec['odd_operators'])}"
            )
        last = rec["levels"][-1]
        tol_t, tol_h = TARGET[dimension]
        dt, dh = last["y_t"]["mean"] - y_t_exact, last["y_h"]["mean"] - y_h_exact
        verdict = ""
        if tol_t is not None:
            verdict = (
                f" y_T {'within' if abs(dt) <= tol_t else 'MISSES'} {tol_t}, "
                f"y_h {'within' if abs(dh) <= tol_h else 'MISSES'} {tol_h}"
            )
        print(
            f"   -> last level {last['level']}: y_T - exact = {dt:+.4f}, y_h - exact = {dh:+.4f};{verdict} "
            f"(tau_int {rec['tau_int_nn']:.2f}, bins of {rec['bin_size']}, {rec['wall_seconds']:.0f} s)",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
