"""One model, one temperature, every method: exact answers, bounds, approximations and estimates.

Each method is a small function that returns one :class:`MethodRow` (log Z or its bound,
free energy, energy and magnetisation per spin, and its error bars where it is stochastic),
registered in an ordered registry with a check that says whether the method fits the model.
:func:`compare` runs the registered methods that fit; a method asked for by name that does
not fit raises ValueError naming the methods that do. A new method (Monte Carlo, say) is
added with :func:`register_method`.

Kinds: ``exact`` (enumeration, transfer matrices, Kaufman), ``lower_bound`` (log Z >= the
value: mean field, black-box VI, up to its error bar), ``approximation`` (no guarantee:
TAP, Bethe), ``estimate`` (statistical, with an error bar: Monte Carlo).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from thermolearn.models.ising import Ising
from thermolearn.validation import check_temperature
from thermolearn.variational._common import check_model, clean

KINDS = ("exact", "lower_bound", "estimate", "approximation")
BBVI_MAX_SPINS = 128
"""Largest model the comparison hands to black-box VI (autoregressive family, n^2/2 weights)."""


@dataclass(frozen=True)
class MethodRow:
    """One method's answer for one model at one temperature (k_B = 1, energy units of J).

    ``log_z`` is exact, a lower bound, an approximation or an estimate as ``kind`` says;
    ``*_stderr`` are standard errors of stochastic methods (None for deterministic ones).
    ``converged`` is False when the method's iteration stopped short; ``detail`` says how
    the number was obtained (solver, fixed points, diagnostics).
    """

    method: str
    kind: str
    temperature: float
    n_spins: int
    log_z: float
    energy_per_spin: float = math.nan
    magnetization_per_spin: float = math.nan
    log_z_stderr: float | None = None
    energy_per_spin_stderr: float | None = None
    magnetization_per_spin_stderr: float | None = None
    converged: bool = True
    detail: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    @property
    def free_energy_per_spin(self) -> float:
        """f = -T log Z / n (an upper bound on f where log Z is a lower bound)."""
        return -self.temperature * self.log_z / self.n_spins

    @property
    def free_energy_per_spin_stderr(self) -> float | None:
        """Standard error of F / N, T stderr(ln Z) / N (units of J); None without one."""
        return None if self.log_z_stderr is None else self.temperature * self.log_z_stderr / self.n_spins

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict (NaN as null)."""
        return {
            "method": self.method,
            "kind": self.kind,
            "log_z": clean(self.log_z),
            "log_z_stderr": clean(self.log_z_stderr),
            "free_energy_per_spin": clean(self.free_energy_per_spin),
            "free_energy_per_spin_stderr": clean(self.free_energy_per_spin_stderr),
            "energy_per_spin": clean(self.energy_per_spin),
            "energy_per_spin_stderr": clean(self.energy_per_spin_stderr),
            "magnetization_per_spin": clean(self.magnetization_per_spin),
            "magnetization_per_spin_stderr": clean(self.magnetization_per_spin_stderr),
            "converged": bool(self.converged),
            "detail": self.detail,
            "seconds": clean(self.seconds),
        }


@dataclass(frozen=True)
class ComparisonMethod:
    """A registered method: ``check(model)`` returns None when the method fits the model, else
    the reason it does not; ``run(model, temperature, seed=..., **settings)`` returns a row.
    ``default``: run when no methods are named (False: only when asked for by name, for
    methods that train for a while, such as the variational autoregressive network)."""

    name: str
    kind: str
    description: str
    check: Callable[[Ising], str | None]
    run: Callable[..., MethodRow]
    default: bool = True


_REGISTRY: dict[str, ComparisonMethod] = {}


def register_method(method: ComparisonMethod, *, replace: bool = False) -> None:
    """Add ``method`` to the comparison (after the ones already there)."""
    if not isinstance(method, ComparisonMethod):
        raise TypeError(f"method must be a ComparisonMethod, got {type(method).__name__}")
    if method.kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {method.kind!r}")
    if method.name in _REGISTRY and not replace:
        raise ValueError(f"a comparison method named {method.name!r} is already registered (pass replace=True)")
    _REGISTRY[method.name] = method


def registered_methods() -> tuple[str, ...]:
    """Names of the registered methods, in table order."""
    return tuple(_REGISTRY)


def methods_that_fit(model: Ising, *, include_named_only: bool = False) -> list[str]:
    """The registered default methods that can run on ``model``; with ``include_named_only``
    also those run only when named (``default=False``)."""
    model = check_model(model)
    return [name for name, m in _REGISTRY.items() if (m.default or include_named_only) and m.check(model) is None]


@dataclass(frozen=True)
class Comparison:
    """The rows of every method run on one model at one temperature, and the methods skipped
    (with the reason) because the model does not fit them."""

    model: str
    n_spins: int
    temperature: float
    rows: tuple[MethodRow, ...]
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def row(self, method: str) -> MethodRow:
        """The row of ``method``; ``KeyError`` listing the rows if there is none."""
        for r in self.rows:
            if r.method == method:
                return r
        raise KeyError(f"no row for {method!r}; rows: {', '.join(r.method for r in self.rows)}")

    def as_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict: model, N, T and one row per method."""
        return {
            "model": self.model,
            "n_spins": self.n_spins,
            "temperature": self.temperature,
            "methods": [r.as_dict() for r in self.rows],
            "skipped": [{"method": m, "reason": why} for m, why in self.skipped],
        }


def compare(
    model: Ising,
    temperature: float,
    methods: Sequence[str] | None = None,
    *,
    seed: int = 0,
    settings: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Run ``methods`` (default: every registered default method that fits) on ``model`` at temperature T.

    ``settings`` maps a method name to keyword arguments for its run (for example
    ``{"bbvi": {"steps": 500}}``); ``progress(name)`` is called after each method. A method
    named in ``methods`` that does not fit raises ValueError saying why and naming the
    methods that fit; with the default, such methods are listed in ``skipped``.
    """
    model = check_model(model)
    T = check_temperature(temperature)
    settings = dict(settings or {})
    explicit = methods is not None
    names = [n for n, m in _REGISTRY.items() if m.default] if methods is None else list(dict.fromkeys(methods))
    unknown = [m for m in names if m not in _REGISTRY]
    if unknown:
        raise ValueError(f"unknown method {unknown[0]!r}; choose from {', '.join(_REGISTRY)}")
    if not names:
        raise ValueError(f"give at least one method among {', '.join(_REGISTRY)}")
    for key in settings:
        if key not in _REGISTRY:
            raise ValueError(f"settings for unknown method {key!r}; choose from {', '.join(_REGISTRY)}")
    rows, skipped = [], []
    for name in names:
        method = _REGISTRY[name]
        why = method.check(model)
        if why is not None:
            if explicit:
                fit = methods_that_fit(model)
                raise ValueError(
                    f"{name} does not fit this model: {why}. Methods that fit: {', '.join(fit) if fit else 'none'}"
                )
            skipped.append((name, why))
            continue
        start = time.perf_counter()
        row = method.run(model, T, seed=seed, **settings.get(name, {}))
        rows.append(_with_seconds(row, time.perf_counter() - start))
        if progress:
            progress(name)
    return Comparison(model=repr(model), n_spins=model.n_spins, temperature=T, rows=tuple(rows), skipped=tuple(skipped))


def _with_seconds(row: MethodRow, seconds: float) -> MethodRow:
    from dataclasses import replace

    return replace(row, seconds=float(seconds))


def _diagnostics(converged: bool, iterations: int, residual: float) -> str:
    if converged:
        return f"converged in {iterations} iterations"
    return f"NOT converged: {iterations} iterations, residual {residual:.3g}"


# ----------------------------------------------------------------------------- the methods
def _check_exact(model: Ising) -> str | None:
    from thermolearn.exact.solve import ExactMethodUnavailable, choose_method

    try:
        choose_method(model)
    except ExactMethodUnavailable as exc:
        return str(exc).split(". Use ")[0]
    return None


def _run_exact(model: Ising, temperature: float, *, seed: int = 0) -> MethodRow:
    from thermolearn.exact.solve import solve

    r = solve(model, [temperature])[0]
    return MethodRow(
        method="exact",
        kind="exact",
        temperature=temperature,
        n_spins=model.n_spins,
        log_z=r.log_z,
        energy_per_spin=r.energy_per_spin,
        magnetization_per_spin=r.magnetization_per_spin,
        detail=r.method,
    )


def _fits_anything(model: Ising) -> str | None:
    return None


def _solution_row(method: str, kind: str, model: Ising, temperature: float, solution: Any, detail: str) -> MethodRow:
    """The table row of a variational solution (anything with log_z, energy_per_spin,
    magnetization_per_spin and converged)."""
    return MethodRow(
        method=method,
        kind=kind,
        temperature=temperature,
        n_spins=model.n_spins,
        log_z=solution.log_z,
        energy_per_spin=solution.energy_per_spin,
        magnetization_per_spin=solution.magnetization_per_spin,
        converged=solution.converged,
        detail=detail,
    )


def _run_mean_field(model: Ising, temperature: float, *, seed: int = 0, **options: Any) -> MethodRow:
    from thermolearn.variational.mean_field import mean_field

    r = mean_field(model, temperature, seed=seed, **options)
    b = r.best
    n_fp = len(r.fixed_points)
    stable = {True: "stable", False: "unstable", None: "stability undecided"}[b.stable]
    detail = f"{n_fp} fixed point{'s' if n_fp != 1 else ''}, best {stable}; " + _diagnostics(
        b.converged, b.iterations, b.residual
    )
    return _solution_row("mean_field", "lower_bound", model, temperature, b, detail)


def _run_tap(model: Ising, temperature: float, *, seed: int = 0, **options: Any) -> MethodRow:
    from thermolearn.variational.tap import tap

    r = tap(model, temperature, seed=seed, **options)
    return _solution_row(
        "tap",
        "approximation",
        model,
        temperature,
        r,
        "from the mean-field solution; " + _diagnostics(r.converged, r.iterations, r.residual),
    )


def _run_bethe(model: Ising, temperature: float, *, seed: int = 0, **options: Any) -> MethodRow:
    from thermolearn.variational.belief_propagation import bethe

    r = bethe(model, temperature, seed=seed, **options)
    return _solution_row(
        "bethe",
        "approximation",
        model,
        temperature,
        r,
        f"loopy BP from '{r.init}'; " + _diagnostics(r.converged, r.iterations, r.residual),
    )


def _check_bbvi(model: Ising) -> str | None:
    import importlib.util

    missing = [name for name in ("jax", "optax") if importlib.util.find_spec(name) is None]
    if missing:
        return f"black-box VI needs {' and '.join(missing)} installed"
    if model.n_spins > BBVI_MAX_SPINS:
        return (
            f"black-box VI is limited to {BBVI_MAX_SPINS} spins here (autoregressive family with n^2/2 weights, "
            f"score-function gradients); this model has {model.n_spins}"
        )
    return None


def _run_bbvi(
    model: Ising, temperature: float, *, seed: int = 0, family: str = "autoregressive", **options: Any
) -> MethodRow:
    from thermolearn.variational.bbvi import black_box_vi

    r = black_box_vi(model, temperature, family=family, seed=seed, **options)
    n = model.n_spins
    detail = (
        f"{family} family, {r.steps} steps; "
        f"importance log Z {r.log_z_importance:.6g} +- {r.log_z_importance_stderr:.2g}"
    )
    if r.log_z_importance_problem is not None:
        detail += f" ({r.log_z_importance_problem})"
    if not r.converged:
        detail += f"; NOT converged: ELBO still drifting by {r.drift:.3g} +- {r.drift_stderr:.2g}"
    return MethodRow(
        method="bbvi",
        kind="lower_bound",
        temperature=temperature,
        n_spins=n,
        log_z=r.elbo,
        log_z_stderr=r.elbo_stderr,
        energy_per_spin=r.energy_per_spin,
        energy_per_spin_stderr=r.energy_stderr / n,
        magnetization_per_spin=r.magnetization_per_spin,
        magnetization_per_spin_stderr=r.magnetization_stderr,
        converged=r.converged,
        detail=detail,
    )


VAN_MAX_SPINS = 1024
"""Largest model the comparison hands to the variational autoregressive network (MADE)."""


def _check_van(model: Ising) -> str | None:
    import importlib.util

    missing = [name for name in ("jax", "optax") if importlib.util.find_spec(name) is None]
    if missing:
        return f"the variational autoregressive network needs {' and '.join(missing)} installed"
    if model.n_spins > VAN_MAX_SPINS:
        return f"the VAN is limited to {VAN_MAX_SPINS} spins here; this model has {model.n_spins}"
    return None


def _run_van(model: Ising, temperature: float, *, seed: int = 0, n_eval: int = 4096, **options: Any) -> MethodRow:
    """A VAN (MADE) trained by REINFORCE with beta annealing; its bound F_q >= F as log Z >= -F_q / T,
    and the importance-sampling log Z of the same network in ``detail``."""
    from thermolearn.neural import neural_importance_sampling, train_van

    run = train_van(model, temperature, seed=seed, n_eval=n_eval, progress=False, **options)
    b = run.bound
    nis = neural_importance_sampling(run.network, model, temperature, n_samples=n_eval, seed=seed + 1)
    n = model.n_spins
    arch = ", ".join(f"{k} {v}" for k, v in run.network.config.as_dict().items() if k != "n_spins")
    detail = (
        f"{run.network.network} ({arch}), {run.steps} steps; importance-sampling log Z "
        f"{nis.log_z:.6g} +- {nis.log_z_stderr:.2g} (ESS {nis.ess:.0f} of {nis.n_samples}, Pareto k-hat "
        f"{nis.pareto_k:.2f})"
    )
    if nis.warning is not None:
        detail += f"; importance sampling: {nis.warning}"
    return MethodRow(
        method="van",
        kind="lower_bound",
        temperature=temperature,
        n_spins=n,
        log_z=b.log_z_lower_bound,
        log_z_stderr=b.free_energy_stderr / temperature,
        energy_per_spin=b.energy / n,
        energy_per_spin_stderr=b.energy_stderr / n,
        magnetization_per_spin=b.magnetization_per_spin,
        magnetization_per_spin_stderr=b.magnetization_per_spin_stderr,
        detail=detail,
    )


MONTE_CARLO_NODES = 24
"""Gauss-Legendre nodes in beta for the thermodynamic integration of log Z, to start with."""
MONTE_CARLO_MAX_NODES = 192
"""Most nodes the integration refines to (doubling) where neighbouring nodes barely exchange."""


def _run_monte_carlo(
    model: Ising,
    temperature: float,
    *,
    seed: int = 0,
    sweeps: int = 4000,
    burn_in: int = 400,
    nodes: int | None = None,
) -> MethodRow:
    """Parallel tempering over the Gauss-Legendre nodes of (0, beta) plus T itself; log Z by
    thermodynamic integration, log Z(beta) = n ln 2 - int_0^beta <E>_b db, with the statistical
    error from the time series of the whole integrand.

    Across a transition <E>_b can drop between two nodes unseen (a 32x32 lattice at T = 0.5 came
    out 4 nats high, 9 standard errors, with 24 nodes). Where neighbouring nodes barely exchange,
    the nodes are doubled (from MONTE_CARLO_NODES up to MONTE_CARLO_MAX_NODES; ``nodes`` fixes
    their number instead); intervals still unresolved add their monotone bound to the error and
    the row is not converged."""
    from thermolearn.validation import check_positive_int

    count = MONTE_CARLO_NODES if nodes is None else check_positive_int("nodes", nodes, minimum=2)
    run = _integrate_energy(model, temperature, count, seed, sweeps, burn_in)
    while nodes is None and run["gaps"] and 2 * count <= MONTE_CARLO_MAX_NODES:
        count *= 2
        run = _integrate_energy(model, temperature, count, seed, sweeps, burn_in)
    result, gaps, quadrature = run["result"], run["gaps"], run["quadrature"]
    at_t = result.at(temperature)
    rates = [r for r in result.sampler_info.get("exchange_acceptance", []) if r is not None]
    detail = (
        f"parallel tempering over {run['temperatures']} temperatures, {sweeps} sweeps; log Z by thermodynamic "
        f"integration over {count} Gauss-Legendre nodes in beta"
    )
    if gaps:
        worst = ", ".join(f"T {a:.3g}-{b:.3g}" for a, b in gaps[:3]) + (" ..." if len(gaps) > 3 else "")
        detail += (
            f"; nodes too far apart for this model ({len(gaps)} interval(s) with exchange acceptance below "
            f"{MIN_EXCHANGE_ACCEPTANCE:g}: {worst}), their quadrature bound {quadrature:.3g} added to the error "
            f"(more nodes: settings nodes=...)"
        )
    if len(rates):
        detail += f"; exchange acceptance {min(rates):.2f}-{max(rates):.2f}"
    # neither E nor M changed at T in the whole run: the chain sat in one state, and the weight of the
    # states it never met is unknown, so the zero spread is no error bar (an 8-spin glass at T = 0.2
    # read 0 +- 6.6e-15 off by 1e-4, converged, up to 0.6.10)
    frozen = at_t.frozen
    if frozen:
        detail += f"; the chain at T never left one state in {sweeps} sweeps: E and M have no error bar"
    return MethodRow(
        method="monte_carlo",
        kind="estimate",
        temperature=temperature,
        n_spins=model.n_spins,
        log_z=run["log_z"],
        log_z_stderr=math.hypot(run["statistical"], quadrature),
        energy_per_spin=at_t.energy_per_spin.mean,
        energy_per_spin_stderr=math.nan if frozen else at_t.energy_per_spin.stderr,
        magnetization_per_spin=at_t.magnetization.mean,
        magnetization_per_spin_stderr=math.nan if frozen else at_t.magnetization.stderr,
        converged=bool(at_t.reliable) and not gaps and not frozen,
        detail=detail,
    )


def _integrate_energy(model: Ising, temperature: float, nodes: int, seed: int, sweeps: int, burn_in: int) -> dict:
    """One parallel-tempering run over ``nodes`` Gauss-Legendre nodes in (0, 1/T) plus T: log Z, its
    statistical error, the quadrature bound of unresolved intervals and those intervals, the run."""
    import numpy as np

    from thermolearn.estimators import integrated_autocorrelation_time
    from thermolearn.runs.sample import sample
    from thermolearn.samplers import ParallelTempering

    beta = 1.0 / temperature
    x, w = np.polynomial.legendre.leggauss(nodes)
    betas = 0.5 * beta * (x + 1.0)
    weights = 0.5 * beta * w
    ladder = np.unique(np.concatenate([1.0 / betas, [temperature]]))
    result = sample(
        model,
        ParallelTempering(ladder, base="metropolis"),
        None,
        sweeps=sweeps,
        burn_in=burn_in,
        seed=seed,
        progress=False,
    )
    # the exchanges correlate neighbouring temperatures, so the error of the integral comes from
    # the time series of the whole integrand, not from the nodes' separate error bars
    slot = {float(T): int(np.flatnonzero(result.chain_temperatures == T)[0]) for T in result.temperatures}
    integrand = sum(w_k * result.energy[slot[float(T)]] for w_k, T in zip(weights, 1.0 / betas))
    tau = integrated_autocorrelation_time(integrand)
    quadrature, gaps = _unresolved_quadrature(result, slot)
    return {
        "log_z": float(model.n_spins * np.log(2.0) - tau.mean),
        "statistical": float(tau.stderr),
        "quadrature": quadrature,
        "gaps": gaps,
        "result": result,
        "temperatures": len(ladder),
    }


#: exchange acceptance between neighbouring temperatures below which their energy distributions
#: barely overlap: <E>_b can change by most of its range between the two nodes unseen
MIN_EXCHANGE_ACCEPTANCE = 0.1


def _unresolved_quadrature(result: Any, slot: dict) -> tuple[float, list[tuple[float, float]]]:
    """A bound on the quadrature error from the node intervals the ladder does not resolve (their
    exchange acceptance below MIN_EXCHANGE_ACCEPTANCE), and those intervals as (T_low, T_high).
    <E>_b decreases with beta (d<E>/db = -Var E), so on [b1, b2] its integral lies within
    (b2 - b1)(<E>_b1 - <E>_b2) / 2 of any rule's value there that uses the ends."""
    info = result.sampler_info
    temps, rates = info.get("temperatures", []), info.get("exchange_acceptance", [])
    bound, gaps = 0.0, []
    for k, rate in enumerate(rates):
        if rate is not None and rate >= MIN_EXCHANGE_ACCEPTANCE:
            continue
        cold, hot = float(temps[k]), float(temps[k + 1])
        e_cold = float(result.energy[slot[min(slot, key=lambda T: abs(T - cold))]].mean())
        e_hot = float(result.energy[slot[min(slot, key=lambda T: abs(T - hot))]].mean())
        bound += 0.5 * (1.0 / cold - 1.0 / hot) * abs(e_hot - e_cold)
        gaps.append((cold, hot))
    return bound, gaps


for _method in (
    ComparisonMethod(
        "exact", "exact", "enumeration, transfer matrices or Kaufman, whichever fits", _check_exact, _run_exact
    ),
    ComparisonMethod(
        "mean_field",
        "lower_bound",
        "naive mean field (Gibbs-Bogoliubov-Feynman bound)",
        _fits_anything,
        _run_mean_field,
    ),
    ComparisonMethod(
        "tap", "approximation", "TAP: mean field plus the Onsager reaction term", _fits_anything, _run_tap
    ),
    ComparisonMethod(
        "bethe", "approximation", "Bethe approximation by loopy belief propagation", _fits_anything, _run_bethe
    ),
    ComparisonMethod(
        "bbvi", "lower_bound", "black-box VI (autoregressive family, score-function gradients)", _check_bbvi, _run_bbvi
    ),
    ComparisonMethod(
        "monte_carlo",
        "estimate",
        "parallel-tempering Monte Carlo, log Z by thermodynamic integration",
        _fits_anything,
        _run_monte_carlo,
    ),
    ComparisonMethod(
        "van",
        "lower_bound",
        "variational autoregressive network (MADE, REINFORCE, beta annealing); only when named",
        _check_van,
        _run_van,
        default=False,
    ),
):
    register_method(_method)
del _method
