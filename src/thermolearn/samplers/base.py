"""The one interface every sampler follows.

A sampler is a Markov chain that leaves p(s) = exp(-beta E(s)) / Z invariant. It takes a
model and a :class:`ChainState` and advances every chain by whole sweeps at that chain's
inverse temperature; it never owns the state, so runs, parallel tempering and annealing
can drive any sampler.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.samplers.state import ChainState
from thermolearn.validation import check_positive_int

if TYPE_CHECKING:  # pragma: no cover
    from thermolearn.samplers.recording import Records
    from thermolearn.samplers.rules import SpinFlipRule


@dataclass(frozen=True)
class SweepStats:
    """What the sweeps did, per chain: moves ``accepted`` out of ``attempted`` (for cluster
    samplers: spins flipped out of spins visited)."""

    accepted: np.ndarray
    attempted: np.ndarray

    @property
    def acceptance(self) -> float:
        """Fraction of attempted moves accepted, over all chains; NaN if none was attempted."""
        total = float(np.sum(self.attempted))
        return float(np.sum(self.accepted)) / total if total else float("nan")


_new_object = object.__new__


_ONE_COUNT = np.zeros(1, dtype=np.int64)


def one_chain_count(value: int) -> np.ndarray:
    """A per-chain count array of one chain, ``np.array([value])`` (int64), made by copying a
    template: 0.19 us, against 0.26 for ``np.array([value])`` and 0.7 for ``np.full`` (the per-sweep
    call of a small lattice makes two). The single-chain kernels return their counts as integers:
    three returned arrays took 1.6 us to box."""
    out = _ONE_COUNT.copy()
    out[0] = value
    return out


#: chain sets (a model and four arrays) a sampler remembers as checked in full: a caller may
#: alternate between a few sets of chains (replicas) without paying a full check at every switch
_SEEN_CHAIN_SETS = 8
#: single-chain lean per-sweep calls a sampler keeps, one per chain state, for the same reason
KEPT_LEAN_CALLS = 8


def keep_lean_call(leans: dict[int, tuple], state: ChainState, lean: tuple) -> None:
    """Keep ``lean`` (a sampler's per-sweep call of the chains ``state``, which it holds) in
    ``leans`` by id of the state, the newest last and at most KEPT_LEAN_CALLS of them. The kept
    tuple holds the state, so no other object takes that id while the entry is there."""
    leans.pop(id(state), None)
    if len(leans) >= KEPT_LEAN_CALLS:
        del leans[next(iter(leans))]
    leans[id(state)] = lean


class _OneChainStats(SweepStats):
    """The :class:`SweepStats` of one chain, made from its two counts; its two count arrays are made
    on their first read (the per-sweep call of a small lattice, whose caller seldom reads them, then
    makes none). Reads, compares and prints as the SweepStats of the same arrays."""

    __slots__ = ("_counts",)  # (accepted, attempted), set once: a slot is quicker to set than a field

    def __getattr__(self, name: str) -> np.ndarray:  # only for attributes not yet set
        if name != "accepted" and name != "attempted":
            raise AttributeError(name)
        accepted, attempted = self._counts
        fields = self.__dict__
        fields["accepted"] = one_chain_count(accepted)
        fields["attempted"] = one_chain_count(attempted)
        return fields[name]

    def __getstate__(self) -> dict:  # pickled (and copied) with its arrays made
        return {"accepted": self.accepted, "attempted": self.attempted}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SweepStats):
            return NotImplemented
        return (self.accepted, self.attempted) == (other.accepted, other.attempted)

    __hash__ = None  # type: ignore[assignment]  # unhashable, as SweepStats: its fields are arrays

    def __repr__(self) -> str:
        return f"SweepStats(accepted={self.accepted!r}, attempted={self.attempted!r})"


_set_counts = _OneChainStats._counts.__set__  # type: ignore[attr-defined]  # the slot's own setter


def one_chain_stats(accepted: int, attempted: int) -> SweepStats:
    """The SweepStats of one chain (``accepted`` moves out of ``attempted``): 0.1 us, against 0.7 for
    two count arrays and the stats that hold them, in a per-sweep call whose whole sweep of a 16x16
    lattice takes about a microsecond. The arrays ``np.array([accepted])`` and ``np.array([attempted])``
    (int64) are made when first read."""
    stats = _new_object(_OneChainStats)
    _set_counts(stats, (accepted, attempted))
    return stats


def sweep_stats(accepted: np.ndarray, attempted: np.ndarray) -> SweepStats:
    """``SweepStats(accepted, attempted)`` made without the frozen dataclass's ``__init__`` (which
    sets each field through ``object.__setattr__``): 0.3 instead of 0.5-0.8 us, for the per-sweep
    call of a small lattice, whose whole kernel takes about a microsecond. The same frozen object."""
    stats = _new_object(SweepStats)
    fields = stats.__dict__
    fields["accepted"] = accepted
    fields["attempted"] = attempted
    return stats


class Sampler(ABC):
    """Base class: subclasses set ``name`` and implement :meth:`sweep` (and may refine
    :meth:`check_model`).

    Capabilities are declared as class attributes, never inferred from a name or a type, so
    a subclass keeps (or gives up, by overriding one attribute) what its parent could do.
    Runs, annealing, parallel tempering and the conformance kit
    (:func:`thermolearn.testing.check_sampler`) read them.
    """

    name: str = ""
    #: runs at its own ladder of temperatures: :meth:`chain_temperatures` takes None (parallel tempering)
    needs_ladder: bool = False
    #: samples models with fields h_i != 0
    supports_fields: bool = True
    #: samples models with negative (antiferromagnetic, frustrated) couplings
    supports_frustration: bool = True
    #: samples any coupling graph (False: only the graphs :meth:`check_model` accepts, e.g. 2D lattices)
    supports_any_graph: bool = True
    #: a zero-temperature dynamics (flips only downhill; beta is ignored), not a sampler of exp(-beta E)
    zero_temperature: bool = False
    #: the number of chains must be a multiple of this
    chain_multiple: int = 1
    #: ``sweep(..., n)`` makes exactly the moves, generator draws, move counts and running E and M
    #: of n calls ``sweep(..., 1)``, bit for bit, so runs may do the sweeps between two records in
    #: one call (the conformance kit checks it); a subclass that overrides :meth:`sweep` and cannot
    #: promise it sets False (a subclass that defines ``sweep`` without declaring it gets False)
    sweep_blocks: bool = False
    #: :meth:`sweep_and_record` runs a block of recorded sweeps inside the kernel (no Python between
    #: records), with the records and chains of one :meth:`sweep` call per record, bit for bit (the
    #: conformance kit checks it); a subclass that overrides :meth:`sweep` or :meth:`sweep_and_record`
    #: without declaring it gets False
    records_in_kernel: bool = False
    #: the single-spin rule (a :class:`~thermolearn.samplers.rules.SpinFlipRule`) whose moves,
    #: in the sites' order ``self.order`` / ``self.site_order(model)``, are exactly what
    #: :meth:`sweep` does, so fused kernels (annealing with local fields kept up to date,
    #: parallel tempering in one call) may run the rule themselves; None: they call :meth:`sweep`
    rule: SpinFlipRule | None = None
    #: the sites' visiting order of a sampler with a ``rule`` ("sequential", "random", "checkerboard")
    order: str = "sequential"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "sweep" in cls.__dict__ and "sweep_blocks" not in cls.__dict__:
            cls.sweep_blocks = False  # a new sweep must make its own promise
        if ("sweep" in cls.__dict__ or "sweep_and_record" in cls.__dict__) and "records_in_kernel" not in cls.__dict__:
            cls.records_in_kernel = False

    def site_order(self, model: Ising) -> np.ndarray:
        """The sites of one sweep in visiting order (int64), for samplers with a ``rule``;
        samplers with other orders override it."""
        return np.arange(model.n_spins, dtype=np.int64)

    @classmethod
    def example(cls) -> Sampler:
        """A small instance with default settings, for conformance kits and documentation
        (samplers whose constructor needs arguments override this)."""
        return cls()

    def check_model(self, model: Ising) -> None:
        """Raise ``ValueError`` (saying why and what to use instead) if this sampler cannot
        sample ``model`` correctly."""
        if not isinstance(model, Ising):
            raise TypeError(f"model must be a thermolearn.Ising, got {type(model).__name__}")

    @abstractmethod
    def sweep(self, model: Ising, state: ChainState, betas: float | np.ndarray | None, n_sweeps: int = 1) -> SweepStats:
        """Advance every chain by ``n_sweeps`` sweeps (an int >= 0); chain c at inverse
        temperature ``betas[c]`` (one float: every chain). Updates ``state`` in place, including
        its running energies and magnetisations, which must be those of its spins on ``model``
        (``ChainState.new`` makes them so; after changing the couplings, recompute the energies):
        the samplers check the chains in full the first time they see them with a model
        (:meth:`_check_call`) and refuse a state that does not fit, rather than report wrong
        numbers. A subclass calls ``self._check_call(model, state, n_sweeps)`` before its kernels."""

    def sweep_and_record(
        self, model: Ising, state: ChainState, betas: float | np.ndarray | None, thin: int, records: Records
    ) -> SweepStats:
        """``records.count`` times: ``thin`` sweeps, then record every chain (E, M, its spins into
        its batch's site sums and into the states when kept) at index ``records.first + k``.

        This default makes one :meth:`sweep` call per record; samplers with ``records_in_kernel``
        do it all in one kernel call, with the same numbers."""
        accepted = np.zeros(state.n_chains, dtype=np.int64)
        attempted = np.zeros(state.n_chains, dtype=np.int64)
        for k in range(records.count):
            stats = self.sweep(model, state, betas, thin)
            accepted += stats.accepted
            attempted += stats.attempted
            records.write(records.first + k, state.energy, state.magnetization, state.spins)
        return SweepStats(accepted=accepted, attempted=attempted)

    def bind(self, model: Ising, state: ChainState, betas: float | np.ndarray | None) -> BoundSweeps:
        """This sampler bound to ``model``, the chains ``state`` and their inverse temperatures
        ``betas`` (1/J, as :meth:`sweep` takes them): ``bound.sweep(n)`` is ``self.sweep(model,
        state, betas, n)`` returning the number of spins flipped, the leanest per-sweep call for a
        loop that reads the chains between sweeps (one chain on a lattice: the compiled kernel's
        own entry, a fraction of a microsecond around the sweep). The model and the chains are
        checked here; nothing is swept until ``sweep``."""
        self.check_model(model)
        self._check_call(model, state, 0)
        return BoundSweeps(self, model, state, betas)

    #: the per-sweep call of one chain this sampler keeps, None if none: a tuple (model, beta, chain
    #: state, the kernel's compiled entry, its arguments for one sweep, what else the sampler needs),
    #: replaced or dropped whenever anything it depends on changes; also the token of :meth:`_kept_call`
    _lean: tuple | None = None
    #: where the flips are in what the kept call's kernel returns (-1: it returns them alone)
    _kept_flips_at = -1

    def __getstate__(self) -> dict:
        """Pickled and copied without its kept per-sweep calls (they hold compiled entries, which do
        not pickle, and the chains they were made for): a copy keeps its own from its first sweep."""
        state = self.__dict__.copy()
        if "_lean" in state:
            state["_lean"] = None
        if "_leans" in state:
            state["_leans"] = {}
        return state

    def _kept_call(self, model: Ising, state: ChainState, betas: object) -> tuple | None:
        """(token, compiled entry, its arguments for one sweep, where the flips are in what it
        returns: -1 the result itself, else its index) of the per-sweep call this sampler keeps now
        for exactly ``model``, ``state`` and ``betas``, else None. The call stays valid while
        ``self._lean`` is the token: a sampler drops or replaces it when anything it depends on
        changes (another model, beta or chain state, a setting, the counters)."""
        lean = self._lean_for(model, state, betas)
        return None if lean is None else (lean, lean[3], lean[4], self._kept_flips_at)

    def _lean_for(self, model: Ising, state: ChainState, betas: object) -> tuple | None:
        """The per-sweep call this sampler keeps for exactly ``model``, the chains ``state`` and one
        float ``betas`` (its last, or one of its last few chains' in ``self._leans``, which then
        becomes the kept one), else None. The one test of the samplers' lean paths."""
        lean = self._lean
        if lean is not None and state is not lean[2]:  # another chain's lean call, if one is kept
            leans = self.__dict__.get("_leans")
            lean = None if leans is None else leans.get(id(state))
        if (
            lean is not None
            and model is lean[0]
            and (type(betas) is float or type(betas) is np.float64)
            and betas == lean[1]
        ):
            self._lean = lean
            return lean
        return None

    def _resume_kept(self, token: tuple) -> bool:
        """Make ``token`` (from :meth:`_kept_call`) the kept call again if this sampler still keeps
        it among the calls of its last few chains (``self._leans``, by id of the chain state: a
        caller alternating between replicas); whether it did."""
        leans = self.__dict__.get("_leans")
        if leans is not None and leans.get(id(token[2])) is token:
            self._lean = token
            return True
        return False

    def _check_call(self, model: Ising, state: ChainState, n_sweeps: object) -> int:
        """``n_sweeps`` as an int >= 0, after checking the chains: in full (:meth:`ChainState.check`:
        layout, spins in {-1, +1}, a live generator, running E and M those of the spins on
        ``model``) the first time this sampler sees these four arrays with this model (it remembers
        the last _SEEN_CHAIN_SETS), only their layout after that (the kernels index without bounds checks and add to the running E and M,
        so a hand-made state with a stale energy would give wrong numbers without a word)."""
        seen = self.__dict__.setdefault("_seen_chains", [])
        for kept_model, kept_arrays in seen:
            if kept_model is model and state.holds(kept_arrays):
                state.check_layout(model)
                break
        else:
            state.check(model)
            if len(seen) >= _SEEN_CHAIN_SETS:
                del seen[0]
            seen.append((model, state.chain_arrays()))
        return check_positive_int("n_sweeps", n_sweeps, minimum=0)

    def options(self) -> dict:
        """The sampler's settings (recorded in results and checkpoints)."""
        return {}

    def chain_temperatures(self, temperature: float | None, n_chains: int) -> np.ndarray:
        """The temperature of every chain slot a run needs. Single-temperature samplers run
        ``n_chains`` chains at ``temperature``; samplers with their own ladder (parallel
        tempering) override this."""
        if temperature is None:
            raise ValueError(f"sampler {self.name!r} needs a temperature T > 0")
        return np.full(n_chains, float(temperature))

    def reset(self, model: Ising, state: ChainState) -> None:  # noqa: B027 (optional hook)
        """Prepare the sampler's own state (counters, ladders) for fresh chains."""

    def state(self) -> dict[str, np.ndarray]:
        """The sampler's own state as arrays (saved in checkpoints); stateless samplers: {}."""
        return {}

    def load_state(self, arrays: dict[str, np.ndarray], n_chains: int | None = None) -> None:  # noqa: B027
        """Restore what :meth:`state` returned (an optional hook).

        ``n_chains``: the chain slots the restored state must serve; a sampler whose own state
        is sized by the chains raises ``ValueError`` when it does not fit, so a resumed run never
        silently starts its sampler afresh.
        """

    def info(self) -> dict:
        """What the sampler measured about itself (exchange rates, cluster sizes), as JSON."""
        return {}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"


_NOTHING_KEPT = ("nothing kept",)  # a token no sampler keeps
_ONE = 1  # what bound.sweep() compares n_sweeps with by identity (CPython keeps one object per small int)


class BoundSweeps:
    """A sampler bound to one model, one set of chains and their inverse temperatures
    (:meth:`Sampler.bind`): ``sweep(n)`` advances the chains by n sweeps in place and returns the
    number of spins flipped (all chains), exactly as ``sampler.sweep(model, state, betas, n)``
    would, move for move. Made for loops that read ``state`` (E, M, spins) after every sweep.

    A one-sweep call whose sampler still keeps the compiled call it made for these chains (one
    chain on a lattice, one float beta: single-spin and cluster samplers) calls it directly;
    every other call goes through :meth:`Sampler.sweep` and its checks. The kept call holds the
    chains' own arrays, which a :class:`ChainState` never swaps, and is dropped by the sampler
    whenever what it depends on changes, so the two paths cannot disagree."""

    __slots__ = ("_sampler", "_model", "_state", "_betas", "_token", "_entry", "_args", "_flips_at")

    def __init__(self, sampler: Sampler, model: Ising, state: ChainState, betas: float | np.ndarray | None) -> None:
        self._sampler = sampler
        self._model = model
        self._state = state
        self._betas = betas
        self._token: tuple = _NOTHING_KEPT
        self._entry: Any = None
        self._args: tuple = ()
        self._flips_at = -1

    # what it is bound to, read-only (bind again for other chains or another beta)
    @property
    def sampler(self) -> Sampler:
        """The bound sampler."""
        return self._sampler

    @property
    def model(self) -> Ising:
        """The model the sampler is bound to."""
        return self._model

    @property
    def state(self) -> ChainState:
        """The chains, advanced in place by :meth:`sweep`."""
        return self._state

    @property
    def betas(self) -> float | np.ndarray | None:
        """The chains' inverse temperatures as bound (units of 1/J)."""
        return self._betas

    def sweep(self, n_sweeps: int = 1) -> int:
        """Advance the chains by ``n_sweeps`` sweeps (an int >= 0); the spins flipped."""
        if n_sweeps is _ONE and self._sampler._lean is self._token:  # the int 1 is one object
            got = self._entry(*self._args)
            return got if self._flips_at < 0 else got[self._flips_at]
        if (
            self._token is not _NOTHING_KEPT
            and type(n_sweeps) is int
            and n_sweeps == 1
            and self._sampler._resume_kept(self._token)
        ):
            return self.sweep(1)
        stats = self._sampler.sweep(self._model, self._state, self._betas, n_sweeps)
        kept = self._sampler._kept_call(self._model, self._state, self._betas)
        self._token, self._entry, self._args, self._flips_at = (_NOTHING_KEPT, None, (), -1) if kept is None else kept
        return int(np.sum(stats.accepted))

    def __reduce__(self) -> tuple:
        # pickled and copied without the kept compiled call (not picklable): the copy's first
        # sweep goes through its sampler's sweep and keeps its own
        return BoundSweeps, (self._sampler, self._model, self._state, self._betas)

    def __repr__(self) -> str:
        return f"BoundSweeps({self.sampler!r}, {self.state.n_chains} chain(s) of {self.model.n_spins} spins)"


def as_betas(betas: float | np.ndarray | None, n_chains: int) -> np.ndarray:
    """One inverse temperature per chain (a scalar is broadcast); each must be > 0 (None raises)."""
    if isinstance(betas, (float, int)) and not isinstance(betas, bool):  # the per-sweep fast path
        if not betas > 0:  # also NaN
            raise ValueError("inverse temperatures beta must be > 0 (beta = inf is the zero-temperature quench)")
        return np.full(n_chains, float(betas))
    values = np.asarray(betas, dtype=np.float64)
    if values.ndim > 1 or values.size not in (1, n_chains):
        raise ValueError(
            f"betas must be one inverse temperature or one per chain ({n_chains}), got an array of shape {values.shape}"
        )
    b = np.broadcast_to(values.reshape(-1), (n_chains,)).copy()
    if np.any(np.isnan(b)) or np.any(b <= 0):
        raise ValueError("inverse temperatures beta must be > 0 (beta = inf is the zero-temperature quench)")
    return b
