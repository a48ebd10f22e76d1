"""How often Metropolis should make a flip that costs nothing (Delta E = 0).

Metropolis may make a free flip with any probability a0 in (0, 1] and keep detailed balance. The
textbook a0 = 1 is not ergodic in a fixed site order on rings and small periodic lattices; smaller
a0 slows domain walls everywhere. For each a0 this runs, with the library's own Metropolis kernels
(a rule built per a0 through :class:`~thermolearn.samplers.rules.SpinFlipRule`):

- quality: E/N of a 64-site ring at T = 0.7 (sequential and checkerboard) against the exact ring,
  and the conformance kit's chi-square p-value on the 3x3 antiferromagnet, 2x2, 4x2 and the
  12-site ring (sequential: a p-value near 0 is a trap);
- speed of mixing: tau_int of E and |m| at T_c on 32x32 (checkerboard and sequential, mean of
  ``--seeds`` chains) and tau_int of m at T = 2.0 in parallel tempering on 16x16 (8 temperatures
  2.0-2.7, mean of ``--pt-seeds`` runs);
- cost per sweep: microseconds per sweep at T_c for L = 16, 64 and 256 (checkerboard, one chain,
  best of ``--repeats``), interleaved across a0 in one run.

    .venv/bin/python benchmarks/bench_free_flips.py
    .venv/bin/python benchmarks/bench_free_flips.py --a0 1.0,0.9 --seeds 3 --pt-seeds 16

No other package is compared: the reference for each a0 is the exact answer and a0 = 1.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np

from thermolearn import Ising
from thermolearn.kernel_cache import njit
from thermolearn.randomness.xoshiro import next_uniform
from thermolearn.runs import sample
from thermolearn.samplers import ChainState, Metropolis, ParallelTempering
from thermolearn.samplers.parallel_tempering import geometric_ladder
from thermolearn.samplers.rules import CODE_FLIP, SpinFlipRule, count_below, draw_code
from thermolearn.testing import check_sampler

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


def metropolis_with(a0: float) -> type[Metropolis]:
    """A Metropolis sampler class whose free flips are made with probability ``a0``."""
    free = float(a0)

    @njit(inline="always")
    def decide(si, phi, beta, s0, s1, s2, s3):
        de = 2.0 * si * phi
        flip = de < 0.0
        if not flip:
            u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
            flip = u < free if de == 0.0 else u < math.exp(-beta * de)
        return flip, de, s0, s1, s2, s3

    @njit(inline="always")
    def lattice_code(si, phi, beta):
        de = 2.0 * si * phi
        if de < 0.0:
            return CODE_FLIP
        return draw_code(count_below(1.0, free if de == 0.0 else math.exp(-beta * de)), False)

    rule = SpinFlipRule(f"metropolis-a0-{a0:g}", decide, lattice_code)
    return type(f"MetropolisA0_{a0:g}".replace(".", "_"), (Metropolis,), {"name": rule.name, "rule": rule})


def ring_energy_per_spin(n: int, T: float) -> float:
    """Exact E/N of the periodic ferromagnetic ring, J = 1: Z = (2 cosh K)^n + (2 sinh K)^n."""
    c, s = 2.0 * math.cosh(1.0 / T), 2.0 * math.sinh(1.0 / T)
    return -(c ** (n - 1) * s + s ** (n - 1) * c) / (c**n + s**n)


def quality(cls: type[Metropolis]) -> str:
    exact = ring_energy_per_spin(64, 0.7)
    parts = []
    for order in ("sequential", "checkerboard"):
        e = sample(Ising.lattice((64,)), cls(order=order), 0.7, sweeps=20_000, burn_in=1000, n_chains=2, seed=1)
        got = e.at().energy_per_spin
        parts.append(f"ring {order[:3]} {got.mean:+.4f}({got.stderr:.4f})")
    parts.append(f"exact {exact:+.4f}")
    models = {
        "3x3 afm": (Ising.lattice((3, 3), coupling=-1.0), 1.5),
        "2x2": (Ising.lattice((2, 2)), 2.0),
        "4x2": (Ising.lattice((4, 2)), 1.5),
        "ring12": (Ising.lattice((12,)), 1.0),
    }
    report = check_sampler(cls("sequential"), models=models, raise_on_failure=False)
    parts.append("kit p " + " ".join(f"{c.model}={c.p_value:.3f}" for c in report.cases))
    return " | ".join(parts)


def mixing(cls: type[Metropolis], seeds: int, pt_seeds: int) -> str:
    parts = []
    for order in ("checkerboard", "sequential"):
        te, tm = [], []
        for s in range(seeds):
            at = sample(Ising.lattice((32, 32)), cls(order=order), T_C, sweeps=20_000, burn_in=1000, seed=s + 1).at()
            te.append(at.tau_energy.tau)
            tm.append(at.tau_abs_magnetization.tau)
        parts.append(f"32x32 T_c {order[:3]} tau_E {np.mean(te):.1f} tau_|m| {np.mean(tm):.1f}")
    taus = []
    for s in range(pt_seeds):
        pt = ParallelTempering(geometric_ladder(2.0, 2.7, 8), base=cls())
        run = sample(Ising.lattice((16, 16)), pt, None, sweeps=12_000, burn_in=1000, seed=100 + s)
        taus.append(run.at(2.0).tau_magnetization.tau)
    parts.append(f"PT 16x16 T=2 tau_m {np.mean(taus):.1f}({np.std(taus) / math.sqrt(len(taus)):.1f})")
    return " | ".join(parts)


def cost(classes: dict[float, type[Metropolis]], repeats: int) -> dict[float, list[float]]:
    """Microseconds per sweep at T_c, checkerboard, one chain, for L = 16, 64, 256 (interleaved)."""
    sizes = (16, 64, 256)
    best = {a0: [math.inf] * len(sizes) for a0 in classes}
    for _ in range(repeats):
        for k, L in enumerate(sizes):
            model = Ising.lattice((L, L))
            sweeps = max(20, 2_000_000 // (L * L))
            for a0, cls in classes.items():
                state = ChainState.new(model, 1, seed=0)
                bound = cls(order="checkerboard").bind(model, state, 1.0 / T_C)
                bound.sweep(50)
                t = time.perf_counter()
                bound.sweep(sweeps)
                best[a0][k] = min(best[a0][k], (time.perf_counter() - t) / sweeps * 1e6)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a0", default="1.0,0.95,0.9,0.8,0.5", help="free-flip probabilities, comma-separated")
    p.add_argument("--seeds", type=int, default=3, help="32x32 chains per order and a0")
    p.add_argument("--pt-seeds", type=int, default=16, help="parallel-tempering runs per a0")
    p.add_argument("--repeats", type=int, default=5, help="timing repeats (best of)")
    args = p.parse_args()
    a0s = [float(x) for x in args.a0.split(",")]
    classes = {a0: metropolis_with(a0) for a0 in a0s}
    warnings.simplefilter("ignore")  # the a0 = 1 rows are meant to fail; their warnings say so
    for a0, cls in classes.items():
        print(f"a0 = {a0:g}: {quality(cls)}", flush=True)
        print(f"a0 = {a0:g}: {mixing(cls, args.seeds, args.pt_seeds)}", flush=True)
    best = cost(classes, args.repeats)
    print(
        f"us per sweep at T_c, checkerboard, one chain (L = 16, 64, 256; in brackets: x the time of a0 = {a0s[0]:g}):"
    )
    for a0, times in best.items():
        ratio = [t / r for t, r in zip(times, best[a0s[0]], strict=True)]
        print(f"a0 = {a0:g}: " + "  ".join(f"{t:.3g} ({q:.2f}x)" for t, q in zip(times, ratio, strict=True)))


if __name__ == "__main__":
    main()
