"""The gate library: AND, OR, XOR, half adder and full adder as p-bit networks.

The couplings are those :func:`~thermolearn.pbits.logic.compile_truth_table` finds at
|J|, |h| <= 2 (tests recompile them), written out so that building a gate needs no linear
program. AND is the gate of Camsari et al. (2017), J = [[0, -1, 2], [-1, 0, 2], [2, 2, 0]],
h = [1, 1, -2] over (A, B, C): valid rows at E0 = -3, three invalid rows at gap 4 and one
(A = B = 0, C = 1) at gap 12, so at inverse temperature I0 P(valid) = 4 / (4 + 3 e^(-4 I0)
+ e^(-12 I0)). OR is AND with every spin flipped (h -> -h). XOR needs one auxiliary p-bit
(the parity of three bits is a three-body term); the adders need none, since
A + B + Cin - S - 2 Cout = 0 squared is a pairwise penalty.
"""

from __future__ import annotations

from thermolearn.pbits.logic import Gate, TruthTable, gate_from_couplings

GATE_NAMES = ("and", "or", "xor", "half-adder", "full-adder")

_AND_J = [[0, -1, 2], [-1, 0, 2], [2, 2, 0]]
_SPECS: dict[str, tuple] = {
    "and": (("A", "B"), ("C",), lambda a, b: a & b, _AND_J, [1, 1, -2], ()),
    "or": (("A", "B"), ("C",), lambda a, b: a | b, _AND_J, [-1, -1, 2], ()),
    "xor": (
        ("A", "B"),
        ("C",),
        lambda a, b: a ^ b,
        [[0, -1, 1, -2], [-1, 0, 1, -2], [1, 1, 0, 2], [-2, -2, 2, 0]],
        [1, 1, -1, 2],
        ("aux0",),
    ),
    "half-adder": (
        ("A", "B"),
        ("S", "C"),
        lambda a, b: (a ^ b, a & b),
        [[0, -1, 1, 2], [-1, 0, 1, 2], [1, 1, 0, -2], [2, 2, -2, 0]],
        [1, 1, -1, -2],
        (),
    ),
    "full-adder": (
        ("A", "B", "Cin"),
        ("S", "Cout"),
        lambda a, b, c: ((a + b + c) % 2, (a + b + c) // 2),
        [[0, -1, -1, 1, 2], [-1, 0, -1, 1, 2], [-1, -1, 0, 1, 2], [1, 1, 1, 0, -2], [2, 2, 2, -2, 0]],
        [0, 0, 0, 0, 0],
        (),
    ),
}


def truth_table(name: str) -> TruthTable:
    """The truth table of library gate ``name`` (one of :data:`GATE_NAMES`)."""
    if name not in _SPECS:
        raise ValueError(f"gate must be one of {', '.join(GATE_NAMES)}, got {name!r}")
    inputs, outputs, fn, *_ = _SPECS[name]
    return TruthTable.from_function(inputs, outputs, fn)


def gate(name: str) -> Gate:
    """Library gate ``name`` (one of :data:`GATE_NAMES`) with its [J, h], checked by enumeration."""
    table = truth_table(name)
    *_, J, h, aux = _SPECS[name]
    return gate_from_couplings(name, table, J, h, aux)
