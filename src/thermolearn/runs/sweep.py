"""Parameter sweeps: one library job at every point of a grid, serially, on a process pool or on Dask.

``sweep(grid, task, executor=None)`` runs ``task`` (a registered job name, see :data:`TASKS`)
at every combination of the ``grid`` values (a dict name -> list of values; the first name
varies slowest), with the ``parameters`` every point shares. Each point gets its own seed from
its coordinates: ``SeedSequence(seed, spawn_key=<words of the SHA-256 of the point>)``, so a
point's result does not depend on where it ran (in this process, in a
``concurrent.futures`` process pool, or on a ``dask.distributed`` worker), on the order the
points ran in, or on which other points the grid holds. A grid axis named ``replica`` only
enters the seed (independent repetitions of the same point).

With ``output=DIR`` every finished point is written at once as its own atomic JSON file
(``DIR/point-<hash>.json``: the point, its seed, the result, the seconds it took) beside a
``DIR/manifest.json`` naming the task, parameters, grid, base seed and each point's file. A
sweep rerun into the same folder (say after it was killed) reads the points already there and
computes only the missing ones; a folder that holds a different sweep is refused.

The CONFIG.toml of ``thermolearn sweep`` (read by :func:`load_config`)::

    task = "ising"              # a registered task: ising, population-annealing, groundstate
    seed = 0                    # base seed of every point's SeedSequence (default 0)
    output = "ising-sweep"      # folder of point files and manifest, relative to the config file
                                # (default: <config stem>-sweep beside it)

    [parameters]                # shared by every point (each task's defaults fill in the rest)
    sweeps = 2000
    burn_in = 200

    [grid]                      # swept: every combination, the first name varying slowest
    size = [8, 16]
    temperature = [2.0, 2.269, 2.5]
    replica = [0, 1]

Executors (:func:`open_executor`): ``None`` runs serially; any ``concurrent.futures.Executor``
(``--workers N``: a process pool of N spawned workers, one compiled-kernel thread each); a
``dask.distributed.Client`` (``--dask``: a LocalCluster on this machine; ``--scheduler ADDRESS``:
an existing cluster, e.g. one started by dask-jobqueue on SLURM). Dask is optional:
``pip install 'thermolearn[dask]'``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.storage import exclusive_lock, write_json_atomic

MANIFEST = "manifest.json"
FORMAT = "thermolearn-sweep"
VERSION = 1
#: the grid axis that only enters the seed
REPLICA = "replica"
_SCALARS = (bool, int, float, str)
#: seconds to wait for an existing Dask scheduler to answer
SCHEDULER_TIMEOUT = 20


# ---------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class SweepTask:
    """A job a sweep can run: ``function(parameters, seed) -> record`` (a JSON-ready dict;
    ``function`` must be importable by name so that other processes can run it), its
    parameters with their ``defaults`` (every allowed name; None means required), the record
    fields ``columns`` a table shows, a one-line ``description``, and the ``required``
    parameters (no default)."""

    name: str
    function: Callable[[dict[str, Any], int], dict[str, Any]]
    defaults: Mapping[str, Any]
    columns: tuple[str, ...]
    description: str
    required: tuple[str, ...] = ()


def ising_record(size: int, dim: int, temperature: float, algorithm: str, obs: Any, acceptance: Any) -> dict[str, Any]:
    """The JSON record of one lattice point (``thermolearn ising`` and the sweep's ``ising`` task):
    E/N, |m|, C/N, chi/N and the Binder cumulant (mean, stderr) from ``obs`` (a run's
    observables at ``temperature``), tau_int, reliability, and Kaufman's exact E/N and C/N in 2D."""
    exact = None
    if dim == 2:
        from thermolearn.exact.kaufman import kaufman

        k = kaufman(size, float(temperature))
        exact = {"energy_per_spin": k.energy_per_spin, "specific_heat_per_spin": k.specific_heat_per_spin}
    return {
        "size": size,
        "temperature": float(temperature),
        "algorithm": algorithm,
        "energy_per_spin": obs.energy_per_spin.as_dict(),
        "abs_magnetization": obs.abs_magnetization.as_dict(),
        "specific_heat_per_spin": obs.specific_heat.as_dict(),
        "susceptibility_per_spin": obs.susceptibility_abs.as_dict(),
        "binder_cumulant": obs.binder_cumulant.as_dict(),
        "tau_int": {"energy": float(obs.tau_energy.tau), "abs_magnetization": float(obs.tau_abs_magnetization.tau)},
        "exact": exact,
        "reliable": bool(obs.reliable),
        "frozen": bool(obs.frozen),
        "acceptance": acceptance,
    }


def ising_point(parameters: dict[str, Any], seed: int) -> dict[str, Any]:
    """Monte Carlo of the periodic L^dim ferromagnet (J = 1, k_B = 1) at one temperature:
    E/N, |m|, C/N, chi/N and the Binder cumulant with error bars, tau_int, and Kaufman's exact
    E/N and C/N in 2D. Parameters: size, temperature, dim, algorithm, sweeps, burn_in, chains."""
    from thermolearn.models.ising import Ising
    from thermolearn.runs.sample import sample

    L, dim, algorithm = int(parameters["size"]), int(parameters["dim"]), str(parameters["algorithm"])
    if algorithm == "pt":
        raise ValueError("the ising task runs one temperature per point; choose a single-temperature algorithm")
    T = float(parameters["temperature"])
    result = sample(
        Ising.lattice((L,) * dim),
        algorithm,
        T,
        sweeps=int(parameters["sweeps"]),
        burn_in=int(parameters["burn_in"]),
        n_chains=int(parameters["chains"]),
        seed=seed,
        site_means=False,
        progress=False,
    )
    return ising_record(L, dim, T, algorithm, result.observables[0], result.acceptance)


def _glass(parameters: dict[str, Any]) -> Any:
    """The instance of a spin-glass point: ``sk`` spins, or a ``lattice`` ("8x8" or [8, 8])
    with ``couplings``; the disorder is drawn from ``instance``."""
    from thermolearn.models.ising import Ising
    from thermolearn.spinglass.ensembles import edwards_anderson_instance

    instance = check_int_seed(parameters["instance"], name="instance")
    if parameters.get("sk") is not None:
        return Ising.sherrington_kirkpatrick(int(parameters["sk"]), seed=instance)
    lattice = parameters.get("lattice")
    if lattice is None:
        raise ValueError("a spin-glass task needs sk = N or lattice = 'LxL' (or [L, L])")
    shape = [int(x) for x in lattice.lower().split("x")] if isinstance(lattice, str) else [int(x) for x in lattice]
    return edwards_anderson_instance(shape, str(parameters["couplings"]), instance)


def population_annealing_point(parameters: dict[str, Any], seed: int) -> dict[str, Any]:
    """ln Z and <E> (totals, k_B = 1) of one spin-glass instance at one temperature by
    population annealing, with jackknife errors over independent populations. Parameters:
    sk or lattice, couplings, instance, temperature, population, steps, sweeps, runs."""
    from thermolearn.spinglass.population_annealing import population_annealing

    model = _glass(parameters)
    result = population_annealing(
        model,
        float(parameters["temperature"]),
        population=int(parameters["population"]),
        steps=int(parameters["steps"]),
        sweeps=int(parameters["sweeps"]),
        runs=int(parameters["runs"]),
        seed=seed,
    )
    record = result.as_dict()
    del record["seconds"]
    return record


def groundstate_point(parameters: dict[str, Any], seed: int) -> dict[str, Any]:
    """The lowest energy (total) one run of ``algorithm`` (sa, pt or pa) with ``sweeps`` sweeps
    finds on one spin-glass instance, and the exact ground energy by enumeration (N <= 24).
    Parameters: sk or lattice, couplings, instance, algorithm, sweeps."""
    from thermolearn.spinglass.groundstate import MAX_EXACT_SPINS, exact_ground_energy, is_hit, search_ground_state

    model = _glass(parameters)
    best, _ = search_ground_state(model, str(parameters["algorithm"]), int(parameters["sweeps"]), seed)
    exact = exact_ground_energy(model) if model.n_spins <= MAX_EXACT_SPINS else None
    return {
        "n_spins": model.n_spins,
        "best_energy": float(best),
        "best_energy_per_spin": float(best) / model.n_spins,
        "exact_ground_energy": exact,
        "hit": None if exact is None else is_hit(best, exact),
    }


_GLASS = {"sk": None, "lattice": None, "couplings": "pm", "instance": 0}
TASKS: dict[str, SweepTask] = {
    "ising": SweepTask(
        "ising",
        ising_point,
        {"dim": 2, "algorithm": "metropolis", "sweeps": 10000, "burn_in": 1000, "chains": 1},
        ("energy_per_spin", "abs_magnetization", "specific_heat_per_spin", "binder_cumulant"),
        "Monte Carlo of the periodic ferromagnet at (size, temperature)",
        ("size", "temperature"),
    ),
    "population-annealing": SweepTask(
        "population-annealing",
        population_annealing_point,
        {**_GLASS, "population": 1000, "steps": 100, "sweeps": 10, "runs": 8},
        ("log_z", "energy", "rho_t"),
        "ln Z and <E> of a spin-glass instance by population annealing",
        ("temperature",),
    ),
    "groundstate": SweepTask(
        "groundstate",
        groundstate_point,
        {**_GLASS, "algorithm": "sa", "sweeps": 1000},
        ("best_energy", "exact_ground_energy", "hit"),
        "the lowest energy one run of SA, PT or PA finds on a spin-glass instance",
    ),
}  # fmt: skip
"""The registered tasks by name; :func:`register_task` adds one."""


def register_task(task: SweepTask) -> None:
    """Make ``task`` runnable by name (its function must be importable in worker processes)."""
    if not isinstance(task, SweepTask):
        raise TypeError(f"task must be a SweepTask, got {type(task).__name__}")
    TASKS[task.name] = task


def _task(task: str | SweepTask) -> SweepTask:
    if isinstance(task, SweepTask):
        return task
    if not isinstance(task, str) or task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(sorted(TASKS))} (or a SweepTask), got {task!r}")
    return TASKS[task]


# ---------------------------------------------------------------------------- grid and seeds
def _check_values(name: str, values: Any) -> list[Any]:
    if isinstance(values, _SCALARS):
        values = [values]
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, Sequence) or isinstance(values, str) or len(values) == 0:
        raise ValueError(f"grid[{name!r}] must be a non-empty list of values, got {values!r}")
    out = []
    for v in values:
        if isinstance(v, np.generic):
            v = v.item()
        if not isinstance(v, _SCALARS) and not (isinstance(v, list) and all(isinstance(x, _SCALARS) for x in v)):
            raise ValueError(f"grid[{name!r}] values must be numbers, strings or booleans, got {v!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"grid[{name!r}] values must be finite, got {v}")
        out.append(v)
    if len({json.dumps(v) for v in out}) != len(out):
        raise ValueError(f"grid[{name!r}] repeats a value: {values!r}")
    return out


def grid_points(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, as dicts; the first name varies slowest."""
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping of name -> list of values, got {grid!r}")
    names = list(grid)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"grid names must be strings, got {name!r}")
    values = [_check_values(name, grid[name]) for name in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def point_key(point: Mapping[str, Any]) -> str:
    """The canonical text of a point (names sorted, values as JSON): what its seed and file name hash."""
    return json.dumps(dict(sorted(point.items())), sort_keys=True, separators=(",", ":"))


def point_seed(point: Mapping[str, Any], seed: int = 0) -> np.random.SeedSequence:
    """The SeedSequence of a grid point: entropy ``seed``, spawn key the eight 32-bit words of
    the SHA-256 of :func:`point_key` (independent streams for different points, the same stream
    for the same point wherever and whenever it runs)."""
    digest = hashlib.sha256(point_key(point).encode("utf-8")).digest()
    words = tuple(int.from_bytes(digest[k : k + 4], "little") for k in range(0, 32, 4))
    return np.random.SeedSequence(check_int_seed(seed), spawn_key=words)


def _int_seed(sequence: np.random.SeedSequence) -> int:
    """A non-negative 63-bit int from ``sequence`` (the library's int seed policy)."""
    return int(sequence.generate_state(1, np.uint64)[0] >> np.uint64(1))


def _point_file(point: Mapping[str, Any]) -> str:
    return f"point-{hashlib.sha256(point_key(point).encode('utf-8')).hexdigest()[:16]}.json"


def run_point(function: Callable[[dict[str, Any], int], dict[str, Any]], parameters: dict[str, Any], seed: int) -> Any:
    """One point, timed: ``(record, seconds)``. Runs wherever the executor puts it."""
    started = time.perf_counter()
    record = function(parameters, seed)
    return record, time.perf_counter() - started


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: ``points`` (the grid coordinates) and their ``records`` in grid order,
    each point's ``seeds``, how many were ``computed`` now and ``reused`` from ``folder``."""

    task: str
    grid: dict[str, list[Any]]
    parameters: dict[str, Any]
    seed: int
    points: list[dict[str, Any]]
    records: list[dict[str, Any]]
    seeds: list[int]
    computed: int
    reused: int
    seconds: float
    folder: str | None = None
    point_seconds: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the settings, how many points were ``resumed`` (read back), and per point
        its coordinates, seed and record (the same whether or not the sweep was interrupted)."""
        return {
            "task": self.task,
            "grid": self.grid,
            "parameters": self.parameters,
            "seed": self.seed,
            # the points read back from an earlier, interrupted run (the others were computed now)
            "resumed": self.reused,
            "seconds": self.seconds,
            "folder": self.folder,
            "points": [{"point": p, "seed": s, "result": r} for p, s, r in zip(self.points, self.seeds, self.records)],
        }


def _manifest(task: SweepTask, grid: dict, parameters: dict, seed: int, points: list[dict]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "task": task.name,
        "parameters": parameters,
        "grid": grid,
        "seed": seed,
        "points": [{"point": p, "file": _point_file(p)} for p in points],
    }


_SAME = ("format", "task", "parameters", "grid", "seed")


def _check_folder(folder: Path, manifest: dict[str, Any]) -> None:
    """Refuse a folder that holds another sweep (any of task, parameters, grid, seed differ)."""
    path = folder / MANIFEST
    if not path.exists():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a sweep manifest ({exc}); give another output folder") from None
    for key in _SAME:
        if not isinstance(old, dict) or json.dumps(old.get(key), sort_keys=True) != json.dumps(
            manifest[key], sort_keys=True
        ):
            raise ValueError(
                f"{folder} holds a different sweep (its {key} differs: {old.get(key) if isinstance(old, dict) else old!r}"
                f" != {manifest[key]!r}); give another output folder or delete it"
            )


def _load_point(path: Path, point: dict, seed: int) -> tuple[dict, float] | None:
    """A finished point's record and seconds, or None when its file is missing or not this point's."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("seed") != seed or not isinstance(data.get("point"), dict):
        return None
    result = data.get("result")
    if point_key(data["point"]) != point_key(point) or not isinstance(result, dict):
        return None
    return result, float(data.get("seconds", 0.0))


def _is_dask_client(executor: Any) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(executor, "gather")


def as_finished(executor: Any, function: Callable, jobs: list[tuple[int, Any, int]]) -> Iterator[tuple[int, Any]]:
    """``(index, (function(parameters, seed), seconds))`` for every job ``(index, parameters,
    seed)``, in the order they finish, on ``executor`` (None: here, one after another; a
    ``concurrent.futures.Executor``; a ``dask.distributed.Client``)."""
    if executor is None:
        for index, parameters, seed in jobs:
            yield index, run_point(function, parameters, seed)
        return
    if _is_dask_client(executor):
        from distributed import as_completed as dask_completed

        futures = {executor.submit(run_point, function, p, s, pure=False): i for i, p, s in jobs}
        for future in dask_completed(list(futures)):
            yield futures[future], future.result()
        return
    if not hasattr(executor, "submit"):
        raise TypeError(
            f"executor must be None, a concurrent.futures.Executor or a dask.distributed.Client, "
            f"got {type(executor).__name__}"
        )
    import concurrent.futures

    pool = {executor.submit(run_point, function, p, s): i for i, p, s in jobs}
    try:
        for future in concurrent.futures.as_completed(pool):
            yield pool[future], future.result()
    finally:
        for future in pool:
            future.cancel()


def sweep(
    grid: Mapping[str, Any],
    task: str | SweepTask,
    executor: Any = None,
    *,
    parameters: Mapping[str, Any] | None = None,
    seed: int = 0,
    output: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> SweepResult:
    """Run ``task`` at every point of ``grid`` (see the module docstring).

    grid: name -> list of values (every combination; a ``replica`` axis only enters the
    seed). task: a name of :data:`TASKS` or a :class:`SweepTask`. executor: None (serial), a
    ``concurrent.futures.Executor`` or a ``dask.distributed.Client``. parameters: shared by
    every point (the task's defaults fill in the rest). seed: base seed of every point's
    SeedSequence. output: folder of point files and manifest; a rerun computes only the points
    missing there. progress: a bar over points (None: on a terminal).
    """
    started = time.perf_counter()
    job = _task(task)
    points = grid_points(grid)
    clean_grid = {name: _check_values(name, grid[name]) for name in grid}
    shared = dict(parameters or {})
    allowed = set(job.defaults) | set(job.required) | {REPLICA}
    for name in list(clean_grid) + list(shared):
        if name not in allowed:
            raise ValueError(f"task {job.name!r} has no parameter {name!r}; allowed: {', '.join(sorted(allowed))}")
    both = set(clean_grid) & set(shared)
    if both:
        raise ValueError(f"{', '.join(sorted(both))} is both swept (grid) and fixed (parameters); give it once")
    if REPLICA in shared:
        raise ValueError(f"{REPLICA!r} is a grid axis (independent repetitions), not a fixed parameter")
    base_seed = check_int_seed(seed)
    settings = []
    for point in points:
        merged = {**job.defaults, **shared, **{k: v for k, v in point.items() if k != REPLICA}}
        missing = [k for k in job.required if k not in merged]
        if missing:
            raise ValueError(f"task {job.name!r} needs {', '.join(missing)} (in [grid] or [parameters])")
        settings.append(merged)
    seeds = [_int_seed(point_seed(p, base_seed)) for p in points]
    records: list[Any] = [None] * len(points)
    seconds: list[float] = [0.0] * len(points)
    folder = None if output is None else Path(output)
    manifest = _manifest(job, clean_grid, shared, base_seed, points)
    with contextlib.ExitStack() as stack:
        if folder is not None:
            if folder.exists() and not folder.is_dir():
                raise ValueError(f"output must be a folder, got the file {folder}")
            folder.mkdir(parents=True, exist_ok=True)
            stack.enter_context(exclusive_lock(folder / MANIFEST, what="sweep folder"))
            _check_folder(folder, manifest)
            write_json_atomic(folder / MANIFEST, {**manifest, "complete": False})
            for i, point in enumerate(points):
                found = _load_point(folder / _point_file(point), point, seeds[i])
                if found is not None:
                    records[i], seconds[i] = found
        todo = [i for i in range(len(points)) if records[i] is None]
        reused = len(points) - len(todo)
        bar = stack.enter_context(
            progress_bar(total=len(points), initial=reused, desc=f"sweep {job.name}", progress=progress, unit="point")
        )
        for i, (record, took) in as_finished(executor, job.function, [(i, settings[i], seeds[i]) for i in todo]):
            records[i], seconds[i] = record, took
            if folder is not None:
                write_json_atomic(
                    folder / _point_file(points[i]),
                    {"task": job.name, "point": points[i], "seed": seeds[i], "seconds": took, "result": record},
                )
            bar.update(1)
        if folder is not None:
            write_json_atomic(folder / MANIFEST, {**manifest, "complete": True})
    return SweepResult(
        task=job.name,
        grid=clean_grid,
        parameters=shared,
        seed=base_seed,
        points=points,
        records=records,
        seeds=seeds,
        computed=len(todo),
        reused=reused,
        seconds=time.perf_counter() - started,
        folder=None if folder is None else str(folder),
        point_seconds=seconds,
    )


# ---------------------------------------------------------------------------- executors
def _worker_threads(threads: int) -> None:
    """Initializer of pool workers: compiled kernels and BLAS use ``threads`` threads each, so
    N workers do not oversubscribe the cores (set before anything imports numba)."""
    for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "Dask sweeps need the optional package dask.distributed: pip install 'thermolearn[dask]'"
        ) from None
    return distributed


@contextlib.contextmanager
def open_executor(
    workers: int | None = None,
    *,
    dask: bool = False,
    scheduler: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> Iterator[Any]:
    """The executor of a sweep, closed afterwards: None (serial) when nothing is asked;
    ``workers`` processes (spawned, one kernel thread each unless the cores allow more); with
    ``dask`` a LocalCluster of ``workers`` (default: the cores) single-threaded worker
    processes; with ``scheduler`` a Client of that existing cluster. ``announce`` gets a line
    naming the executor (for Dask, its dashboard address)."""
    if scheduler is not None or dask:
        distributed = _import_distributed()
        if scheduler is not None:
            try:
                client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ValueError(f"cannot reach the Dask scheduler at {scheduler!r}: {exc}") from None
        else:
            n = workers or os.cpu_count() or 1
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
            )
            client = distributed.Client(cluster)
        try:
            if announce is not None:
                n_workers = len(client.scheduler_info().get("workers", {}))
                announce(f"Dask: {n_workers} workers at {client.scheduler.address}; dashboard {client.dashboard_link}")
            yield client
        finally:
            cluster = getattr(client, "cluster", None)
            client.close()
            if cluster is not None and scheduler is None:
                cluster.close()
        return
    if workers is None or workers <= 1:
        yield None
        return
    import concurrent.futures
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // workers)
    # spawned, not forked: a fork of a process whose kernel thread pool is running can hang
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_threads,
        initargs=(threads,),
    ) as pool:
        if announce is not None:
            announce(f"process pool: {workers} workers, {threads} kernel thread(s) each")
        yield pool


# ---------------------------------------------------------------------------- configuration files
@dataclass(frozen=True)
class SweepConfig:
    """A parsed CONFIG.toml: ``task``, ``grid``, ``parameters``, ``seed`` and the ``output`` folder."""

    task: str
    grid: dict[str, Any]
    parameters: dict[str, Any]
    seed: int
    output: Path


_CONFIG_KEYS = {"task", "seed", "output", "parameters", "grid"}


def load_config(path: str | os.PathLike) -> SweepConfig:
    """Read a sweep CONFIG.toml (format in the module docstring); relative ``output`` is taken
    from the config file's folder, and by default is ``<stem>-sweep`` beside it."""
    import tomllib

    source = Path(path)
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"config file {source} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read config file {source}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source} is not valid TOML: {exc}") from None
    unknown = set(data) - _CONFIG_KEYS
    if unknown:
        raise ValueError(
            f"{source}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_CONFIG_KEYS))}"
        )
    if "task" not in data:
        raise ValueError(f'{source}: name the task, e.g. task = "ising" (one of {", ".join(sorted(TASKS))})')
    if not isinstance(data.get("grid"), dict) or not data["grid"]:
        raise ValueError(f"{source}: a [grid] table with at least one swept parameter is needed")
    parameters = data.get("parameters", {})
    if not isinstance(parameters, dict):
        raise ValueError(f"{source}: [parameters] must be a table")
    seed = data.get("seed", 0)
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise ValueError(f"{source}: output must be a folder name (a string), got {output!r}")
    folder = source.parent / (output if output is not None else f"{source.stem}-sweep")
    _task(data["task"])
    return SweepConfig(
        task=data["task"],
        grid=dict(data["grid"]),
        parameters=dict(parameters),
        seed=check_int_seed(seed),
        output=folder,
    )
