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

The contenders of one algorithm are measured interleaved (thermolearn and mcising take
turns of a quarter CPU second each), so a change of load on a shared machine falls on both
and their ratio stays fair. ``--sizes 32,64,128,256`` runs several lattices in one run and
ends with a summary of the ratios per L.

``--per-call 16,32,...,512`` adds a table of the per-sweep API's cost: microseconds per
``sampler.sweep(model, state, beta, 1)`` call from Python (what a harness that drives its own
loop pays), and per ``bound.sweep()`` of ``bound = sampler.bind(model, state, beta)`` (the
leanest per-sweep call: the spins flipped instead of a SweepStats), against mcising's ``sim.sweep(k)`` (k = 1, or thermolearn's clusters per sweep
for Wolff), both timed in alternating blocks, with the bare kernel's time per sweep (one
call of many sweeps) beside them, and for Metropolis the floor: a Python method call that hands
the same 23 arguments to the compiled entry of a function doing nothing, as the lean path calls
its kernel without Numba's dispatcher (what no per-sweep call of a Numba kernel can go below),
and the floor plus the bare sweep.

``--in-kernel 32,64,128,256`` adds a table where both sides record inside their compiled code:
thermolearn's ``sample()`` (its kernels write E, M every ``thin`` = 1 sweep into preallocated
arrays, one call per block) against mcising's ``IsingSimulation.production_sweeps(n, interval)``
(one FFI crossing, E and M after every ``interval`` sweeps; interval = 1, or thermolearn's
clusters per sweep for Wolff, whose mcising "sweep" is one cluster). Each turn of a quarter CPU
second is one production call of each side from the same Wolff-equilibrated configuration
(thermolearn with a new seed per turn), and tau_int(|m|) is estimated from each side's
concatenated turns, so a change of load falls on both.
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
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

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


@dataclass
class Contender:
    """One thing to time: ``step()`` does one unit of work and returns |m|."""

    library: str
    algorithm: str
    unit: str
    step: Callable[[], float]
    values: list = field(default_factory=list)
    cpu: float = 0.0
    wall: float = 0.0


def measure(contenders: list[Contender], budget: float, min_samples: int = 200, turn: float = 0.25) -> list[Row]:
    """Call each contender's ``step()`` until each has spent ``budget`` CPU seconds, in turns of
    ``turn`` CPU seconds, so load that comes and goes on a shared machine falls on all of them."""
    while any(c.cpu < budget or len(c.values) < min_samples for c in contenders):
        for c in contenders:
            if c.cpu >= budget and len(c.values) >= min_samples:
                continue
            wall0, cpu0 = time.perf_counter(), time.process_time()
            while time.process_time() - cpu0 < turn:
                for _ in range(10):
                    c.values.append(c.step())
            c.cpu += time.process_time() - cpu0
            c.wall += time.perf_counter() - wall0
    rows = []
    for c in contenders:
        series = np.asarray(c.values)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tau = integrated_autocorrelation_time(series)
        row = Row(
            c.library,
            c.algorithm,
            c.unit,
            series.size,
            c.wall,
            c.cpu,
            float(series.mean()),
            tau.tau,
            tau.tau_stderr,
            tau.reliable,
        )
        print(
            f"  {c.library:<11} {c.algorithm:<22} {row.samples:>7} samples  tau {row.tau:8.2f}"
            f"{'' if row.reliable else ' (unreliable)'}  eff/s {row.effective:10.2f}",
            flush=True,
        )
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------ contenders
def thermolearn_contenders(L: int, burn_in: int) -> tuple[dict[str, Contender], np.ndarray, int]:
    """thermolearn's Wolff, SW and Metropolis after burn-in (Metropolis from a Wolff-equilibrated
    state), with the equilibrated state and Wolff's clusters per sweep for mcising."""
    model = Ising.lattice((L, L))
    n = model.n_spins
    beta = 1.0 / T_C
    out = {}
    wolff = Wolff()
    equilibrated = None
    for sampler in (wolff, SwendsenWang(), Metropolis()):
        if isinstance(sampler, Metropolis):
            state = ChainState.new(model, 1, seed=3, initial=equilibrated)  # start from a cluster-equilibrated state
        else:
            state = ChainState.new(model, 1, seed=1)
        sampler.sweep(model, state, beta, burn_in)
        if sampler is wolff:
            equilibrated = state.spins.copy()

        def step(sampler=sampler, state=state):
            sampler.sweep(model, state, beta, 1)
            return abs(state.magnetization[0]) / n

        out[sampler.name] = Contender("thermolearn", sampler.name, "1 sweep", step)
    (clusters,) = wolff.info()["clusters_per_sweep"].values()
    out["wolff"].unit = f"1 sweep = {clusters} clusters"
    assert equilibrated is not None
    return out, equilibrated.reshape(L, L), clusters


MCISING_NAMES = {"wolff": "wolff", "sw": "swendsen_wang", "metropolis": "metropolis"}


def mcising_contenders(L: int, burn_in: int, equilibrated: np.ndarray, clusters: int) -> dict[str, Contender]:
    try:
        import mcising._core as mc
    except ImportError:
        print("  mcising not installed: skipped")
        return {}
    out = {}
    for label, name in MCISING_NAMES.items():
        per_sample = clusters if label == "wolff" else 1
        sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, name, "square")
        sim.set_spins(equilibrated.astype(np.int8))
        sim.sweep(burn_in * per_sample, temperature=T_C)

        def step(sim=sim, per_sample=per_sample):
            sim.sweep(per_sample, temperature=T_C)
            return abs(sim.magnetization())

        unit = f"{clusters} clusters" if label == "wolff" else "1 sweep"
        out[label] = Contender("mcising", label, unit, step)
    return out


def peapods_contenders(L: int, burn_in: int) -> list[Contender]:
    try:
        import peapods
    except ImportError:
        print("  peapods not installed: skipped")
        return []
    out = []
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
        out.append(Contender("peapods", label, unit, step))
    return out


def rows_for_size(L: int, budget: float, burn_in: int, peapods: bool) -> list[Row]:
    """Every contender at side L; thermolearn and mcising interleaved per algorithm."""
    ours, equilibrated, clusters = thermolearn_contenders(L, burn_in)
    theirs = mcising_contenders(L, burn_in, equilibrated, clusters)
    rows: list[Row] = []
    for label in ("wolff", "sw", "metropolis"):
        rows += measure([ours[label]] + ([theirs[label]] if label in theirs else []), budget)
    if peapods:
        for contender in peapods_contenders(L, burn_in):
            rows += measure([contender], budget)
    return rows


def print_table(rows: list[Row]) -> None:
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


PAIRS = (
    (("thermolearn", "wolff"), ("mcising", "wolff")),
    (("thermolearn", "sw"), ("mcising", "sw")),
    (("thermolearn", "metropolis"), ("mcising", "metropolis")),
    (("thermolearn", "wolff"), ("peapods", "metropolis+wolff")),
    (("thermolearn", "sw"), ("peapods", "metropolis+sw")),
)


def ratios(rows: list[Row]) -> dict[tuple, tuple[float, float, bool]]:
    """(ours, theirs) -> (effective-sample ratio, raw-rate ratio, both taus reliable)."""
    by = {(r.library, r.algorithm): r for r in rows}
    return {
        (ours, theirs): (
            by[ours].effective / by[theirs].effective,
            by[ours].rate / by[theirs].rate,
            by[ours].reliable and by[theirs].reliable,
        )
        for ours, theirs in PAIRS
        if ours in by and theirs in by
    }


# ----------------------------------------------------------------------------- per-call cost
def _empty_kernel(n_args: int) -> Callable:
    """A compiled function of ``n_args`` arguments that does nothing (Numba's dispatch cost alone)."""
    from numba import njit

    names = ", ".join(f"a{i}" for i in range(n_args))
    scope: dict = {}
    exec(f"def empty({names}):\n    return 0\n", scope)  # noqa: S102 (a fixed, generated signature)
    return njit(_nrt=False)(scope["empty"])


class _Floor:
    """What the per-sweep call cannot go below: a Python method call that passes the lean path's
    arguments to the compiled entry of a function that does nothing (as the lean path calls its
    kernel: :func:`thermolearn.kernel_entry.entry_point`, no dispatcher)."""

    def __init__(self, sampler: Metropolis, state: ChainState) -> None:
        from thermolearn.kernel_entry import entry_point

        lean = sampler._lean  # the lean call's arguments (after one sweep)
        assert lean is not None
        self.args = lean[4]
        empty = _empty_kernel(len(self.args))
        self.empty = entry_point(empty, self.args)

    def sweep(self, model, state, beta, n_sweeps):  # noqa: ANN001 (the sampler's signature)
        return self.empty(*self.args)


def per_call_table(sizes: list[int], calls_per_block: int = 0, rounds: int = 7) -> None:
    """Microseconds per ``sweep(..., 1)`` call against mcising's per-sweep call, interleaved; for
    Metropolis also the floor (:class:`_Floor`) and the floor plus the bare kernel's sweep."""
    try:
        import mcising._core as mc
    except ImportError:
        print("mcising not installed: no per-call table")
        return
    beta = 1.0 / T_C
    print(
        "\nPer-sweep API: microseconds per call (median of "
        f"{rounds} alternating blocks; mcising / thermolearn > 1: thermolearn's call is faster; floor: a "
        "method call passing the same arguments to the compiled entry of a function that does nothing)\n"
    )
    print(
        "| L | algorithm | thermolearn sweep(..., 1) | thermolearn bound.sweep() | mcising sim.sweep(k) "
        "| mcising / sweep | mcising / bound | bare kernel | floor | floor + bare |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for L in sizes:
        model = Ising.lattice((L, L))
        n_calls = calls_per_block or max(20, min(2000, 400_000 // (L * L)))
        for sampler in (Metropolis(), Wolff(), SwendsenWang()):
            state = ChainState.new(model, 1, seed=1)
            sampler.sweep(model, state, beta, 50)
            k = 1
            if isinstance(sampler, Wolff):
                (k,) = sampler.info()["clusters_per_sweep"].values()
            sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, MCISING_NAMES[sampler.name], "square")
            sim.set_spins(state.spins.reshape(L, L).copy())
            sim.sweep(50 * k, temperature=T_C)
            floor = None
            if isinstance(sampler, Metropolis):
                sampler.sweep(model, state, beta, 1)  # makes the lean call the floor copies
                floor = _Floor(sampler, state)
            bound = sampler.bind(model, state, beta)
            bound_sweep = bound.sweep
            ours, ours_bound, theirs, bare, empty = [], [], [], [], []
            for _ in range(rounds):
                t = time.process_time()
                for _ in range(n_calls):
                    sampler.sweep(model, state, beta, 1)
                ours.append((time.process_time() - t) / n_calls)
                t = time.process_time()
                for _ in range(n_calls):
                    bound_sweep()
                ours_bound.append((time.process_time() - t) / n_calls)
                t = time.process_time()
                for _ in range(n_calls):
                    sim.sweep(k, temperature=T_C)
                theirs.append((time.process_time() - t) / n_calls)
                t = time.process_time()
                sampler.sweep(model, state, beta, n_calls)
                bare.append((time.process_time() - t) / n_calls)
                if floor is not None:
                    reps = max(n_calls, 2000)
                    t = time.process_time()
                    for _ in range(reps):
                        floor.sweep(model, state, beta, 1)
                    empty.append((time.process_time() - t) / reps)
            a, a_bound, b, c = (1e6 * float(np.median(x)) for x in (ours, ours_bound, theirs, bare))
            unit = f" (k = {k})" if k > 1 else ""
            cells = "| - | - |"
            if empty:
                f = 1e6 * float(np.median(empty))
                cells = f"| {f:.2f} | {f + c:.2f} |"
            print(
                f"| {L} | {sampler.name}{unit} | {a:.2f} | {a_bound:.2f} | {b:.2f} | {b / a:.2f} | {b / a_bound:.2f} "
                f"| {c:.2f} {cells}",
                flush=True,
            )


# ----------------------------------------------------------------- recording in the kernels
def in_kernel_rows(L: int, budget: float, burn_in: int, turn: float = 0.25) -> list[Row]:
    """thermolearn ``sample()`` against mcising ``production_sweeps`` per algorithm at side L, both
    recording inside their compiled code, in alternating turns of about ``turn`` CPU seconds."""
    import mcising._core as mc

    from thermolearn import sample

    model = Ising.lattice((L, L))
    n = model.n_spins
    wolff = Wolff()
    start = ChainState.new(model, 1, seed=1)
    wolff.sweep(model, start, 1.0 / T_C, burn_in)
    (clusters,) = wolff.info()["clusters_per_sweep"].values()
    equilibrated = start.spins.copy()
    rows: list[Row] = []
    for label in ("wolff", "sw", "metropolis"):
        interval = clusters if label == "wolff" else 1
        sim = mc.IsingSimulation(L, 1.0, 0.0, 0.0, 0.0, 7, MCISING_NAMES[label], "square")
        seed = [100]

        def ours(records: int, label=label, seed=seed) -> np.ndarray:
            seed[0] += 1
            got = sample(model, label, T_C, sweeps=records, initial=equilibrated, site_means=False, seed=seed[0])
            return np.abs(got.magnetization[0]) / n

        def theirs(records: int, sim=sim, interval=interval) -> np.ndarray:
            sim.set_spins(equilibrated.reshape(L, L).copy())
            got = sim.production_sweeps(records, interval, temperature=T_C, store_configs=False)
            return np.abs(np.asarray(got["magnetizations"], dtype=np.float64))

        sides = [
            ("thermolearn", "sample(), thin 1", ours),
            ("mcising", f"production_sweeps(n, {interval})", theirs),
        ]
        series: dict[str, list[np.ndarray]] = {name: [] for name, _, _ in sides}
        cpu = {name: 0.0 for name, _, _ in sides}
        wall = {name: 0.0 for name, _, _ in sides}
        per_record = {}
        for name, _, run in sides:  # calibrate the records per turn (and warm up)
            c0 = time.process_time()
            run(20)
            per_record[name] = max((time.process_time() - c0) / 20, 1e-7)
        while any(c < budget for c in cpu.values()):
            for name, _, run in sides:
                if cpu[name] >= budget:
                    continue
                records = max(50, int(turn / per_record[name]))
                w0, c0 = time.perf_counter(), time.process_time()
                series[name].append(run(records))
                spent = time.process_time() - c0
                cpu[name] += spent
                wall[name] += time.perf_counter() - w0
                per_record[name] = max(spent / records, 1e-7)
        for name, unit, _ in sides:
            values = np.concatenate(series[name])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                tau = integrated_autocorrelation_time(values)
            row = Row(
                name,
                label,
                unit,
                values.size,
                wall[name],
                cpu[name],
                float(values.mean()),
                tau.tau,
                tau.tau_stderr,
                tau.reliable,
            )
            print(
                f"  {name:<11} {label:<10} {unit:<28} {row.samples:>8} samples  tau {row.tau:8.2f}"
                f"{'' if row.reliable else ' (unreliable)'}  eff/s {row.effective:10.2f}",
                flush=True,
            )
            rows.append(row)
    return rows


def in_kernel_table(sizes: list[int], budget: float, burn_in: int) -> None:
    """The recording-in-the-kernel comparison at every side in ``sizes``, then its summary table."""
    try:
        import mcising._core  # noqa: F401
    except ImportError:
        print("mcising not installed: no recording-in-the-kernel table")
        return
    print(
        "\nRecording inside the kernels on both sides: thermolearn sample() against mcising "
        f"production_sweeps(), {budget:g} CPU s each per algorithm and L\n"
    )
    got = {}
    for L in sizes:
        print(f"L = {L}")
        got[L] = ratios(in_kernel_rows(L, budget, burn_in))
    print("\nthermolearn sample() / mcising production_sweeps(): effective |m| samples per CPU second")
    print("(raw samples per CPU second in brackets; ? : a tau_int the run was too short to measure)\n")
    print("| L | Wolff | Swendsen-Wang | Metropolis |")
    print("|---:|---:|---:|---:|")
    for L, pairs in got.items():
        cells = []
        for algorithm in ("wolff", "sw", "metropolis"):
            key = (("thermolearn", algorithm), ("mcising", algorithm))
            if key in pairs:
                eff, raw, ok = pairs[key]
                cells.append(f"{eff:.2f}{'' if ok else '?'} ({raw:.2f})")
            else:
                cells.append("-")
        print(f"| {L} | {' | '.join(cells)} |", flush=True)


# ---------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=None, help="lattice side L (default 256)")
    parser.add_argument("--sizes", type=str, default=None, help="several sides in one run, e.g. 32,64,128,256")
    parser.add_argument("--seconds", type=float, default=30.0, help="CPU seconds of measurement per contender")
    parser.add_argument("--burn-in", type=int, default=300, help="equilibration sweeps per contender")
    parser.add_argument("--no-peapods", action="store_true", help="leave peapods out (its rows are slow to measure)")
    parser.add_argument(
        "--per-call", type=str, default=None, help="sides of the per-call table, e.g. 16,32,64,128,256,512"
    )
    parser.add_argument("--per-call-only", action="store_true", help="only the per-call table")
    parser.add_argument(
        "--in-kernel",
        type=str,
        default=None,
        help="sides of the recording-in-the-kernel table (sample() against production_sweeps), e.g. 32,64,128,256; "
        "the main table is then skipped",
    )
    args = parser.parse_args()
    if args.size is not None and args.sizes is not None:
        parser.error("give --size or --sizes, not both")
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else [args.size or 256]
    if any(L < 3 for L in sizes):
        parser.error("lattice sides must be >= 3")
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

    # compile the kernels before timing anything
    small = Ising.lattice((8, 8))
    for sampler in (Wolff(), SwendsenWang(), Metropolis()):
        sampler.sweep(small, ChainState.new(small, 1, seed=0), 1.0 / T_C, 2)

    summary = {}
    if not args.per_call_only and not args.in_kernel:
        for L in sizes:
            print(
                f"\n2D Ising, {L}x{L} periodic, T_c = {T_C:.6f}, one chain, one thread; "
                f"{args.seconds:g} CPU s per contender after {args.burn_in} sweeps of burn-in\n"
            )
            rows = rows_for_size(L, args.seconds, args.burn_in, not args.no_peapods)
            print_table(rows)
            summary[L] = ratios(rows)
            print()
            for (ours, theirs), (eff, raw, ok) in summary[L].items():
                print(
                    f"{' '.join(ours)} / {' '.join(theirs)}: effective samples per CPU second "
                    f"{eff:.2f}x{'' if ok else ' (a tau unreliable)'}, raw samples per CPU second {raw:.2f}x"
                )
        if len(sizes) > 1:
            print("\nSummary, thermolearn / mcising: effective samples per CPU second (raw samples per CPU second)\n")
            print("| L | Wolff | Swendsen-Wang | Metropolis |")
            print("|---:|---:|---:|---:|")
            for L, got in summary.items():
                cells = []
                for algorithm in ("wolff", "sw", "metropolis"):
                    key = (("thermolearn", algorithm), ("mcising", algorithm))
                    if key in got:
                        eff, raw, ok = got[key]
                        cells.append(f"{eff:.2f}{'' if ok else '?'} ({raw:.2f})")
                    else:
                        cells.append("-")
                print(f"| {L} | {' | '.join(cells)} |")
            print("\n(? : a tau_int the run was too short to measure)")
    if args.per_call:
        per_call_table([int(x) for x in args.per_call.split(",")])
    if args.in_kernel:
        in_kernel_table([int(x) for x in args.in_kernel.split(",")], args.seconds, args.burn_in)


if __name__ == "__main__":
    main()
