"""Cluster updates at the critical point: effectively independent samples of |m| per second.

Workload: the 2D Ising ferromagnet, J = 1, periodic L x L (default L = 256), at
T_c = 2 / ln(1 + sqrt 2), one chain, one thread. Each contender is equilibrated, then
records |m| = |M| / N after every unit of work (one sweep; for mcising's Wolff, whose
"sweep" is one cluster, k clusters with k = thermolearn's measured clusters per sweep) for
a fixed time budget. The figure of merit is

    effective samples per second = (samples / CPU second) / (2 tau_int(|m|))

with tau_int from thermolearn's estimator (Sokal window). A rate per CPU second is used
because benchmark machines are often shared; wall-clock seconds are printed too.
Metropolis' tau_int at L = 256 is thousands of sweeps, longer than a short run can
measure: it is flagged (its tau is then a lower bound and its rate an upper bound).

Contenders: thermolearn (Wolff, Swendsen-Wang, Metropolis), mcising (the same three,
Rust), peapods (Rust; it interleaves cluster updates with Metropolis sweeps, so its rows
are "Metropolis sweep + one Wolff / SW update", and Metropolis alone).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one chain, one thread, for every contender
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import math  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

import thermolearn  # noqa: E402
from thermolearn import Ising  # noqa: E402
from thermolearn.estimators import integrated_autocorrelation_time  # noqa: E402
from thermolearn.samplers import ChainState  # noqa: E402
from thermolearn.samplers.cluster import SwendsenWang, Wolff  # noqa: E402
from thermolearn.samplers.single_spin import Metropolis  # noqa: E402

T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


@dataclass
class Row:
    library: str
    algorithm: str
    unit: str
    samples: int
    wall: float
    cpu: float
    mean_abs_m: float
    tau: float
    tau_err: float
    reliable: bool

    @property
    def rate(self) -> float:
        return self.samples / self.cpu

    @property
    def effective(self) -> float:
        return self.rate / (2.0 * self.tau)


def measure(library: str, algorithm: str, unit: str, step, budget: float, min_samples: int = 200) -> Row:
    """Call ``step()`` (one unit of work, returns |m|) until ``budget`` CPU seconds are spent."""
    values = []
    wall0, cpu0 = time.perf_counter(), time.process_time()
    while True:
        for _ in range(10):
            values.append(step())
        cpu = time.process_time() - cpu0
        if cpu >= budget and len(values) >= min_samples:
            break
    wall = time.perf_counter() - wall0
    series = np.asarray(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tau = integrated_autocorrelation_time(series)
    row = Row(
        library, algorithm, unit, series.size, wall, cpu, float(series.mean()), tau.tau, tau.tau_stderr, tau.reliable
    )
    print(
        f"  {library:<11} {algorithm:<22} {row.samples:>7} samples  tau {row.tau:8.2f}"
        f"{'' if row.reliable else ' (unreliable)'}  eff/s {row.effective:10.2f}",
        flush=True,
    )
    return row


# ------------------------------------------------------------------------------ contenders
def thermolearn_rows(L: int, budget: float, burn_in: int) -> tuple[list[Row], np.ndarray, int]:
    model = Ising.lattice((L, L))
    n = model.n_spins
    beta = 1.0 / T_C
    rows = []
    equilibrated = None
    clusters = 1
    for sampler in (Wolff(), SwendsenWang(), Metropolis()):
        if isinstance(sampler, Metropolis):
            state = ChainState.new(model, 1, seed=3, initial=equilibrated)  # start from a cluster-equilibrated state
            sampler.sweep(model, state, beta, burn_in)
        else:
            state = ChainState.new(model, 1, seed=1)
            sampler.sweep(model, state, beta, burn_in)

        def step(sampler=sampler, state=state):
            sampler.sweep(model, state, beta, 1)
            return abs(state.magnetization[0]) / n

        rows.append(measure("thermolearn", sampler.name, "1 sweep", step, budget))
        if isinstance(sampler, Wolff):
            equilibrated = state.spins.copy()
            (clusters,) = sampler.info()["clusters_per_sweep"].values()
            rows[-1].unit = f"1 sweep = {clusters} clusters"
    return rows, equilibrated.reshape(L, L), clusters


def mcising_rows(L: int, budget: float, burn_in: int, equilibrated: np.ndarray, clusters: int) -> list[Row]:
    try:
        import mcising._core as mc
    except ImportError:
        print("  mcising not installed: skipped")
        return []
    rows = []
    for name, label, per_sample, unit in (
        ("wolff", "wolff", clusters, f"{clusters} clusters"),
        ("swendsen_wang", "sw", 1, "1 sweep"),
        ("metropolis", "metropolis", 1, "1 sweep"),
    ):
        sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, name, "square")
        sim.set_spins(equilibrated.astype(np.int8))
        sim.sweep(burn_in * per_sample, temperature=T_C)

        def step(sim=sim, per_sample=per_sample):
            sim.sweep(per_sample, temperature=T_C)
            return abs(sim.magnetization())

        rows.append(measure("mcising", label, unit, step, budget))
    return rows


def peapods_rows(L: int, budget: float, burn_in: int) -> list[Row]:
    try:
        import peapods
    except ImportError:
        print("  peapods not installed: skipped")
        return []
    rows = []
    for mode, label in (("wolff", "metropolis+wolff"), ("sw", "metropolis+sw"), (None, "metropolis")):
        np.random.seed(11)  # peapods draws its initial spins and seeds from NumPy's global generator
        model = peapods.Ising((L, L), temperatures=np.array([T_C]))
        # equilibrate with cluster updates (peapods cannot load a configuration)
        model.sample(burn_in, cluster_update_interval=1, cluster_mode=mode or "wolff", warmup_ratio=0.0)
        kwargs = dict(cluster_update_interval=1, cluster_mode=mode) if mode else {}
        if mode is None:
            model.sample(burn_in, warmup_ratio=0.0)

        def step(model=model, kwargs=kwargs):
            result = model.sample(1, warmup_ratio=0.0, **kwargs)
            return abs(float(result["mags"][0]))

        unit = f"1 Metropolis sweep + 1 {mode.upper() if mode == 'sw' else 'Wolff'} update" if mode else "1 sweep"
        rows.append(measure("peapods", label, unit, step, budget))
    return rows


# ---------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="lattice side L (default 256)")
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU seconds of measurement per contender")
    parser.add_argument("--burn-in", type=int, default=300, help="equilibration sweeps per contender")
    args = parser.parse_args()
    L = args.size
    versions = [f"thermolearn {thermolearn.__version__}", f"numpy {np.__version__}"]
    for name in ("numba", "mcising", "peapods"):
        try:
            from importlib.metadata import version

            versions.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 - optional contenders
            pass
    print(
        f"{', '.join(versions)}, python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"2D Ising, {L}x{L} periodic, T_c = {T_C:.6f}, one chain, one thread; "
        f"{args.seconds:g} CPU s per contender after {args.burn_in} sweeps of burn-in\n"
    )

    # compile the kernels before timing anything
    small = Ising.lattice((8, 8))
    for sampler in (Wolff(), SwendsenWang(), Metropolis()):
        sampler.sweep(small, ChainState.new(small, 1, seed=0), 1.0 / T_C, 2)

    rows, equilibrated, clusters = thermolearn_rows(L, args.seconds, args.burn_in)
    rows += mcising_rows(L, args.seconds, args.burn_in, equilibrated, clusters)
    rows += peapods_rows(L, args.seconds, args.burn_in)

    reference = rows[0].effective  # thermolearn Wolff
    header = (
        "| library | algorithm | one sample is | samples | CPU s | wall s | <|m|> | samples/s | tau_int(|m|) "
        "| eff. samples/s | thermolearn Wolff is |"
    )
    print("\n" + header)
    print("|---" * 11 + "|")
    for r in rows:
        tau = f"{r.tau:.2f} +- {r.tau_err:.2f}" if r.reliable else f">= {r.tau:.0f} (run too short)"
        eff = f"{r.effective:.2f}" if r.reliable else f"<= {r.effective:.2f}"
        ratio = reference / r.effective
        ratio_text = "-" if r is rows[0] else (f"{ratio:.2f}x" if r.reliable else f">= {ratio:.0f}x")
        print(
            f"| {r.library} | {r.algorithm} | {r.unit} | {r.samples} | {r.cpu:.1f} | {r.wall:.1f} | "
            f"{r.mean_abs_m:.3f} | {r.rate:.1f} | {tau} | {eff} | {ratio_text} |"
        )
    by = {(r.library, r.algorithm): r for r in rows}
    print()
    for ours, theirs in (
        (("thermolearn", "wolff"), ("mcising", "wolff")),
        (("thermolearn", "sw"), ("mcising", "sw")),
        (("thermolearn", "metropolis"), ("mcising", "metropolis")),
        (("thermolearn", "wolff"), ("peapods", "metropolis+wolff")),
        (("thermolearn", "sw"), ("peapods", "metropolis+sw")),
    ):
        if ours in by and theirs in by:
            a, b = by[ours], by[theirs]
            print(
                f"{' '.join(ours)} / {' '.join(theirs)}: effective samples per CPU second "
                f"{a.effective / b.effective:.2f}x, raw samples per CPU second {a.rate / b.rate:.2f}x"
            )


if __name__ == "__main__":
    main()
