"""Single-spin-flip Markov chains on any graph: Metropolis, heat bath (Glauber) and the
zero-temperature quench, in sequential, random-site or checkerboard order.

Metropolis flips spin i with probability min(1, exp(-beta Delta E)), Delta E = 2 s_i phi_i
and phi_i = h_i + sum_j J_ij s_j; heat bath sets s_i = +1 with probability
1 / (1 + exp(-2 beta phi_i)). Both satisfy detailed balance for exp(-beta E) at every
update, so any order of sites leaves the Boltzmann distribution invariant. A sweep is
n_spins updates. Chains run in parallel threads; each draws from its own generator.

The acceptance rules live in :mod:`thermolearn.samplers.rules`, one object each; this module
is the driver that walks the sites, computes phi_i, asks the rule, and keeps the spins, the
generator states and the running E and M exact. :class:`SingleSpinSampler` runs any rule;
a new rule needs a subclass that names it (``rule = MY_RULE``) and nothing else here.

Periodic hypercubic lattices with a uniform field take a fast path
(:mod:`thermolearn.samplers.lattice_kernels`): neighbours by index arithmetic and decisions
from a precomputed table, bit-identical to this generic kernel for the same seed, order
and rule.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.csgraph as csgraph
from numba import njit, prange

from thermolearn.kernel_entry import entry_point
from thermolearn.kernel_threads import MIN_PARALLEL_WORK, call_single_threaded, thread_count, thread_limit
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.randomness.xoshiro import next_uniform
from thermolearn.samplers.base import Sampler, SweepStats, as_betas, keep_lean_call, one_chain_stats
from thermolearn.samplers.lattice_kernels import (
    LatticePlan,
    build_plan,
    decision_table,
    lattice_sweeps,
    plan_arguments,
    serial_kernel,
)
from thermolearn.samplers.recording import Records, no_records
from thermolearn.samplers.rules import HEAT_BATH, METROPOLIS, QUENCH, SpinFlipRule, rule_decide
from thermolearn.samplers.state import ChainState, kernel_views
from thermolearn.validation import check_positive_int

ORDERS = ("sequential", "random", "checkerboard")
_ORDER_KIND = {"sequential": 0, "random": 1, "checkerboard": 2}
#: the record arguments of a call that records nothing, made once (size 0: never written)
_NO_RECORDS = no_records()


@njit(inline="always")
def single_spin_chain(
    decide, c, spins, rng, energy, magnetization, indptr, indices, data, h, beta, order, random_site, n_sweeps
):
    """``n_sweeps`` single-spin sweeps of chain ``c`` at inverse temperature ``beta`` with the
    rule's ``decide``; returns the number of flips. Shared by every kernel that sweeps CSR
    chains (here and in parallel tempering), so all of them make the same moves from the
    same random numbers."""
    n = spins.shape[1]
    s0, s1, s2, s3 = rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3]
    s = spins[c]
    acc = 0
    m_change = 0
    for _ in range(n_sweeps):
        e_change = 0.0
        for k in range(n):
            if random_site:
                u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
                i = min(int(u * n), n - 1)
            else:
                i = order[k]
            phi = h[i]
            for p in range(indptr[i], indptr[i + 1]):
                phi += data[p] * s[indices[p]]
            si = s[i]
            flip, de, s0, s1, s2, s3 = decide(si, phi, beta, s0, s1, s2, s3)
            if flip:
                s[i] = -si
                acc += 1
                e_change += de
                m_change -= 2 * si
        # added per sweep: a run cut into calls of any length adds the same numbers in the same order
        energy[c] += e_change
    rng[c, 0], rng[c, 1], rng[c, 2], rng[c, 3] = s0, s1, s2, s3
    magnetization[c] += m_change
    return acc


def _single_spin_sweeps(
    spins, rng, energy, magnetization, indptr, indices, data, h, betas, order, random_site, n_sweeps
):
    """Every chain (in parallel) by the generic CSR kernel; compiled per rule
    (:meth:`SpinFlipRule.compiled`, which binds ``rule_decide``)."""
    accepted = np.zeros(spins.shape[0], dtype=np.int64)
    for c in prange(spins.shape[0]):
        accepted[c] = single_spin_chain(
            rule_decide,
            c,
            spins,
            rng,
            energy,
            magnetization,
            indptr,
            indices,
            data,
            h,
            betas[c],
            order,
            random_site,
            n_sweeps,
        )
    return accepted


def checkerboard_order(model: Ising) -> np.ndarray:
    """Sites of colour 0 then colour 1 of a two-colouring of the interaction graph.

    Raises ``ValueError`` when the graph is not bipartite (an odd cycle of couplings).
    """
    n = check_ising_model(model).n_spins
    colour = np.full(n, -1, dtype=np.int64)
    graph = model.couplings
    for root in range(n):
        if colour[root] >= 0:
            continue
        nodes, predecessors = csgraph.breadth_first_order(graph, root, directed=False, return_predecessors=True)
        colour[root] = 0
        for v in nodes[1:]:
            colour[v] = 1 - colour[predecessors[v]]
    i, j, _ = model.edges()
    if np.any(colour[i] == colour[j]):
        raise ValueError(
            "checkerboard order needs a bipartite interaction graph (no odd cycles; periodic lattices need even "
            "sides); use order='sequential' or 'random'"
        )
    return np.concatenate([np.flatnonzero(colour == 0), np.flatnonzero(colour == 1)]).astype(np.int64)


class SingleSpinSampler(Sampler):
    """Single-spin updates by the acceptance rule ``rule`` (a :class:`SpinFlipRule`, set by
    each subclass), visiting the sites in ``order``: 'sequential' (index order), 'random'
    (n_spins sites drawn uniformly per sweep) or 'checkerboard' (the two colours of a
    bipartite graph in turn).

    Subclasses keep the fast paths: the lattice kernels run whenever the rule has a
    ``lattice_code``, and annealing and parallel tempering run the rule in their own fused
    kernels (``rule`` is the capability they read). A subclass whose :meth:`sweep` makes
    other moves than the rule's must set ``rule = None``.
    """

    rule: SpinFlipRule | None = METROPOLIS
    sweep_blocks = True  # the kernels add each sweep's energy change per sweep
    records_in_kernel = True  # on the lattice fast path; the generic kernel records from Python

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.rule is not None and not isinstance(cls.rule, SpinFlipRule):
            raise TypeError(f"{cls.__name__}.rule must be a SpinFlipRule or None, got {type(cls.rule).__name__}")
        if "zero_temperature" not in cls.__dict__ and cls.rule is not None:
            cls.zero_temperature = cls.rule.zero_temperature

    def __init__(self, order: str = "sequential") -> None:
        # None is allowed: a subclass whose own sweep makes other moves declares that it has no rule
        if self.rule is not None and not isinstance(self.rule, SpinFlipRule):
            raise TypeError(
                f"{type(self).__name__}.rule must be a SpinFlipRule or None, got {type(self.rule).__name__}"
            )
        self._plan: tuple[Ising, LatticePlan | None] | None = None
        self._codes: tuple[LatticePlan, bytes, np.ndarray] | None = None
        self.order = order  # checked, and the caches below made empty, by the property

    @property
    def order(self) -> str:  # a checked property over the base class attribute
        """The sites' visiting order: "sequential" (row-major), "random" (a uniformly drawn site
        per update) or "checkerboard" (even sites, then odd). Setting it takes effect at the next
        sweep (every kept site order and per-sweep call is dropped)."""
        return self._order

    @order.setter
    def order(self, order: str) -> None:
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        self._order = order
        self._orders: dict[int, np.ndarray] = {}
        # (model, beta, spins shape, what _prepare made) of the last sweep with one float beta, and
        # for one chain on the lattice path its lean call (model, beta, the chains, the serial
        # kernel's compiled entry, its arguments for one sweep, the sites): a harness calling
        # sweep(model, state, beta, 1) in a loop repeats no check or look-up
        self._last_call: tuple | None = None
        self._lean: tuple | None = None
        self._leans: dict[int, tuple] = {}  # the lean calls of the last few chain states, by id

    def options(self) -> dict:
        return {"order": self.order}

    def site_order(self, model: Ising) -> np.ndarray:
        """The sites of one sweep in visiting order (int64; unused for order='random')."""
        key = id(model)
        if key not in self._orders:
            if self.order == "checkerboard":
                self._orders = {key: checkerboard_order(model)}
            else:
                self._orders = {key: np.arange(model.n_spins, dtype=np.int64)}
        return self._orders[key]

    def lattice_plan(self, model: Ising) -> LatticePlan | None:
        """The lattice fast path's plan for ``model`` (None: the generic CSR kernel runs)."""
        if self.rule is None or not self.rule.has_lattice_path:
            return None
        if self._plan is None or self._plan[0] is not model:
            self._plan = (model, build_plan(model))
        return self._plan[1]

    def _decision_codes(self, plan: LatticePlan, betas: np.ndarray) -> np.ndarray:
        key = betas.tobytes()
        if self._codes is None or self._codes[0] is not plan or self._codes[1] != key:
            assert self.rule is not None  # a plan exists only for a rule with a lattice path
            self._codes = (plan, key, decision_table(plan, betas, self.rule))
        return self._codes[2]

    def check_model(self, model: Ising) -> None:
        super().check_model(model)
        if self.order == "checkerboard":
            self.site_order(model)

    def _prepare(self, model: Ising, state: ChainState, betas) -> tuple:
        """Everything a sweep of ``model`` at ``betas`` needs that does not change from call to
        call (the checks included): (betas per chain, site order, plan, codes, serial lattice
        kernel or None, the kernel's arguments from the plan to the table of flip energies)."""
        checked = as_betas(betas, state.n_chains)  # the chains were checked by sweep (Sampler._check_call)
        order = self.site_order(model)  # also checks that a checkerboard order exists
        plan = self.lattice_plan(model)
        if plan is None:
            return checked, order, None, None, None, ()
        codes = self._decision_codes(plan, checked)
        kernel = serial_kernel(plan, _ORDER_KIND[self.order])
        return checked, order, plan, codes, kernel, (*plan_arguments(plan), codes, plan.de_flat)

    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        lean = self._lean_for(model, state, betas)
        if lean is not None and type(n_sweeps) is int:
            # a harness calling sweep(model, state, beta, 1) on one chain in a loop: the serial
            # kernel's compiled entry on the arguments kept, views of the chain's arrays (fixed in
            # a ChainState; their shapes cannot be set under the entry), so of the types it was
            # compiled for
            if n_sweeps == 1:
                return one_chain_stats(lean[3](*lean[4]), lean[5])
            check_positive_int("n_sweeps", n_sweeps, minimum=0)
            args = lean[4]
            return one_chain_stats(lean[3](*args[:3], n_sweeps, *args[4:]), n_sweeps * lean[5])
        last = self._last_call
        if (
            last is not None
            and model is last[0]
            and (type(betas) is float or type(betas) is np.float64)
            and betas == last[1]
            and state.spins.shape == last[2]
        ):
            n_sweeps = self._check_call(model, state, n_sweeps)  # no other check repeated
            prepared = last[3]
        else:
            n_sweeps = self._check_call(model, state, n_sweeps)
            prepared = self._prepare(model, state, betas)
            if type(betas) is float or type(betas) is np.float64:
                self._last_call = (model, betas, state.spins.shape, prepared)
        self._lean = None
        if (type(betas) is float or type(betas) is np.float64) and prepared[4] is not None and state.n_chains == 1:
            # the next call with this model, beta and these chain arrays takes the lean path
            args = (0, 1, np.zeros(1, dtype=np.int64), 1, *kernel_views(state), *prepared[5], *_NO_RECORDS)
            entry = entry_point(prepared[4], args)
            self._lean = (model, betas, state, entry, args, model.n_spins)
            keep_lean_call(self._leans, state, self._lean)
        n_chains, n_spins = state.spins.shape
        kernel = prepared[4]
        threads = thread_count(n_chains, n_chains * n_spins * n_sweeps, MIN_PARALLEL_WORK)
        if kernel is not None and threads == 1:  # the serial lattice kernel: no parallel region, no thread count set
            accepted = np.zeros(n_chains, dtype=np.int64)
            kernel(
                0,
                n_chains,
                accepted,
                n_sweeps,
                state.spins,
                state.rng,
                state.energy,
                state.magnetization,
                *prepared[5],
                *_NO_RECORDS,
            )
        elif threads == 1:
            accepted = call_single_threaded(self._run_kernel, model, state, n_sweeps, prepared, 1)
        else:
            with thread_limit(threads):
                accepted = self._run_kernel(model, state, n_sweeps, prepared, threads)
        return SweepStats(accepted=accepted, attempted=np.full(n_chains, n_sweeps * n_spins))

    def sweep_and_record(
        self, model: Ising, state: ChainState, betas: float | np.ndarray | None, thin: int, records: Records
    ) -> SweepStats:
        plan = self.lattice_plan(model)
        if plan is None:  # the generic CSR kernel records from Python
            return super().sweep_and_record(model, state, betas, thin, records)
        self._check_call(model, state, 0)
        betas = as_betas(betas, state.n_chains)
        self.site_order(model)  # checks that a checkerboard order exists
        n_sweeps = check_positive_int("thin", thin) * records.count
        threads = thread_count(state.n_chains, state.n_chains * model.n_spins * n_sweeps, MIN_PARALLEL_WORK)
        codes = self._decision_codes(plan, betas)
        kind = _ORDER_KIND[self.order]
        if threads == 1:
            accepted = lattice_sweeps(plan, state, codes, kind, n_sweeps, records.kernel_arguments(thin))
        else:
            with thread_limit(threads):
                accepted = lattice_sweeps(plan, state, codes, kind, n_sweeps, records.kernel_arguments(thin), threads)
        return SweepStats(accepted=accepted, attempted=np.full(state.n_chains, n_sweeps * model.n_spins))

    def _run_kernel(self, model: Ising, state: ChainState, n_sweeps: int, prepared: tuple, threads: int) -> np.ndarray:
        betas, order, plan, codes, _, _ = prepared
        if plan is not None:
            return lattice_sweeps(plan, state, codes, _ORDER_KIND[self.order], n_sweeps, _NO_RECORDS, threads)
        if self.rule is None:
            raise TypeError(f"{type(self).__name__} sets rule = None, so it must override sweep")
        kernel = self.rule.compiled(_single_spin_sweeps, parallel=True)
        return kernel(
            state.spins,
            state.rng,
            state.energy,
            state.magnetization,
            model.indptr,
            model.indices,
            model.data,
            model.fields,
            betas,
            order,
            self.order == "random",
            n_sweeps,
        )


class Metropolis(SingleSpinSampler):
    """Single-spin Metropolis: flip with probability min(1, exp(-beta Delta E)), and with
    probability ``rules.FREE_FLIP_ACCEPTANCE`` (0.9) when the flip costs nothing (Delta E = 0).

    The free flips are random so that a sweep in a fixed site order ('sequential',
    'checkerboard') is ergodic: making every one of them (the textbook rule, 0.6.10 and earlier)
    moves domain walls deterministically, so a ring of any length never mixes and small periodic
    lattices without a field split into closed classes of states. The rule keeps detailed
    balance: a(Delta E) = exp(-beta Delta E) a(-Delta E) for every Delta E.
    """

    name = "metropolis"
    rule = METROPOLIS


class HeatBath(SingleSpinSampler):
    """Heat bath (Glauber / Gibbs): draw s_i from its conditional p(s_i | rest)."""

    name = "heatbath"
    rule = HEAT_BATH


class Quench(SingleSpinSampler):
    """Zero-temperature quench: flip a spin only if that lowers the energy (beta ignored)."""

    name = "quench"
    rule = QUENCH
