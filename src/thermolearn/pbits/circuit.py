"""Circuits of p-bit gates: gates that share p-bits, adders and multipliers.

Energies add: a circuit's energy is the sum of its gates' energies, each over its own
p-bits, so a p-bit shared by two gates (one gate's output, another's input) couples them.
A state where every gate sits on a row of its truth table has energy sum_g E0_g, the
minimum; any other state has at least one gate off its rows and costs at least the smallest
gate gap more. The ground states are therefore exactly the consistent evaluations of the
circuit, one per assignment of its free inputs, and they stay so whichever p-bits are
clamped: a multiplier with its product clamped has the factorisations as ground states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np

from thermolearn.models.ising import Ising
from thermolearn.pbits.gates import gate as library_gate
from thermolearn.pbits.logic import Gate


@dataclass
class Circuit:
    """p-bits by name and the gates placed on them.

    ``add(gate, A="x", B="y", C="z")`` places a gate with its terminals on the named p-bits
    (made on first use); its auxiliary p-bits get fresh names. ``groups`` holds named lists of
    p-bits (a number's bits, least significant first).
    """

    names: list[str] = field(default_factory=list)
    placed: list[tuple[Gate, tuple[int, ...]]] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)
    _index: dict[str, int] = field(default_factory=dict)

    @property
    def n_pbits(self) -> int:
        """Number of p-bits in the circuit."""
        return len(self.names)

    def node(self, name: str) -> int:
        """The index of p-bit ``name``, made if new."""
        if name not in self._index:
            self._index[name] = len(self.names)
            self.names.append(name)
        return self._index[name]

    def index(self, name: str) -> int:
        """The index of an existing p-bit ``name``; ``ValueError`` listing some names otherwise."""
        if name not in self._index:
            shown = ", ".join(self.names[:12]) + (", ..." if len(self.names) > 12 else "")
            raise ValueError(f"no p-bit named {name!r} in this circuit (p-bits: {shown})")
        return self._index[name]

    def add(self, gate: Gate | str, **terminals: str) -> dict[str, str]:
        """Place ``gate`` (a Gate or a library name) with every terminal on a named p-bit;
        returns the terminal -> p-bit map including the auxiliary p-bits."""
        g = library_gate(gate) if isinstance(gate, str) else gate
        missing = [t for t in g.table.names if t not in terminals]
        extra = [t for t in terminals if t not in g.table.names]
        if missing or extra:
            raise ValueError(f"gate {g.name} has terminals {list(g.table.names)}; missing {missing}, unknown {extra}")
        wiring = dict(terminals)
        for a in g.aux:
            wiring[a] = f"{g.name}{len(self.placed)}.{a}"
        targets = [wiring[t] for t in g.names]
        if len(set(targets)) != len(targets):
            raise ValueError(f"gate {g.name}: two terminals on one p-bit ({targets})")
        self.placed.append((g, tuple(self.node(t) for t in targets)))
        return wiring

    def model(self, i0: float = 1.0) -> Ising:
        """The circuit as an Ising model, couplings I0 sum_g J_g and fields I0 sum_g h_g."""
        n = self.n_pbits
        rows, cols, vals = [], [], []
        h = np.zeros(n)
        for g, idx in self.placed:
            ix = np.asarray(idx)
            r, c = np.nonzero(g.J)
            rows.append(ix[r])
            cols.append(ix[c])
            vals.append(g.J[r, c])
            np.add.at(h, ix, g.h)
        import scipy.sparse as sp

        if rows:
            J = sp.coo_array((i0 * np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        else:
            J = sp.coo_array((n, n))
        return Ising(J.tocsr(), i0 * h, name="p-bit circuit")

    @property
    def ground_energy(self) -> float:
        """sum_g E0_g: the energy (at I0 = 1) of every consistent state."""
        return float(sum(g.ground_energy for g, _ in self.placed))

    @property
    def gap(self) -> float:
        """The smallest gate gap: no inconsistent state is closer to the ground energy."""
        return float(min((g.gap for g, _ in self.placed), default=np.inf))

    def consistent(self, states: np.ndarray) -> np.ndarray:
        """Whether every gate is on a row of its truth table, per state (..., n) -> bool (...)."""
        states = np.asarray(states)
        ok = np.ones(states.shape[:-1], dtype=bool)
        for g, idx in self.placed:
            k = len(g.table.names)
            ok &= g.valid(states[..., list(idx[:k])])
        return ok

    def indices(self, names: Sequence[str]) -> np.ndarray:
        """Indices of the p-bits named ``names`` (int64); ``ValueError`` on an unknown name."""
        return np.array([self.index(n) for n in names], dtype=np.int64)

    def clamps(self, values: Mapping[str, int]) -> dict[int, int]:
        """{p-bit index: spin} from {name: bit 0/1}; ``ValueError`` for a bad name or bit."""
        out = {}
        for name, bit in values.items():
            if isinstance(bit, bool) or bit not in (0, 1):
                raise ValueError(f"clamp {name}={bit!r}: a clamped value must be the bit 0 or 1")
            out[self.index(name)] = 1 if bit else -1
        return out


#: Widest group of bits read as one number: :func:`value_of` returns int64 values
MAX_GROUP_BITS = 63


def bits_of(value: int, names: Sequence[str]) -> dict[str, int]:
    """{name_k: bit k of value}, least significant first; ``value`` must fit in ``len(names)`` bits
    (a larger or negative value was cut to its low bits without a word)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"value must be a non-negative integer, got {value!r}")
    if value < 0 or int(value).bit_length() > len(names):
        raise ValueError(f"value {value} does not fit in the {len(names)} bits of {list(names)[:4]}...")
    return {name: (int(value) >> k) & 1 for k, name in enumerate(names)}


def value_of(states: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The unsigned integers whose bit k is p-bit indices[k] = +1, per state (..., n) -> (...);
    states are spins +-1, at most 63 indices (the values are int64)."""
    x = np.asarray(states)
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size > MAX_GROUP_BITS or (idx.size and idx.dtype.kind not in "iu"):
        raise ValueError(f"indices must be a list of at most {MAX_GROUP_BITS} p-bit indices, got {indices!r}")
    if x.ndim == 0 or (idx.size and (idx.min() < -x.shape[-1] or idx.max() >= x.shape[-1])):
        raise ValueError(f"indices must name p-bits of the states (0..{x.shape[-1] - 1 if x.ndim else -1})")
    if not np.all((x == 1) | (x == -1)):
        raise ValueError("states must be spins +-1")
    bits = (x[..., idx] > 0).astype(np.int64)
    return (bits << np.arange(idx.size)).sum(axis=-1)


def _sum_columns(circuit: Circuit, columns: list[list[str]], tag: str) -> list[str | None]:
    """Reduce columns of equal-weight bits (column k weighs 2^k) to one bit each with full adders
    (three bits -> sum here, carry to k + 1) and half adders (two bits); returns the bit of each
    column (None where a column is always 0)."""
    out: list[str | None] = []
    k = 0
    count = 0
    while k < len(columns):
        column = columns[k]
        while len(column) > 1:
            if len(column) >= 3:
                a, b, c = column.pop(0), column.pop(0), column.pop(0)
                s, carry = f"{tag}s{count}", f"{tag}c{count}"
                circuit.add("full-adder", A=a, B=b, Cin=c, S=s, Cout=carry)
            else:
                a, b = column.pop(0), column.pop(0)
                s, carry = f"{tag}s{count}", f"{tag}c{count}"
                circuit.add("half-adder", A=a, B=b, S=s, C=carry)
            count += 1
            column.append(s)
            if k + 1 == len(columns):
                columns.append([])
            columns[k + 1].append(carry)
        out.append(column[0] if column else None)
        k += 1
    return out


def ripple_carry_adder(width: int) -> Circuit:
    """a + b = s for ``width``-bit a, b (groups "a", "b") and a (width + 1)-bit sum "s": a half adder
    then a chain of full adders, the carry of each into the next."""
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width < MAX_GROUP_BITS:
        # the sum has width + 1 bits, read as one int64
        raise ValueError(f"width must be an integer from 1 to {MAX_GROUP_BITS - 1}, got {width!r}")
    c = Circuit()
    a = [f"a{k}" for k in range(width)]
    b = [f"b{k}" for k in range(width)]
    s = [f"s{k}" for k in range(width + 1)]
    carry = "carry0"
    c.add("half-adder", A=a[0], B=b[0], S=s[0], C=carry if width > 1 else s[1])
    for k in range(1, width):
        out = s[width] if k == width - 1 else f"carry{k}"
        c.add("full-adder", A=a[k], B=b[k], Cin=carry, S=s[k], Cout=out)
        carry = out
    c.groups.update(a=a, b=b, s=s)
    return c


def multiplier(width_p: int, width_q: int) -> Circuit:
    """p * q = z for a ``width_p``-bit p and a ``width_q``-bit q (groups "p", "q", "z"): AND gates
    for the partial products p_i q_j, summed column by column with full and half adders. "z" has
    one bit per column the adders reach; bits above width_p + width_q - 1 are always 0 in
    consistent states."""
    for name, w in (("width_p", width_p), ("width_q", width_q)):
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {w!r}")
    if width_p + width_q > MAX_GROUP_BITS:
        raise ValueError(
            f"width_p + width_q must be at most {MAX_GROUP_BITS} (the product is read as one int64), "
            f"got {width_p} + {width_q}"
        )
    c = Circuit()
    p = [f"p{i}" for i in range(width_p)]
    q = [f"q{j}" for j in range(width_q)]
    for name in p + q:
        c.node(name)
    columns: list[list[str]] = [[] for _ in range(width_p + width_q - 1)]
    for i in range(width_p):
        for j in range(width_q):
            pp = f"pp{i}_{j}"
            c.add("and", A=p[i], B=q[j], C=pp)
            columns[i + j].append(pp)
    bits = _sum_columns(c, columns, "add")
    z = []
    for k, bit in enumerate(bits):
        if bit is None:  # pragma: no cover - every column of a multiplier has a partial product
            raise AssertionError(f"column {k} of the multiplier is empty")
        z.append(bit)
    c.groups.update(p=p, q=q, z=z)
    return c
