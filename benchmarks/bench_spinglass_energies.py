"""Spin-glass ground-state energies per spin against the literature (issue 15).

Three finite-size ladders, each extrapolated to N -> infinity by weighted least squares:

1. Sherrington-Kirkpatrick (J_ij ~ Normal(0, 1/N), E = -sum_{i<j} J_ij s_i s_j): the mean exact
   ground-state energy per spin [e_0](N) by enumeration of all 2^N states for N = 8..24
   (``thermolearn.spinglass.exact_ground_energy``), then parallel tempering for N = 64..512;
   fitted to e(N) = e_inf + a N^(-2/3) and compared with Parisi's e_inf = -0.7633 (-0.76321).
2. 2D +-J Edwards-Anderson, periodic L x L, L = 8..32, by parallel tempering with two replicas
   per temperature and Houdayer cluster moves (``tempering_with_houdayer``); fitted to
   e(L) = e_inf + b L^-2 and compared with -1.4015(8) (exact ground states, De Simone et al. 1996).
3. 3D +-J Edwards-Anderson, periodic L^3, L = 4..8, the same algorithm (Houdayer moves at T < 1
   only: above, the clusters percolate); fitted to e(L) = e_inf + c L^-3 and compared with about
   -1.787 (Pal 1996; Hartmann 1997).

How a ground state is certified beyond enumeration: every instance is searched by independent
runs (separate seeds) with a budget of S sweeps; the lowest energy is accepted when at least two
runs reach it. Otherwise the budget is doubled (fresh seeds, the best energy so far kept) up to
``--max-doublings`` times; an instance that never gets two agreeing runs is counted as
unconfirmed (its best energy is still used and the count is reported). A check reruns the first
few instances of the largest sizes with 4x the accepted budget and reports whether any energy
went lower. A validation rerun of the search on instances small enough to enumerate (SK N = 24,
2D 4 x 4) reports how often it finds the exact ground state.

Error bars: instances are independent, so the error of a disorder mean is the standard error
over instances (the delete-one jackknife of a mean is exactly that). The fit uses those errors
as weights; the error on e_inf is from the fit covariance, and chi^2/dof is reported (when it
exceeds 1 the error scaled by sqrt(chi^2/dof) is given too).

    .venv/bin/python benchmarks/bench_spinglass_energies.py            # full run (<= 20 min, 2 cores)
    .venv/bin/python benchmarks/bench_spinglass_energies.py --quick    # smoke run (about a minute)

Results go to benchmarks/results/spinglass_energies.json (written atomically); markdown tables
are printed. Instances are seeded per (model, size, index) from ``--seed``, so a rerun gives the
same numbers whatever the number of ``--workers``.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # one instance per worker process, one thread each

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable, Sequence  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

import thermolearn  # noqa: E402
from thermolearn.models.ising import Ising  # noqa: E402
from thermolearn.samplers.annealing import anneal  # noqa: E402
from thermolearn.spinglass import (  # noqa: E402
    DisorderEnsemble,
    ea_ensemble,
    exact_ground_energy,
    sk_ensemble,
    tempering_with_houdayer,
)
from thermolearn.storage import write_json_atomic  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "spinglass_energies.json"

#: literature values of e_inf (energy per spin) and their errors where one is quoted
PARISI_SK = -0.76321
DE_SIMONE_2D = (-1.4015, 0.0008)
PAL_HARTMANN_3D = -1.787

#: temperature ladders (k_B = 1, couplings in units of J): the cold end low enough that the
#: ground state dominates the cold replicas, the hot end above T_c so the ladder decorrelates
SK_LADDER = (0.2, 1.5, 16)
EA2_LADDER = (0.2, 1.6, 16)
EA3_LADDER = (0.25, 2.0, 16)
HOUDAYER_3D_BELOW = 1.0  # in 3D the disagreeing sites percolate above about this temperature
SK_PT_READS = 4  # independent PT reads per round of an SK instance
CHECK_FACTOR = 4  # the longer-budget check: this many times the accepted budget
TOL = 1e-9  # energies equal to rounding (totals of order N; +-J energies are integers)


@dataclass(frozen=True)
class Plan:
    """What one run measures: sizes and instance counts per model, and the search budgets."""

    sk_exact: dict[int, int]
    sk_search: dict[int, int]
    ea2: dict[int, int]
    ea3: dict[int, int]
    checks: int  # instances rechecked with CHECK_FACTOR x the budget at each of the two largest sizes
    validation: int  # instances of SK N = 24 and 2D 4 x 4 searched and compared with enumeration
    max_doublings: int


FULL = Plan(
    sk_exact={8: 1000, 10: 1000, 12: 1000, 14: 1000, 16: 800, 18: 600, 20: 400, 22: 200, 24: 100},
    sk_search={64: 200, 128: 100, 256: 50, 512: 24},
    ea2={8: 400, 12: 200, 16: 100, 24: 60, 32: 40},
    ea3={4: 400, 5: 200, 6: 100, 8: 40},
    checks=4,
    validation=20,
    max_doublings=3,
)
QUICK = Plan(
    sk_exact={8: 100, 10: 100, 12: 100, 14: 60, 16: 40},
    sk_search={64: 8, 128: 6},
    ea2={8: 20, 12: 10, 16: 6},
    ea3={4: 20, 5: 10, 6: 6},
    checks=2,
    validation=4,
    max_doublings=2,
)


def scaled(plan: Plan, factor: int) -> Plan:
    """``plan`` with every instance count multiplied by ``factor`` (the first instances stay the
    same: a longer seed list starts with the shorter one)."""

    def times(counts: dict[int, int]) -> dict[int, int]:
        return {size: factor * c for size, c in counts.items()}

    return replace(plan, sk_exact=times(plan.sk_exact), sk_search=times(plan.sk_search), ea2=times(plan.ea2),
                   ea3=times(plan.ea3))  # fmt: skip


def ensemble_seed(seed: int, model: str, size: int) -> int:
    """The disorder seed of one (model, size) ladder rung: its own stream, so that rungs (and so
    the points of a fit) are statistically independent."""
    code = {"sk": 1, "ea2": 2, "ea3": 3}[model]
    word = np.random.SeedSequence([seed, code, size]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


def make_ensemble(model: str, size: int, count: int, seed: int) -> DisorderEnsemble:
    """``count`` instances of the rung (SK with N = size, EA with side L = size)."""
    s = ensemble_seed(seed, model, size)
    if model == "sk":
        return sk_ensemble(size, count, seed=s)
    dims = (size,) * (2 if model == "ea2" else 3)
    return ea_ensemble(dims, count, couplings="pm", seed=s)


def initial_budget(model: str, size: int) -> int:
    """Sweeps of the first round of a search, from trial searches (2D L = 32: the ground state
    typically first seen after ~100 rounds, so 1024; 3D L = 8: ~400, so 2048; SK N = 512: four
    PT reads agreed at 3000 sweeps, so 2048 and a doubling where needed)."""
    if model == "sk":
        return 4 * size
    if model == "ea2":
        return max(200, 32 * size)
    return max(256, 4 * size**3)


# ------------------------------------------------------------------ searches (run in workers)


def _run_seed(instance_seed: int, round_: int, run: int) -> int:
    word = np.random.SeedSequence([instance_seed, 0x5E, round_, run]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


def search_runs(model: Ising, kind: str, sweeps: int, seeds: Sequence[int]) -> list[tuple[float, int]]:
    """Independent searches of ``model``: per run (lowest total energy seen, sweep of its first
    sighting or -1 where the algorithm does not record it)."""
    if kind == "sk":
        t_lo, t_hi, k = SK_LADDER
        # one call, one read per run: anneal gives each read its own random stream
        res = anneal(model, sweeps, reads=len(seeds), algorithm="pt", temperatures=k,
                     beta_range=(1.0 / t_hi, 1.0 / t_lo), seed=seeds[0])  # fmt: skip
        return [(float(e), -1) for e in res.energies]
    t_lo, t_hi, k = EA2_LADDER if kind == "ea2" else EA3_LADDER
    temps = np.geomspace(t_lo, t_hi, k)
    mask = True if kind == "ea2" else temps < HOUDAYER_3D_BELOW
    runs = []
    for seed in seeds:
        tr = tempering_with_houdayer(model, temps, sweeps, houdayer=mask, seed=seed)
        per_sweep = tr.energies.reshape(sweeps, -1).min(axis=1)
        best = float(per_sweep.min())
        first = int(np.argmax(per_sweep <= best + TOL * max(1.0, abs(best))))
        runs.append((best, first))
    return runs


def certified_ground_state(
    model: Ising, kind: str, instance_seed: int, budget: int, max_doublings: int, n_runs: int
) -> dict[str, Any]:
    """Search until two independent runs reach the same lowest energy, doubling the budget."""
    best = math.inf
    history = []
    sweeps = budget
    for round_ in range(max_doublings + 1):
        seeds = [_run_seed(instance_seed, round_, r) for r in range(n_runs)]
        runs = search_runs(model, kind, sweeps, seeds)
        energies = np.array([e for e, _ in runs])
        best = min(best, float(energies.min()))
        tol = TOL * max(1.0, abs(best))
        at_best = int(np.sum(energies <= best + tol))
        firsts = [f for e, f in runs if e <= best + tol and f >= 0]
        history.append({"sweeps": sweeps, "energies": energies.tolist(), "first_sweep_at_best": firsts})
        if at_best >= 2:
            return {"energy": best, "sweeps": sweeps, "confirmed": True, "rounds": history}
        sweeps *= 2
    return {"energy": best, "sweeps": sweeps // 2, "confirmed": False, "rounds": history}


def job(task: dict[str, Any]) -> list[dict[str, Any]]:
    """One job: a few instances of one rung. ``task['what']`` is ``'exact'`` (enumeration),
    ``'search'`` (certified search), ``'check'`` (a search with CHECK_FACTOR x the budget,
    fresh seeds) or ``'validate'`` (search and enumeration on the same instance)."""
    ens: DisorderEnsemble = task["ensemble"]
    kind, what = task["kind"], task["what"]
    n = ens.n_spins
    n_runs = SK_PT_READS if kind == "sk" else 2
    rows = []
    for k in task["indices"]:
        model = ens.model(k)
        seed = ens.seeds[k]
        start = time.process_time()
        row: dict[str, Any] = {"index": k, "seed": seed}
        if what == "exact":
            row["energy"] = exact_ground_energy(model)
        elif what == "check":
            runs = search_runs(model, kind, task["sweeps"][k], [_run_seed(seed, 99, r) for r in range(n_runs)])
            row["energy"] = min(e for e, _ in runs)
            row["sweeps"] = task["sweeps"][k]
        else:
            row |= certified_ground_state(model, kind, seed, task["budget"], task["max_doublings"], n_runs)
            if what == "validate":
                row["exact"] = exact_ground_energy(model)
        row["energy_per_spin"] = row["energy"] / n
        row["cpu_seconds"] = time.process_time() - start
        rows.append(row)
    return rows


# ------------------------------------------------------------------ statistics


def mean_stderr(values: Iterable[float]) -> tuple[float, float]:
    """Mean over independent instances and its standard error (= the delete-one jackknife)."""
    x = np.asarray(list(values), dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def weighted_fit(x: np.ndarray, y: np.ndarray, err: np.ndarray) -> dict[str, float]:
    """Weighted least squares y = e_inf + a x: parameters, their errors (covariance from the
    error bars), chi^2/dof and its p-value."""
    from scipy import stats  # only the p-value needs it

    w = 1.0 / err**2
    design = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    p = cov @ (design.T @ (w * y))
    chi2 = float(np.sum(w * (y - design @ p) ** 2))
    dof = x.size - 2
    red = chi2 / dof if dof > 0 else math.nan
    return {
        "e_inf": float(p[0]),
        "e_inf_err": float(math.sqrt(cov[0, 0])),
        "e_inf_err_scaled": float(math.sqrt(cov[0, 0] * max(1.0, red))) if dof > 0 else math.nan,
        "slope": float(p[1]),
        "slope_err": float(math.sqrt(cov[1, 1])),
        "chi2_dof": red,
        "dof": dof,
        "p_value": float(stats.chi2.sf(chi2, dof)) if dof > 0 else math.nan,
    }


# ------------------------------------------------------------------ driver


class Runner:
    """Runs jobs here or on worker processes and keeps the order of their results."""

    def __init__(self, workers: int) -> None:
        self.pool = ProcessPoolExecutor(workers) if workers > 1 else None

    def map(self, tasks: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
        if self.pool is None:
            return [job(t) for t in tasks]
        return list(self.pool.map(job, tasks))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown()


def chunks(count: int, size: int) -> list[list[int]]:
    return [list(range(i, min(count, i + size))) for i in range(0, count, size)]


def rung_tasks(model: str, size: int, count: int, what: str, seed: int, plan: Plan) -> list[dict[str, Any]]:
    ens = make_ensemble(model, size, count, seed)
    # enumeration of small instances is quick: many per job, so process start-up does not dominate
    per_job = max(1, 2 ** max(0, 18 - size)) if what == "exact" else 1
    base = {"ensemble": ens, "kind": model, "what": what, "max_doublings": plan.max_doublings,
            "budget": initial_budget(model, size)}  # fmt: skip
    return [{**base, "indices": idx} for idx in chunks(count, per_job)]


def run_rungs(runner: Runner, model: str, rungs: dict[int, int], what: str, seed: int, plan: Plan,
              log: Callable[[str], None]) -> dict[int, list[dict[str, Any]]]:  # fmt: skip
    """All instances of all rungs of one model; rows per size."""
    out = {}
    for size, count in rungs.items():
        t0 = time.perf_counter()
        rows = [r for rs in runner.map(rung_tasks(model, size, count, what, seed, plan)) for r in rs]
        out[size] = rows
        log(f"  {model} size {size}: {count} instances ({what}) in {time.perf_counter() - t0:.1f} s")
    return out


def summarise(model: str, rows_by_size: dict[int, list[dict[str, Any]]], method: dict[int, str]) -> list[dict]:
    """One table row per size: disorder mean, its error, the spread, budgets, certification."""
    table = []
    for size, rows in sorted(rows_by_size.items()):
        e = [r["energy_per_spin"] for r in rows]
        m, se = mean_stderr(e)
        row = {
            "size": size,
            "n_spins": size if model == "sk" else size ** (2 if model == "ea2" else 3),
            "method": method[size],
            "instances": len(rows),
            "mean": m,
            "stderr": se,
            "std": float(np.std(e, ddof=1)) if len(e) > 1 else math.nan,
            "cpu_seconds": float(sum(r["cpu_seconds"] for r in rows)),
        }
        if "confirmed" in rows[0]:
            row["unconfirmed"] = int(sum(not r["confirmed"] for r in rows))
            row["max_sweeps"] = int(max(r["sweeps"] for r in rows))
            row["mean_sweeps"] = float(np.mean([r["sweeps"] for r in rows]))
            firsts = [f for r in rows for f in r["rounds"][-1]["first_sweep_at_best"]]
            row["max_first_sweep_at_best"] = int(max(firsts)) if firsts else None
        table.append(row)
    return table


def inverse_power(p: float) -> Callable[[int], float]:
    """x(size) = size^-p, the finite-size correction variable of a fit."""
    return lambda size: float(size) ** (-p)


def fits(table: list[dict], x_of: Callable[[int], float], ranges: list[tuple[int, int]]) -> list[dict]:
    """Weighted fits over each (smallest size, largest size) range with at least 3 points."""
    out = []
    for lo, hi in ranges:
        rows = [r for r in table if lo <= r["size"] <= hi]
        if len(rows) < 3:
            continue
        x = np.array([x_of(r["size"]) for r in rows])
        y = np.array([r["mean"] for r in rows])
        err = np.array([r["stderr"] for r in rows])
        out.append({"sizes": [r["size"] for r in rows], "range": [lo, hi], **weighted_fit(x, y, err)})
    return out


def longer_budget_check(runner: Runner, model: str, rows_by_size: dict[int, list[dict]], seed: int, plan: Plan,
                        log: Callable[[str], None]) -> list[dict]:  # fmt: skip
    """Rerun the first ``plan.checks`` instances of the two largest searched sizes with
    CHECK_FACTOR x their accepted budget and fresh seeds: did any energy go lower?"""
    out = []
    for size in sorted(rows_by_size)[-2:]:
        rows = rows_by_size[size][: plan.checks]
        ens = make_ensemble(model, size, len(rows_by_size[size]), seed)
        sweeps = {r["index"]: CHECK_FACTOR * r["sweeps"] for r in rows}
        tasks = [{"ensemble": ens, "kind": model, "what": "check", "indices": [r["index"]], "sweeps": sweeps}
                 for r in rows]  # fmt: skip
        t0 = time.perf_counter()
        checked = [r for rs in runner.map(tasks) for r in rs]
        for before, after in zip(rows, checked, strict=True):
            lower = after["energy"] < before["energy"] - TOL * max(1.0, abs(before["energy"]))
            out.append({
                "model": model, "size": size, "index": before["index"], "sweeps": before["sweeps"],
                "check_sweeps": after["sweeps"], "energy": before["energy"], "check_energy": after["energy"],
                "lower": bool(lower),
            })  # fmt: skip
        log(f"  {model} size {size}: longer-budget check of {len(rows)} in {time.perf_counter() - t0:.1f} s")
    return out


def validation(runner: Runner, seed: int, plan: Plan, log: Callable[[str], None]) -> list[dict]:
    """The certified search on instances small enough to enumerate: does it find E_0?"""
    out = []
    for model, size in (("sk", 24), ("ea2", 4)):
        tasks = rung_tasks(model, size, plan.validation, "validate", seed + 1, plan)
        rows = [r for rs in runner.map(tasks) for r in rs]
        found = sum(abs(r["energy"] - r["exact"]) <= TOL * max(1.0, abs(r["exact"])) for r in rows)
        below = sum(r["energy"] < r["exact"] - 1e-6 for r in rows)  # would mean a broken energy
        out.append({"model": model, "size": size, "instances": len(rows), "found_exact": int(found),
                    "below_exact": int(below), "unconfirmed": int(sum(not r["confirmed"] for r in rows))})  # fmt: skip
        log(f"  validation {model} size {size}: {found}/{len(rows)} exact ground states found")
    return out


def lattice_ground_energy(model: Ising, side: int) -> float:
    """The exact ground-state energy of a periodic side x side lattice instance (any couplings, no
    field) by a min-plus transfer matrix over rows: with row 0 fixed to each of its 2^side states,
    D(a, b) = the lowest energy of rows 0..r with row 0 = a and row r = b, stepped row by row and
    closed by the bonds from the last row back to row 0. O(side x 8^side): side <= 8 in numpy."""
    J, h = model.to_dense()
    if np.any(h) or J.shape != (side * side, side * side):
        raise ValueError("a zero-field periodic side x side lattice instance is needed")
    rows = 2 * ((np.arange(2**side)[:, None] >> np.arange(side)[None, :]) & 1) - 1  # (S, side) row spins
    site = np.arange(side * side).reshape(side, side)
    cols = np.arange(side)
    # energy of the bonds inside row r (row state a), and between rows r and r + 1 (states a, b)
    inside = [-(rows * np.roll(rows, -1, axis=1) * J[site[r], site[r, (cols + 1) % side]]).sum(1) for r in range(side)]
    between = [-(rows * J[site[r], site[(r + 1) % side]]) @ rows.T for r in range(side)]
    D = inside[0][:, None] + between[0] + inside[1][None, :]
    for r in range(1, side - 1):
        D = np.min(D[:, :, None] + (between[r] + inside[r + 1][None, :])[None, :, :], axis=1)
    return float(np.min(D + between[side - 1].T))


def transfer_matrix_check(model_kind: str, size: int, count: int, seed: int, rows: list[dict]) -> dict:
    """The searched ground states of the first ``count`` instances of a 2D rung against the exact
    transfer-matrix ground states."""
    ens = make_ensemble(model_kind, size, count, seed)
    exact = [lattice_ground_energy(ens.model(k), size) for k in range(count)]
    found = sum(abs(rows[k]["energy"] - exact[k]) <= TOL * max(1.0, abs(exact[k])) for k in range(count))
    below = sum(rows[k]["energy"] < exact[k] - 1e-6 for k in range(count))
    return {"model": model_kind, "size": size, "instances": count, "found_exact": int(found),
            "below_exact": int(below), "unconfirmed": int(sum(not rows[k]["confirmed"] for k in range(count))),
            "method": "transfer matrix"}  # fmt: skip


# ------------------------------------------------------------------ output


def fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:.{digits}f}"


def ladder_markdown(title: str, table: list[dict]) -> str:
    lines = [f"**{title}**", "", "| size | N | method | instances | [e_0] per spin | stderr | std | "
             "unconfirmed | max sweeps | latest first hit |", "|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for r in table:
        lines.append(
            f"| {r['size']} | {r['n_spins']} | {r['method']} | {r['instances']} | {fmt(r['mean'], 5)} | "
            f"{fmt(r['stderr'], 5)} | {fmt(r['std'], 4)} | {r.get('unconfirmed', '-')} | "
            f"{r.get('max_sweeps', '-')} | {r.get('max_first_sweep_at_best') or '-'} |"
        )
    return "\n".join(lines)


def fits_markdown(title: str, rows: list[dict], form: str, reference: str) -> str:
    lines = [f"**{title}**: {form}; literature {reference}", "",
             "| sizes | e_inf | error | error x sqrt(chi2/dof) | slope | chi2/dof | p |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for f in rows:
        lines.append(
            f"| {', '.join(map(str, f['sizes']))} | {fmt(f['e_inf'], 4)} | {fmt(f['e_inf_err'], 4)} | "
            f"{fmt(f['e_inf_err_scaled'], 4)} | {fmt(f['slope'], 3)} +- {fmt(f['slope_err'], 3)} | "
            f"{fmt(f['chi2_dof'], 2)} | {fmt(f['p_value'], 3)} |"
        )
    return "\n".join(lines)


def checks_markdown(checks: list[dict], valid: list[dict]) -> str:
    lines = ["**Longer budget** (fresh seeds, 4x the accepted sweeps)", "",
             "| model | size | instances | accepted sweeps | check sweeps | went lower |", "|---|---|---|---|---|---|"]  # fmt: skip
    groups: dict[tuple[str, int], list[dict]] = {}
    for c in checks:
        groups.setdefault((c["model"], c["size"]), []).append(c)
    for (model, size), cs in groups.items():
        lines.append(
            f"| {model} | {size} | {len(cs)} | {'/'.join(str(c['sweeps']) for c in cs)} | "
            f"{'/'.join(str(c['check_sweeps']) for c in cs)} | {sum(c['lower'] for c in cs)} |"
        )
    lines += ["", "**Search against exact ground states**", "",
              "| model | size | instances | exact E_0 found | unconfirmed | exact by |", "|---|---|---|---|---|---|"]  # fmt: skip
    for v in valid:
        lines.append(f"| {v['model']} | {v['size']} | {v['instances']} | {v['found_exact']} | {v['unconfirmed']} | "
                     f"{v.get('method', 'enumeration')} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and few instances: a smoke run")
    parser.add_argument("--seed", type=int, default=0, help="disorder and search seed (default 0)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="worker processes (default: min(2, CPUs)); results do not depend on it")  # fmt: skip
    parser.add_argument("--scale", type=int, default=1,
                        help="multiply every instance count by this (smaller error bars, longer run; default 1)")  # fmt: skip
    parser.add_argument("--parts", default="sk,ea2,ea3", help="comma-separated subset of sk, ea2, ea3")
    parser.add_argument("--tm-check", type=int, default=400,
                        help="2D instances of the smallest rung (L <= 8) checked exactly by transfer matrix (400)")  # fmt: skip
    parser.add_argument("--output", default=str(RESULTS), help=f"JSON results (default {RESULTS})")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    bad = [p for p in parts if p not in ("sk", "ea2", "ea3")]
    if bad or not parts:
        parser.error(f"--parts takes a comma-separated subset of sk, ea2, ea3; got {args.parts!r}")
    out_dir = Path(args.output).resolve().parent
    if not out_dir.is_dir():
        parser.error(f"--output folder {out_dir} does not exist")
    if args.scale < 1:
        parser.error(f"--scale must be an integer >= 1, got {args.scale}")
    plan = scaled(QUICK if args.quick else FULL, args.scale)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = time.perf_counter()
    runner = Runner(args.workers)
    record: dict[str, Any] = {
        "command": " ".join(["benchmarks/bench_spinglass_energies.py", *(argv if argv is not None else sys.argv[1:])]),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "thermolearn": thermolearn.__version__,
            "workers": args.workers,
        },  # fmt: skip
        "plan": {k: {str(s): c for s, c in v.items()} if isinstance(v, dict) else v for k, v in vars(plan).items()},
        "ladders": {
            "sk": SK_LADDER,
            "ea2": EA2_LADDER,
            "ea3": EA3_LADDER,
            "houdayer_3d_below": HOUDAYER_3D_BELOW,
            "sk_pt_reads": SK_PT_READS,
            "check_factor": CHECK_FACTOR,
        },  # fmt: skip
        "literature": {
            "sk_parisi": PARISI_SK,
            "ea2_de_simone": list(DE_SIMONE_2D),
            "ea3_pal_hartmann": PAL_HARTMANN_3D,
        },
    }
    md = []
    checks: list[dict] = []
    tm_checks: list[dict] = []
    try:
        if "sk" in parts:
            log("SK ladder")
            rows = run_rungs(runner, "sk", plan.sk_exact, "exact", args.seed, plan, log)
            searched = run_rungs(runner, "sk", plan.sk_search, "search", args.seed, plan, log)
            method = {s: "enumeration" for s in plan.sk_exact} | {s: "PT (4 reads)" for s in plan.sk_search}
            table = summarise("sk", rows | searched, method)
            sizes = sorted(r["size"] for r in table)
            big = [s for s in sizes if s >= 64]
            ranges = [(sizes[0], sizes[-1]), (12, sizes[-1]), (16, sizes[-1]), (8, 24), (16, 24)]
            if len(big) >= 3:
                ranges.append((big[0], big[-1]))
            sk_fits = fits(table, inverse_power(2.0 / 3.0), ranges)
            checks += longer_budget_check(runner, "sk", searched, args.seed, plan, log)
            record["sk"] = {"table": table, "fits": sk_fits, "form": "e_inf + a N^(-2/3)",
                            "instances": {str(s): r for s, r in (rows | searched).items()}}  # fmt: skip
            md += [ladder_markdown("SK ground-state energy per spin", table), "",
                   fits_markdown("SK fits", sk_fits, "e(N) = e_inf + a N^(-2/3)", f"Parisi {PARISI_SK}"), ""]  # fmt: skip
        for model, rungs, form, x_power, ref in (
            ("ea2", plan.ea2, "e(L) = e_inf + b L^-2", 2.0, f"De Simone et al. {DE_SIMONE_2D[0]}({DE_SIMONE_2D[1]})"),
            ("ea3", plan.ea3, "e(L) = e_inf + c L^-3", 3.0, f"Pal; Hartmann about {PAL_HARTMANN_3D}"),
        ):
            if model not in parts:
                continue
            log(f"{model} ladder")
            rows = run_rungs(runner, model, rungs, "search", args.seed, plan, log)
            table = summarise(model, rows, {s: "PT + Houdayer (2 runs)" for s in rungs})
            sizes = sorted(rungs)
            ranges = [(sizes[0], sizes[-1]), (sizes[1], sizes[-1])] if len(sizes) > 3 else [(sizes[0], sizes[-1])]
            model_fits = fits(table, inverse_power(x_power), ranges)
            checks += longer_budget_check(runner, model, rows, args.seed, plan, log)
            if model == "ea2" and sizes[0] <= 8:
                # the smallest 2D rung is solved exactly (transfer matrix over rows): every search checked
                t0 = time.perf_counter()
                count = min(len(rows[sizes[0]]), args.tm_check)
                tm_checks.append(transfer_matrix_check(model, sizes[0], count, args.seed, rows[sizes[0]]))
                log(f"  ea2 size {sizes[0]}: {tm_checks[-1]['found_exact']}/{count} searched ground states equal "
                    f"the transfer matrix's ({time.perf_counter() - t0:.1f} s)")  # fmt: skip
            record[model] = {"table": table, "fits": model_fits, "form": form,
                             "instances": {str(s): r for s, r in rows.items()}}  # fmt: skip
            name = "2D +-J EA" if model == "ea2" else "3D +-J EA"
            md += [ladder_markdown(f"{name} ground-state energy per spin (periodic)", table), "",
                   fits_markdown(f"{name} fits", model_fits, form, ref), ""]  # fmt: skip
        log("validation against enumeration")
        valid = validation(runner, args.seed, plan, log) + tm_checks
    finally:
        runner.close()
    record["longer_budget_checks"] = checks
    record["validation"] = valid
    record["wall_seconds"] = time.perf_counter() - started
    md.append(checks_markdown(checks, valid))
    write_json_atomic(args.output, record)
    print("\n".join(md))
    print(f"\nwall time {record['wall_seconds']:.0f} s with {args.workers} worker(s); results in {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
