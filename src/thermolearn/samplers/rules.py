"""Single-spin acceptance rules: each rule is one object, separate from the drivers.

A rule decides whether spin s_i in local field phi_i = h_i + sum_j J_ij s_j flips at inverse
temperature beta, from Delta E = 2 s_i phi_i and, when it needs one, a uniform draw u from
the chain's xoshiro256** stream. The drivers (the generic CSR kernel and the lattice fast
path of :mod:`thermolearn.samplers.single_spin`, the local-field kernels of annealing, the
fused parallel-tempering kernel) keep the spins, the generator state and the running E and
M exact; they never look inside a rule.

A :class:`SpinFlipRule` holds:

- ``decide(si, phi, beta, s0, s1, s2, s3) -> (flip, dE, s0, s1, s2, s3)``, a Numba function
  (``@njit(inline="always")``) that advances the generator state only when it draws;
- ``lattice_code(si, phi, beta) -> int64`` (optional; None turns the lattice fast path off
  for the rule): the same decision as an entry of the lattice decision table, CODE_FLIP or
  CODE_KEEP (no draw), or ``draw_code(K, invert)``: draw the top 53 bits k of one output and
  flip iff (k < K) != invert. ``decide`` draws u = k 2^-53, and every predicate of u that is
  monotone in k equals k < K for one integer K, which :func:`count_below` finds by bisection
  with the very same floating expression, so the fast path makes the same moves from the
  same numbers, bit for bit;
- ``zero_temperature``: the rule ignores beta (flips only downhill).

Numba compiles a driver for each rule (:meth:`SpinFlipRule.compiled`): the driver is written
once as a plain function that calls the global name ``rule_decide`` (or ``rule_lattice_code``),
and each rule gets a copy of it with that name bound to its own function and a name of its
own (rule name plus a fingerprint of what its code depends on), so the decision is inlined and every
(driver, rule) pair has its own entry in Numba's on-disk cache. Passing the decision as a
function argument or closing over it would also specialise, but neither is cached across
processes (a function argument's type names the object's address; a closure's cache entry
is keyed by its captured values): every process would compile again.

To add a rule: write ``decide`` (and, for the lattice fast path, ``lattice_code``) in one
file, make ``MY_RULE = SpinFlipRule("name", decide, lattice_code)``, a sampler class
``class MySampler(SingleSpinSampler): name = "name"; rule = MY_RULE`` and add it to
``samplers/registry.py``; the conformance kit (:func:`thermolearn.testing.check_sampler`)
then checks it against exact enumeration.
"""

from __future__ import annotations

import hashlib
import math
import re
import types
import warnings
from collections.abc import Callable
from typing import Any

from thermolearn.fixed_settings import FixedSettings
from thermolearn.kernel_cache import njit
from thermolearn.randomness.xoshiro import MANTISSA, next_uniform

CODE_FLIP = -1  # lattice table: flip without drawing a random number
CODE_KEEP = -2  # lattice table: keep without drawing a random number
_TWO53 = 9007199254740992
# exp(-40) is below 2^-53, the smallest non-zero uniform draw: past it only u = 0 accepts,
# so the exponential need not be computed
_EXP_CUTOFF = -40.0


@njit(inline="always")
def draw_code(threshold, invert):
    """The lattice-table code for "draw k (53 bits), flip iff (k < threshold) != invert"."""
    return 2 * threshold + (1 if invert else 0)


@njit(cache=True)
def count_below(a, b):
    """The number K of k in [0, 2^53) with float(k) 2^-53 a < b (the predicate is monotone in k)."""
    lo = 0  # predicate true for all k < lo
    hi = _TWO53  # predicate false for all k >= hi
    if not (0.0 * a < b):
        return 0
    while hi - lo > 1:
        mid = (lo + hi) // 2
        u = float(mid) * MANTISSA
        if u * a < b:
            lo = mid
        else:
            hi = mid
    return hi


# ---------------------------------------------------------------------------- Metropolis
# A flip that costs nothing is made with probability FREE_FLIP_ACCEPTANCE, not always:
# min(1, exp(-beta dE)) makes every such flip, and a sweep in a fixed site order then moves domain
# walls deterministically: a ring of any length never mixes (a 64-site ring at T = 0.7 gave
# E/N = 0.09 +- 0.16 for an exact -0.892) and small periodic lattices split into closed classes
# of states. Any a(dE) with a(dE) = exp(-beta dE) a(-dE) keeps detailed balance, so a(0) may be
# any number in (0, 1]. It is a trade: a(0) = 1/2 mixes the traps fastest but slows domain walls
# everywhere (32x32 at T_c: tau_int of |m| 2-3x the textbook rule's), while 0.9 costs about 10%
# there and still mixes the ring and the small lattices (docs/benchmarks.md, "Free flips").
#: the probability that Metropolis makes a flip that costs nothing (Delta E = 0)
FREE_FLIP_ACCEPTANCE = 0.9


@njit(inline="always")
def metropolis_decide(si, phi, beta, s0, s1, s2, s3):
    """Flip with probability min(1, exp(-beta dE)) for dE != 0 and FREE_FLIP_ACCEPTANCE for
    dE = 0, dE = 2 s_i phi_i; draws only for dE >= 0."""
    de = 2.0 * si * phi
    flip = de < 0.0
    if not flip:
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        if de == 0.0:
            flip = u < FREE_FLIP_ACCEPTANCE
        else:
            x = -beta * de
            flip = u < math.exp(x) if x > _EXP_CUTOFF else u == 0.0
    return flip, de, s0, s1, s2, s3


@njit(inline="always")
def metropolis_lattice_code(si, phi, beta):
    de = 2.0 * si * phi
    if de < 0.0:
        return CODE_FLIP
    if de == 0.0:
        return draw_code(count_below(1.0, FREE_FLIP_ACCEPTANCE), False)
    return draw_code(count_below(1.0, math.exp(-beta * de)), False)


@njit(inline="always")
def always_free_metropolis_decide(si, phi, beta, s0, s1, s2, s3):
    """Flip with probability min(1, exp(-beta dE)), dE = 2 s_i phi_i: every free flip is made;
    draws only for dE > 0. The annealers' rule (see :data:`ANNEALING_RULES`)."""
    de = 2.0 * si * phi
    flip = de <= 0.0
    if not flip:
        u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
        x = -beta * de
        flip = u < math.exp(x) if x > _EXP_CUTOFF else u == 0.0
    return flip, de, s0, s1, s2, s3


@njit(inline="always")
def always_free_metropolis_lattice_code(si, phi, beta):
    de = 2.0 * si * phi
    if de <= 0.0:
        return CODE_FLIP
    return draw_code(count_below(1.0, math.exp(-beta * de)), False)


# ---------------------------------------------------------------------------- heat bath
@njit(inline="always")
def heat_bath_decide(si, phi, beta, s0, s1, s2, s3):
    """Set s_i = +1 with probability 1 / (1 + exp(-2 beta phi_i)); always draws."""
    de = 2.0 * si * phi
    u, s0, s1, s2, s3 = next_uniform(s0, s1, s2, s3)
    # written to avoid overflow of exp
    x = -2.0 * beta * phi
    if x > 0:
        ex = math.exp(-x)
        up = u * (1.0 + ex) < ex
    else:
        up = u * (1.0 + math.exp(x)) < 1.0
    return (si == 1) != up, de, s0, s1, s2, s3


@njit(inline="always")
def heat_bath_lattice_code(si, phi, beta):
    x = -2.0 * beta * phi
    if x > 0:
        ex = math.exp(-x)
        up_below = count_below(1.0 + ex, ex)
    else:
        up_below = count_below(1.0 + math.exp(x), 1.0)
    # s_i = +1 iff k < K: a spin that is up flips iff k >= K
    return draw_code(up_below, si == 1)


# ---------------------------------------------------------------------------- quench
@njit(inline="always")
def quench_decide(si, phi, beta, s0, s1, s2, s3):
    """Flip only if that lowers the energy (dE < 0); beta is ignored, nothing is drawn."""
    de = 2.0 * si * phi
    return de < 0.0, de, s0, s1, s2, s3


@njit(inline="always")
def quench_lattice_code(si, phi, beta):
    return CODE_FLIP if 2.0 * si * phi < 0.0 else CODE_KEEP


# ---------------------------------------------------------------------------- the rule object
def _describe(value: Any, out: list[bytes], seen: set[int]) -> None:
    """Append to ``out`` what the compiled code depends on in ``value`` (see :func:`_fingerprint`)."""
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        out.append(f"{type(value).__name__}:{value!r}".encode())
    elif isinstance(value, (tuple, list, frozenset, set)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        out.append(f"{type(value).__name__}({len(items)}".encode())
        for item in items:
            _describe(item, out, seen)
        out.append(b")")
    elif isinstance(value, types.ModuleType):
        out.append(f"module:{value.__name__}".encode())
    elif isinstance(value, types.CodeType):
        _describe_code(value, out, seen)
    elif isinstance(value, types.FunctionType) or hasattr(value, "py_func"):  # a function or a Numba dispatcher
        f = getattr(value, "py_func", value)
        if id(f) in seen:  # recursion, or a helper met before: its description is already in
            out.append(f"seen:{f.__module__}.{f.__qualname__}".encode())
            return
        seen.add(id(f))
        out.append(f"function:{'numba' if f is not value else 'python'}".encode())
        _describe_code(f.__code__, out, seen)
        _describe(f.__defaults__, out, seen)
        names: list[str] = []
        _global_names(f.__code__, names)
        builtins = f.__globals__.get("__builtins__", {})
        for name in names:
            if name in f.__globals__:
                out.append(f"global:{name}=".encode())
                _describe(f.__globals__[name], out, seen)
            elif name in (builtins if isinstance(builtins, dict) else vars(builtins)):
                out.append(f"builtin:{name}".encode())
        for cell in f.__closure__ or ():
            out.append(b"cell=")
            try:
                _describe(cell.cell_contents, out, seen)
            except ValueError:  # an empty cell
                out.append(b"empty")
    elif isinstance(value, type):
        out.append(f"type:{value.__module__}.{value.__qualname__}".encode())
    elif hasattr(value, "dtype") and hasattr(value, "tobytes"):  # a NumPy array or scalar: frozen as a constant
        out.append(f"array:{value.dtype.str}:{getattr(value, 'shape', ())}:".encode() + value.tobytes())
    else:  # anything else (a ufunc, a Numba type, an enum member): its type, and its repr unless that names an address
        text = repr(value)
        out.append(f"object:{type(value).__module__}.{type(value).__qualname__}".encode())
        if " at 0x" not in text:
            out.append(text.encode())


def _describe_code(code: types.CodeType, out: list[bytes], seen: set[int]) -> None:
    out.append(b"code:" + code.co_code)
    out.append(repr(code.co_names).encode())
    _describe(code.co_consts, out, seen)


def _global_names(code: types.CodeType, names: list[str]) -> None:
    """The names ``code`` and the code objects nested in it may look up (globals, builtins, attributes)."""
    names.extend(n for n in code.co_names if n not in names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _global_names(const, names)


def _fingerprint(*functions: Any) -> str:
    """A stable hash of everything the machine code compiled from ``functions`` depends on: their
    bytecode, constants (nested code included), names, the values of the globals they read (numbers,
    strings, tuples, arrays by value; Numba functions and plain functions by the same description,
    recursively; modules by name) and their closure cells; not their file names or line numbers, so
    an edit elsewhere in the file keeps the tag, while a new value of a constant (an edited module
    constant, a monkeypatch, another closure value) gives a new one."""
    out: list[bytes] = []
    seen: set[int] = set()
    for f in functions:
        _describe(f, out, seen)
        out.append(b"|")
    h = hashlib.sha1()
    for part in out:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()[:12]


class SpinFlipRule(FixedSettings):
    """One single-spin acceptance rule: its Numba ``decide`` function, optionally its
    ``lattice_code`` for the lattice decision table, and whether it is a ``zero_temperature``
    rule. See the module docstring for the contract of both functions."""

    # the compiled drivers and the disk cache's tag are made from these: fixed, as a rule is
    _fixed_settings = frozenset({"name", "decide", "lattice_code", "zero_temperature"})

    def __init__(
        self,
        name: str,
        decide: Callable,
        lattice_code: Callable | None = None,
        *,
        zero_temperature: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a rule needs a non-empty name, got {name!r}")
        for label, f in (("decide", decide), ("lattice_code", lattice_code)):
            if f is not None and not hasattr(f, "py_func"):
                raise TypeError(f"{label} must be a Numba @njit function, got {type(f).__name__}")
        if decide is None:
            raise TypeError("decide must be a Numba @njit function, got None")
        self.name = name
        self.decide = decide
        self.lattice_code = lattice_code
        self.zero_temperature = bool(zero_temperature)
        self._compiled: dict[tuple[Any, bool], Any] = {}

    @property
    def _tag(self) -> str:
        """The rule's part of its drivers' names (so of their cache entries): name and fingerprint,
        computed now (the values of the globals it reads may have changed since construction)."""
        return re.sub(r"\W", "_", self.name) + "_" + _fingerprint(self.decide, self.lattice_code)

    @property
    def has_lattice_path(self) -> bool:
        """Whether the rule has a lattice kernel code (the fast path on lattices)."""
        return self.lattice_code is not None

    def compiled(self, template: Callable, *, parallel: bool = False) -> Any:
        """``template`` (a plain function calling the global ``rule_decide`` or
        ``rule_lattice_code``) compiled for this rule with ``@njit(cache=True)`` (and
        ``parallel``); one compilation per (template, rule, parallel) and process, cached on disk
        under a name with the rule's fingerprint as it is at this first call."""
        key = (template, parallel)
        got = self._compiled.get(key)
        if got is None:
            env = dict(template.__globals__)
            env["rule_decide"] = self.decide
            env["rule_lattice_code"] = self.lattice_code
            suffix = f"__{self._tag}{'_parallel' if parallel else ''}"
            fn = types.FunctionType(
                template.__code__, env, template.__name__ + suffix, template.__defaults__, template.__closure__
            )
            fn.__qualname__ = template.__qualname__ + suffix
            fn.__module__ = template.__module__
            fn.__doc__ = template.__doc__
            got = njit(cache=True, parallel=parallel)(fn)
            self._compiled[key] = got
        return got

    def __repr__(self) -> str:
        return f"SpinFlipRule({self.name!r})"


METROPOLIS = SpinFlipRule("metropolis", metropolis_decide, metropolis_lattice_code)
HEAT_BATH = SpinFlipRule("heatbath", heat_bath_decide, heat_bath_lattice_code)
QUENCH = SpinFlipRule("quench", quench_decide, quench_lattice_code, zero_temperature=True)
#: min(1, exp(-beta dE)) with every free flip made: not ergodic in a fixed order on rings and small
#: periodic lattices, so no sampler uses it; the annealers do (below)
ALWAYS_FREE_METROPOLIS = SpinFlipRule(
    "metropolis-always-free", always_free_metropolis_decide, always_free_metropolis_lattice_code
)
RULES: dict[str, SpinFlipRule] = {r.name: r for r in (METROPOLIS, HEAT_BATH, QUENCH)}
#: the rule an optimiser (``anneal``, the PT optimiser) runs in place of a sampler's rule: an
#: optimiser keeps the lowest state it meets rather than averaging, free moves along a plateau
#: help it, and dwave-samplers' annealer makes them all; so annealing keeps the classic rule (and
#: its 0.6.10 results, bit for bit)
ANNEALING_RULES: dict[str, SpinFlipRule] = {METROPOLIS.name: ALWAYS_FREE_METROPOLIS}


def annealing_rule(rule: SpinFlipRule) -> SpinFlipRule:
    """The rule an optimiser runs for a sampler whose rule is ``rule``."""
    return ANNEALING_RULES.get(rule.name, rule)


#: what the drivers' templates call; rebound per rule by :meth:`SpinFlipRule.compiled`
rule_decide = METROPOLIS.decide
rule_lattice_code = METROPOLIS.lattice_code


#: the largest system on which :func:`warn_fixed_order_trap` warns: there the closed classes of a
#: fixed-order sweep that makes every free flip carry visible weight (2x2: a quarter of starts stuck
#: at E = 0; 3x3, 4x2, 12-site ring: several classes; 4x4: about 1e-3 in total variation). The
#: kernels that still make every free flip (metropolis-msc, -packed, -jax) take only 2D and 3D
#: lattices, where no bias was seen past 16 spins (docs/benchmarks.md, "Free flips")
FIXED_ORDER_TRAP_MAX_SPINS = 16


class NonErgodicWarning(RuntimeWarning):
    """A sampler whose chain cannot reach every state of the model: its averages are biased
    (an optimiser, which keeps the lowest state it meets, may ignore it)."""


def warn_fixed_order_trap(model: Any, sampler: str) -> None:
    """Warn (NonErgodicWarning) when a sweep in a fixed site order that makes every flip with
    Delta E = 0 (the multi-spin-coded, packed and JAX Metropolis kernels) is not ergodic on
    ``model``: on a small periodic lattice without a field it splits the states into closed
    classes and the averages are biased."""
    geometry = getattr(model, "geometry", None)
    if (
        geometry is None
        or model.n_spins > FIXED_ORDER_TRAP_MAX_SPINS
        or not all(geometry.periodic)
        or bool((model.fields != 0).any())
    ):
        return
    shape = "x".join(str(side) for side in geometry.shape)
    warnings.warn(
        f"{sampler} sweeps this {shape} periodic lattice in a fixed site order and makes every flip that costs "
        "nothing (Delta E = 0): on a lattice this small and without a field that sweep is not ergodic (closed "
        "classes of states) and its averages are biased; use 'metropolis' (its free flips are random), heat bath "
        "or Wolff",
        NonErgodicWarning,
        stacklevel=3,
    )
