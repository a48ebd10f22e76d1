"""Invertible logic: a truth table compiled into p-bit couplings [J, h] (Camsari et al. 2017).

A gate is a p-bit network whose lowest-energy states are exactly the rows of its truth table
(bits 0/1 mapped to spins -1/+1), all at one energy E0, and every other state at least
``gap`` higher. At inverse temperature I0 the network then visits valid rows with
probability close to one, whichever p-bits are clamped: clamp the inputs and it computes the
outputs; clamp the outputs and it samples every input consistent with them.

The compiler finds [J, h] by a linear program (scipy.optimize.linprog, HiGHS). E(m) =
-sum_{i<j} J_ij m_i m_j - sum_i h_i m_i is linear in the unknowns (J, h), so "valid rows at
E0, every other state >= E0 + g" is a set of linear constraints; with |J_ij|, |h_i| <=
``max_coupling`` the program maximises the gap g. A table that no pairwise energy can
represent (XOR: the parity of three bits has a three-body term) gets auxiliary p-bits: each
valid row is extended by a choice of auxiliary values (the first row's fixed to +1, since
flipping an auxiliary p-bit everywhere is a symmetry), every choice is tried, and the fewest
auxiliary p-bits with a positive gap win, the largest gap among their choices.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from thermolearn.exact.enumeration import state_index_to_spins
from thermolearn.models.ising import Ising

#: gaps below this (in units of max_coupling) count as no gap: the LP found no separation
_GAP_TOLERANCE = 1e-7
#: most auxiliary-value choices tried for one number of auxiliary p-bits
MAX_AUX_CHOICES = 4096


@dataclass(frozen=True, eq=False)
class TruthTable:
    """A Boolean function as a table: ``rows`` (r, n_inputs + n_outputs) of 0/1, the inputs
    first; every input pattern appears exactly once."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rows: np.ndarray

    def __post_init__(self) -> None:
        names = self.inputs + self.outputs
        if not self.inputs or not self.outputs:
            raise ValueError("a truth table needs at least one input and one output")
        if len(set(names)) != len(names):
            raise ValueError(f"input and output names must be distinct, got {list(names)}")
        rows = np.asarray(self.rows)
        if rows.ndim != 2 or rows.shape[1] != len(names) or not np.all((rows == 0) | (rows == 1)):
            raise ValueError(f"rows must be an (r, {len(names)}) array of 0/1 (inputs then outputs), got {rows!r}")
        k = len(self.inputs)
        seen: dict[tuple, tuple] = {}
        for row in rows.astype(int).tolist():
            key, value = tuple(row[:k]), tuple(row[k:])
            if key in seen and seen[key] != value:
                raise ValueError(
                    f"the truth table is not a function: inputs {dict(zip(self.inputs, key))} have two outputs, "
                    f"{dict(zip(self.outputs, seen[key]))} and {dict(zip(self.outputs, value))}"
                )
            seen[key] = value
        if len(seen) != 2**k:
            missing = next(p for p in itertools.product((0, 1), repeat=k) if p not in seen)
            raise ValueError(
                f"the truth table must give an output for every input pattern; {dict(zip(self.inputs, missing))} "
                "is missing"
            )
        ordered = sorted(seen.items())
        object.__setattr__(self, "rows", np.array([list(a) + list(b) for a, b in ordered], dtype=np.int8))
        self.rows.setflags(write=False)

    @classmethod
    def from_function(
        cls, inputs: Sequence[str], outputs: Sequence[str], fn: Callable[..., Sequence[int] | int]
    ) -> TruthTable:
        """The table of ``fn(*input_bits) -> output bits`` (an int for a single output)."""
        rows = []
        for bits in itertools.product((0, 1), repeat=len(inputs)):
            out = fn(*bits)
            out_bits = [int(out)] if isinstance(out, int | np.integer) else [int(x) for x in out]
            rows.append(list(bits) + out_bits)
        return cls(tuple(inputs), tuple(outputs), np.array(rows))

    @property
    def names(self) -> tuple[str, ...]:
        """Input names followed by output names."""
        return self.inputs + self.outputs

    def spins(self) -> np.ndarray:
        """The rows as spins (r, n_inputs + n_outputs), int8: 1 -> +1, 0 -> -1."""
        return (2 * self.rows.astype(np.int8) - 1).astype(np.int8)


@dataclass(frozen=True, eq=False)
class Gate:
    """A p-bit gate: couplings over the table's p-bits then ``aux`` auxiliary ones.

    Attributes
    ----------
    name : the gate's name; table : its truth table.
    aux : names of the auxiliary p-bits (empty when the table is pairwise-representable).
    J : (n, n) symmetric couplings, zero diagonal; h : (n,) fields (energy units).
    ground_energy : E0, the energy of every valid row (with its auxiliary values).
    gap : the smallest energy of a non-valid state minus E0 (> 0).
    """

    name: str
    table: TruthTable
    aux: tuple[str, ...]
    J: np.ndarray
    h: np.ndarray
    ground_energy: float
    gap: float

    @property
    def names(self) -> tuple[str, ...]:
        """Every p-bit of the gate: inputs, outputs, auxiliaries."""
        return self.table.names + self.aux

    @property
    def n_pbits(self) -> int:
        """Number of p-bits: inputs, outputs and auxiliaries."""
        return len(self.names)

    def model(self, i0: float = 1.0) -> Ising:
        """The gate as an Ising model with couplings I0 J and fields I0 h (I0 plays beta)."""
        return Ising.from_dense(i0 * self.J, i0 * self.h, name=f"{self.name} gate")

    def valid(self, visible: np.ndarray) -> np.ndarray:
        """Whether each visible state (..., n_visible) spins is a row of the table (bool)."""
        visible = np.asarray(visible)
        rows = self.table.spins()
        return np.any(np.all(visible[..., None, :] == rows, axis=-1), axis=-1)

    def as_dict(self) -> dict:
        """The gate as a JSON-ready dict: its p-bits, J, h, ground energy and gap (units of J)."""
        return {
            "name": self.name,
            "inputs": list(self.table.inputs),
            "outputs": list(self.table.outputs),
            "aux": list(self.aux),
            "J": self.J.tolist(),
            "h": self.h.tolist(),
            "ground_energy": self.ground_energy,
            "gap": self.gap,
        }


def gate_from_couplings(name: str, table: TruthTable, J: np.ndarray, h: np.ndarray, aux: Sequence[str] = ()) -> Gate:
    """A gate from given [J, h], checked by enumeration: every valid row (for some auxiliary
    values) must be a ground state at one energy, and the gap is measured. Raises
    ``ValueError`` if [J, h] does not implement ``table``."""
    J = np.array(J, dtype=np.float64)
    h = np.array(h, dtype=np.float64)
    n = len(table.names) + len(aux)
    if J.shape != (n, n) or h.shape != (n,):
        raise ValueError(f"J must be ({n}, {n}) and h ({n},) for {n} p-bits, got {J.shape} and {h.shape}")
    states = state_index_to_spins(np.arange(2**n), n)
    energies = np.asarray(Ising.from_dense(J, h).energy(states))
    k = len(table.names)
    rows = table.spins()
    is_row = np.any(np.all(states[:, None, :k] == rows, axis=-1), axis=-1)
    e0 = float(energies.min())
    scale = max(1.0, float(np.abs(J).max(initial=0)), float(np.abs(h).max(initial=0)))
    tol = 1e-9 * scale
    ground = energies <= e0 + tol
    if np.any(ground & ~is_row):
        raise ValueError(f"[J, h] do not implement {name}: a state outside the table is a ground state")
    covered = {tuple(s) for s in states[ground, :k].tolist()}
    if len(covered) != len(rows):
        raise ValueError(f"[J, h] do not implement {name}: some rows of the table are not ground states")
    # a valid row's auxiliary values that are not the ground ones are excited states too
    gap = float(energies[~ground].min() - e0) if np.any(~ground) else float("inf")
    return Gate(name, table, tuple(aux), J, h, e0, gap)


def _features(states: np.ndarray) -> np.ndarray:
    """Rows [m_i m_j for i<j ..., m_i ...] so that E = -features @ [J_pairs, h]."""
    n = states.shape[1]
    iu, ju = np.triu_indices(n, 1)
    x = states.astype(np.float64)
    return np.concatenate([x[:, iu] * x[:, ju], x], axis=1)


def _solve(valid: np.ndarray, n: int, max_coupling: float) -> tuple[float, np.ndarray] | None:
    """Maximise the gap for the extended valid states ``valid`` (r, n); (gap, theta) or None."""
    from scipy.optimize import linprog

    states = state_index_to_spins(np.arange(2**n), n)
    codes = ((valid > 0).astype(np.int64) << np.arange(n)).sum(axis=1)
    invalid = np.ones(2**n, dtype=bool)
    invalid[codes] = False
    f_valid, f_invalid = _features(valid), _features(states[invalid])
    n_theta = f_valid.shape[1]
    # unknowns: theta (n_theta), E0, g; minimise -g
    cost = np.zeros(n_theta + 2)
    cost[-1] = -1.0
    # E(valid) = E0:  -f theta - E0 = 0
    A_eq = np.hstack([-f_valid, -np.ones((len(f_valid), 1)), np.zeros((len(f_valid), 1))])
    # E(invalid) >= E0 + g:  f theta + E0 + g <= 0
    A_ub = np.hstack([f_invalid, np.ones((len(f_invalid), 1)), np.ones((len(f_invalid), 1))])
    bounds = [(-max_coupling, max_coupling)] * n_theta + [(None, None), (0, None)]
    res = linprog(
        cost, A_ub=A_ub, b_ub=np.zeros(len(A_ub)), A_eq=A_eq, b_eq=np.zeros(len(A_eq)), bounds=bounds, method="highs"
    )
    if res.status != 0 or -res.fun <= _GAP_TOLERANCE * max_coupling:
        return None
    return float(-res.fun), res.x[:n_theta]


def compile_truth_table(table: TruthTable, *, name: str = "gate", max_aux: int = 2, max_coupling: float = 1.0) -> Gate:
    """[J, h] for ``table`` with the largest energy gap at |J_ij|, |h_i| <= ``max_coupling``,
    adding auxiliary p-bits (at most ``max_aux``) only where the table needs them.

    Raises ``ValueError`` when no gap exists within ``max_aux`` auxiliary p-bits or the search
    over auxiliary values would exceed :data:`MAX_AUX_CHOICES` linear programs.
    """
    if not isinstance(table, TruthTable):
        raise TypeError(f"table must be a TruthTable, got {type(table).__name__}")
    if max_coupling <= 0:
        raise ValueError(f"max_coupling must be > 0, got {max_coupling}")
    rows = table.spins()
    r, k = rows.shape
    for a in range(max_aux + 1):
        choices = 2 ** (a * (r - 1))
        if choices > MAX_AUX_CHOICES:
            raise ValueError(
                f"{name}: {a} auxiliary p-bits over {r} rows means {choices} choices of auxiliary values "
                f"(at most {MAX_AUX_CHOICES} are tried); give a smaller table or fewer auxiliary p-bits"
            )
        best: tuple[float, np.ndarray, np.ndarray] | None = None
        for choice in itertools.product((1, -1), repeat=a * (r - 1)):
            aux_values = np.ones((r, a), dtype=np.int8)
            aux_values[1:] = np.array(choice, dtype=np.int8).reshape(r - 1, a)
            extended = np.hstack([rows, aux_values])
            solved = _solve(extended, k + a, max_coupling)
            if solved is not None and (best is None or solved[0] > best[0] + 1e-9):
                best = (solved[0], solved[1], extended)
        if best is not None:
            n = k + a
            theta = np.where(np.abs(best[1]) < 1e-9, 0.0, best[1])
            J = np.zeros((n, n))
            iu, ju = np.triu_indices(n, 1)
            J[iu, ju] = theta[: iu.size]
            J = J + J.T
            aux = tuple(f"aux{j}" for j in range(a))
            return gate_from_couplings(name, table, J, theta[iu.size :], aux)
    raise ValueError(f"{name}: no [J, h] with a positive gap using up to {max_aux} auxiliary p-bits")
