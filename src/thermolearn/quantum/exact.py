"""Exact answers for the transverse-field Ising model: low spectrum by Lanczos, thermodynamics by full diagonalisation.

H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i on any Ising graph (k_B = 1,
energies are totals in units of the couplings).

- :func:`low_spectrum` — the ground-state energy and the lowest levels with multiplicity: dense
  diagonalisation for small N, Lanczos (``scipy.sparse.linalg.eigsh``, checked by deflation for skipped
  degenerate copies) on the sparse matrix, or Lanczos inside each translation-momentum / spin-flip
  sector (periodic chains and square lattices: 24+ spins).
- :func:`thermodynamics` — ln Z, E, C, <sx> (mean per spin) and <sz_i sz_j> (mean over the bonds)
  at each temperature from the whole spectrum (N <= 14: dense, or faster by lattice symmetries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.linalg import eigh
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from scipy.special import logsumexp

from thermolearn.models.ising import Ising
from thermolearn.quantum.hamiltonian import (
    MAX_DENSE_SPINS,
    basis_energies,
    check_ising,
    check_transverse,
    dense_hamiltonian,
    hamiltonian_operator,
    sparse_hamiltonian,
)
from thermolearn.quantum.symmetry import SymmetryGroup, find_symmetries, orbit_table, sector_block
from thermolearn.resources import check_memory, format_bytes
from thermolearn.validation import check_positive_int, check_temperatures

SPECTRUM_METHODS = ("auto", "dense", "lanczos", "lanczos-sectors")
THERMAL_METHODS = ("auto", "dense", "sectors")
# full diagonalisation in symmetry sectors: beyond 14 spins the blocks (2^16 / 32 = 2048 complex) take minutes
MAX_SECTOR_FULL_SPINS = 14
# the whole-space Lanczos keeps a CSR matrix of (N + 1) 2^N entries; sectors divide that by |G|
MAX_LANCZOS_SPINS = 26
MAX_SECTOR_LANCZOS_SPINS = 30
# below this block size a dense eigensolver is faster and more robust than ARPACK
_DENSE_BLOCK = 400
# levels asked for in each multiplicity check of a Lanczos result: more would make ARPACK chase the copies
# of a degenerate level, which single-vector Lanczos finds only slowly (the check repeats instead)
_CHECK_LEVELS = 1


@dataclass
class LowSpectrum:
    """The lowest levels of H (with multiplicity, sorted), the sector of each, and how they were found."""

    n_spins: int
    energies: np.ndarray
    sectors: list[str]
    method: str
    notes: list[str] = field(default_factory=list)

    @property
    def ground_energy(self) -> float:
        """Ground-state energy E_0, the lowest level (units of J)."""
        return float(self.energies[0])

    @property
    def gap(self) -> float:
        """E_1 - E_0 (units of J); NaN when only one level was computed."""
        return float(self.energies[1] - self.energies[0]) if self.energies.size > 1 else float("nan")

    def as_dict(self) -> dict:
        """The spectrum as a JSON-ready dict: ground energy, gap and levels (units of J) with their sectors."""
        return {
            "n_spins": self.n_spins,
            "ground_energy": self.ground_energy,
            "gap": self.gap,
            "levels": self.energies.tolist(),
            "level_sectors": self.sectors,
            "method": self.method,
            "notes": self.notes,
        }


def _check_method(method: object, allowed: tuple[str, ...]) -> str:
    if method not in allowed:
        raise ValueError(f"method must be one of {', '.join(allowed)}; got {method!r}")
    return str(method)


def _sector_label(group: SymmetryGroup, sector: tuple[int, int, int]) -> str:
    m0, m1, z = sector
    parts = []
    if group.t0 > 1 or group.t1 > 1:
        qs = []
        if group.t0 > 1:
            qs.append(f"{2 * m0}pi/{group.t0}" if m0 else "0")
        if group.t1 > 1:
            qs.append(f"{2 * m1}pi/{group.t1}" if m1 else "0")
        parts.append("q=(" + ",".join(qs) + ")")
    if group.n_flip == 2:
        parts.append(f"Z2={'+' if z > 0 else '-'}")
    return " ".join(parts) or "all"


def too_large_for_full_diagonalisation(n_spins: int) -> str:
    """The message for a finite-temperature request beyond full diagonalisation."""
    return (
        f"full diagonalisation (finite-temperature ln Z, E, C) needs all 2^{n_spins} eigenvalues and is limited to "
        f"N <= {MAX_DENSE_SPINS} spins ({MAX_SECTOR_FULL_SPINS} on periodic chains and square lattices, by symmetry "
        f"sectors); N = {n_spins} is too large: use method 'lanczos' for the ground state and gap, free fermions "
        "for a 1D chain (thermolearn.quantum.chain_thermodynamics), or path-integral Monte Carlo (pimc) for "
        "finite temperature"
    )


def _lanczos_vectors(n_levels: int) -> int:
    """Vectors of a block's length that :func:`_lanczos_lowest` holds at once (for the memory estimates):
    ARPACK's ncv Lanczos vectors and work space, the eigenvectors found, and those of the multiplicity check."""
    return max(20, 2 * n_levels + 1) + n_levels + _CHECK_LEVELS + 4


def _arpack_lowest(operator: Any, dim: int, k: int, v0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lowest eigenpairs ARPACK finds (k, or fewer if some came back twice), sorted, with orthonormal
    eigenvectors; a clear error when it does not converge."""
    try:
        # a fixed start vector makes ARPACK reproducible; tol = 0 asks for machine precision
        vals, vecs = eigsh(operator, k=k, which="SA", v0=v0, tol=0.0, ncv=min(dim, max(2 * k + 1, 20)))
    except ArpackNoConvergence as err:
        raise RuntimeError(
            f"Lanczos (ARPACK) did not converge to the {k} lowest levels of a block of dimension {dim}; "
            "no levels are returned rather than unconverged ones"
        ) from err
    gram = vecs.conj().T @ vecs
    if np.abs(gram - np.eye(k)).max() <= 1e-12:
        order = np.argsort(np.real(vals))
        return np.real(vals)[order], vecs[:, order]
    # ARPACK solves a complex Hermitian block as a general matrix (Arnoldi), and its eigenvectors for one
    # degenerate level need not be orthogonal. A Rayleigh-Ritz step in their span makes them orthonormal;
    # directions that are numerically dependent (one copy returned twice) are dropped, not counted.
    s, u = np.linalg.eigh(gram)
    keep = s > 1e-8 * s[-1]
    basis = vecs @ (u[:, keep] / np.sqrt(s[keep]))
    small = basis.conj().T @ (operator @ basis)
    vals, w = np.linalg.eigh((small + small.conj().T) / 2)
    return vals, basis @ w


def _lanczos_lowest(matrix: Any, dim: int, k: int, seed: int = 0) -> np.ndarray:
    """The k lowest eigenvalues of a Hermitian block (sparse matrix or LinearOperator), with multiplicity:
    dense when small, else ARPACK Lanczos with a deflation check for missed degenerate copies."""
    k = min(k, dim)
    # ARPACK needs k < ncv <= dim, and asking for half the spectrum is no longer a job for Lanczos
    if dim <= _DENSE_BLOCK or k + _CHECK_LEVELS > dim // 2:
        dense = matrix.toarray() if sp.issparse(matrix) else matrix @ np.eye(dim)
        return np.linalg.eigvalsh(dense)[:k]
    rng = np.random.default_rng(seed)
    dtype = np.result_type(matrix.dtype, np.float64)

    def start(basis: np.ndarray | None) -> np.ndarray:
        v0 = rng.normal(size=dim).astype(dtype)
        return v0 if basis is None else v0 - basis @ (basis.conj().T @ v0)

    vals, vecs = _arpack_lowest(matrix, dim, k, start(None))
    if k == 1 and vals.size == 1:
        # a random start has a component along the ground state, so only further copies can be skipped
        return vals
    # Single-vector Lanczos sees one vector of each eigenspace (the start vector's projection), so it can
    # skip copies of a degenerate level and return a higher level instead. Lifting the found eigenvectors
    # out of the way (H + shift V V^H) and asking again shows any level still missing below the k-th: keep
    # the k lowest and repeat until nothing new lies below the k-th level.
    scale = max(1.0, float(np.abs(vals).max()))
    tol = 1e-10 * scale
    # enough to lift the found levels above the k-th, small enough not to stretch the spectrum (a wider
    # spectrum slows Lanczos); it grows if a lifted level still comes back as the lowest
    lift = 0.1 * scale
    rounds = 2 * k + 10
    for _ in range(rounds):
        top = vals[-1]
        shift = float(top - vals[0]) + lift

        def deflated(x: np.ndarray, basis: np.ndarray = vecs, shift: float = shift) -> np.ndarray:
            return matrix @ x + shift * (basis @ (basis.conj().T @ x))

        operator = LinearOperator((dim, dim), matvec=deflated, matmat=deflated, dtype=dtype)
        new_vals, new_vecs = _arpack_lowest(operator, dim, _CHECK_LEVELS, start(vecs))
        # with all k levels in hand only one below the k-th matters; short of k, any new level does
        wanted = new_vals < top - tol if vals.size == k else np.ones(new_vals.size, dtype=bool)
        if not wanted.any():
            break
        extra = new_vecs[:, wanted]
        extra -= vecs @ (vecs.conj().T @ extra)
        norms = np.linalg.norm(extra, axis=0)
        if norms.min() < 0.5:
            lift *= 4.0  # a found level, not a new one: lift the found ones higher
            continue
        vals = np.concatenate([vals, new_vals[wanted]])
        vecs = np.concatenate([vecs, extra / norms], axis=1)
        order = np.argsort(vals, kind="stable")[:k]
        vals, vecs = vals[order], vecs[:, order]
    else:
        raise RuntimeError(
            f"Lanczos was still finding lower levels after {rounds} deflation rounds (block of dimension {dim}); "
            "the lowest levels are not returned"
        )
    # orthonormal eigenvectors (no copy counted twice) with small residuals (converged); one column at a
    # time keeps the temporaries to two vectors
    residual = max(float(np.linalg.norm(matrix @ vecs[:, j] - vals[j] * vecs[:, j])) for j in range(k))
    overlap = float(np.abs(vecs.conj().T @ vecs - np.eye(k)).max())
    if residual > 1e-8 * scale or overlap > 1e-8:
        raise RuntimeError(
            f"Lanczos levels failed verification (residual {residual:.2e}, loss of orthogonality "
            f"{overlap:.2e}) in a block of dimension {dim}; the lowest levels are not returned"
        )
    return vals


def low_spectrum(
    ising: Ising,
    transverse: object,
    n_levels: int = 2,
    *,
    method: str = "auto",
    sectors: str = "auto",
) -> LowSpectrum:
    """The ``n_levels`` lowest eigenvalues of the TFIM (totals, units of J), with multiplicity.

    ``method``: 'dense' (N <= 14), 'lanczos' (sparse matrix, N <= 26), 'lanczos-sectors' (Lanczos in
    each momentum / flip sector of a periodic chain or square lattice, or the flip sectors alone on any
    graph with h = 0), or 'auto'. ``sectors``: 'all' or 'zero-momentum' (only q = 0: the ground state
    of a stoquastic H lies there by Perron-Frobenius; the gap is then the gap within q = 0); 'auto'
    takes every sector up to 20 spins and q = 0 above.
    """
    model = check_ising(ising)
    n = model.n_spins
    gamma = check_transverse(transverse, n)
    n_levels = check_positive_int("n_levels", n_levels)
    method = _check_method(method, SPECTRUM_METHODS)
    if sectors not in ("auto", "all", "zero-momentum"):
        raise ValueError(f"sectors must be 'auto', 'all' or 'zero-momentum', got {sectors!r}")
    group = find_symmetries(model, gamma)
    if method == "auto":
        if n <= 10:
            method = "dense"
        elif group.order > 1:
            method = "lanczos-sectors"
        else:
            method = "lanczos"
    if method == "dense":
        w = np.linalg.eigvalsh(dense_hamiltonian(model, gamma))[:n_levels]
        return LowSpectrum(n, w, ["all"] * w.size, "dense")
    if method == "lanczos":
        if n > MAX_LANCZOS_SPINS:
            raise ValueError(
                f"Lanczos on the full 2^{n} space is limited to N <= {MAX_LANCZOS_SPINS}; "
                "use method 'lanczos-sectors' on a periodic chain or square lattice"
            )
        nnz = (1 + np.count_nonzero(gamma)) * 2.0**n
        check_memory(
            f"Lanczos for N = {n} spins",
            nnz * 12.0 + 2.0**n * 8.0 * _lanczos_vectors(n_levels),
            hint="use method 'lanczos-sectors' (symmetry sectors) or fewer spins",
        )
        operator: object = sparse_hamiltonian(model, gamma) if n <= 22 else hamiltonian_operator(model, gamma)
        w = _lanczos_lowest(operator, 2**n, n_levels)
        return LowSpectrum(n, w, ["all"] * w.size, "lanczos")
    return _sector_spectrum(model, gamma, group, n_levels, sectors)


def _distinct_sectors(
    group: SymmetryGroup, labels: list[tuple[int, int, int]]
) -> list[tuple[tuple[int, int, int], list[tuple[int, int, int]]]]:
    """Each sector once with the sectors sharing its spectrum: H is real, so complex conjugation maps
    momentum q to -q with the same levels and the same real observables (half the work)."""
    out = []
    seen = set(labels)
    for m0, m1, z in labels:
        partner = ((-m0) % group.t0, (-m1) % group.t1, z)
        if partner in seen and partner < (m0, m1, z):
            continue
        out.append(((m0, m1, z), [(m0, m1, z)] if partner == (m0, m1, z) else [(m0, m1, z), partner]))
    return out


def sector_memory_bytes(n_spins: int, group: SymmetryGroup, n_active: int, n_levels: int) -> float:
    """Bytes of the orbit table, the largest sector block and its Lanczos vectors (an estimate)."""
    block = 2.0**n_spins / group.order * 1.1
    return 2.0**n_spins * 22.0 + block * (n_active + 1) * 40.0 + block * 16.0 * _lanczos_vectors(n_levels)


def _sector_spectrum(model: Ising, gamma: np.ndarray, group: SymmetryGroup, n_levels: int, which: str) -> LowSpectrum:
    n = model.n_spins
    if n > MAX_SECTOR_LANCZOS_SPINS:
        raise ValueError(f"Lanczos in symmetry sectors is limited to N <= {MAX_SECTOR_LANCZOS_SPINS} spins, got {n}")
    if group.order == 1:
        raise ValueError(
            "method 'lanczos-sectors' needs a symmetry: a periodic chain or square lattice with uniform J and "
            "Gamma, or h = 0 for the spin flip; use method 'lanczos'"
        )
    if np.ptp(gamma) > 0:
        raise ValueError("method 'lanczos-sectors' needs the same Gamma on every site; use method 'lanczos'")
    active = np.flatnonzero(gamma != 0.0)
    needed = sector_memory_bytes(n, group, active.size, n_levels)
    check_memory(f"Lanczos in symmetry sectors for N = {n} spins", needed, hint="use fewer spins")
    table = orbit_table(group)
    energies = basis_energies(model, table.reps)
    if which == "auto":
        which = "all" if n <= 20 else "zero-momentum"
    labels = group.sectors()
    if which == "zero-momentum":
        labels = [s for s in labels if s[0] == 0 and s[1] == 0]
    levels: list[tuple[float, str]] = []
    for sector, copies in _distinct_sectors(group, labels):
        block = sector_block(table, sector, energies, active)
        if block.dimension == 0:
            continue
        H = block.hamiltonian(float(gamma[0]))
        for value in _lanczos_lowest(H, block.dimension, n_levels):
            for partner in copies:
                levels.append((float(value), _sector_label(group, partner)))
    levels.sort(key=lambda item: item[0])
    levels = levels[:n_levels]
    notes = [f"symmetry group of order {group.order}; sectors: {which}"]
    if which == "zero-momentum":
        notes.append("levels from the q = 0 sectors only (the ground state of a stoquastic H is there)")
    return LowSpectrum(
        n,
        np.array([v for v, _ in levels]),
        [s for _, s in levels],
        "lanczos-sectors" + (" (q=0)" if which == "zero-momentum" else ""),
        notes,
    )


@dataclass
class QuantumThermodynamics:
    """Exact thermal averages of the TFIM at each temperature (totals; k_B = 1).

    ``sx``: <sx_i> averaged over spins; ``szsz``: <sz_i sz_j> averaged over the bonds of the graph
    (the nonzero J_ij, each once). The dense method also fills ``sx_sites`` (n_T, N) and
    ``szsz_matrix`` (n_T, N, N).
    """

    n_spins: int
    temperatures: np.ndarray
    log_z: np.ndarray
    energy: np.ndarray
    specific_heat: np.ndarray
    sx: np.ndarray
    szsz: np.ndarray
    ground_energy: float
    gap: float
    method: str
    sx_sites: np.ndarray | None = None
    szsz_matrix: np.ndarray | None = None

    @property
    def free_energy(self) -> np.ndarray:
        """Free energy F = -T ln Z at each temperature (total, units of J)."""
        return -self.temperatures * self.log_z

    def as_dict(self) -> dict:
        """The thermodynamics as a JSON-ready dict: per temperature ln Z, E, C, F = -T ln Z and the correlators."""
        return {
            "n_spins": self.n_spins,
            "ground_energy": self.ground_energy,
            "gap": self.gap,
            "method": self.method,
            "thermal": [
                {
                    "temperature": float(T),
                    "log_z": float(lz),
                    "energy": float(e),
                    "specific_heat": float(c),
                    "free_energy": float(-T * lz),
                    "sx": float(x),
                    "szsz": float(zz),
                }
                for T, lz, e, c, x, zz in zip(
                    self.temperatures, self.log_z, self.energy, self.specific_heat, self.sx, self.szsz
                )
            ],
        }


def _thermal_sums(
    temps: np.ndarray, w: np.ndarray, sx: np.ndarray, zz: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ln Z, E, C and the two observables from every level (w), its <sx> and <szsz>."""
    lz, energy, heat, mx, mzz = [], [], [], [], []
    weights = []
    for T in temps:
        log_w = -(w - w.min()) / T
        p = np.exp(log_w - logsumexp(log_w))
        weights.append(p)
        lz.append(logsumexp(-w / T))
        e = float(p @ w)
        energy.append(e)
        heat.append(float(p @ (w - e) ** 2) / T**2)
        mx.append(float(p @ sx))
        mzz.append(float(p @ zz))
    return np.array(lz), np.array(energy), np.array(heat), np.array(mx), np.array(mzz), np.array(weights)


def thermodynamics(
    ising: Ising, transverse: object, temperatures: ArrayLike, *, method: str = "auto"
) -> QuantumThermodynamics:
    """Exact ln Z, E, C = dE/dT, <sx> and <sz sz> from every eigenvalue of H (totals, units of J).

    ``method``: 'dense' (any graph, N <= 14; also per-site <sx_i> and the <sz_i sz_j> matrix),
    'sectors' (a full diagonalisation per momentum / flip sector: periodic chains and square
    lattices up to 14 spins), or 'auto' (sectors when a symmetry exists and N > 8).
    """
    model = check_ising(ising)
    n = model.n_spins
    gamma = check_transverse(transverse, n)
    temps = check_temperatures(temperatures)
    method = _check_method(method, THERMAL_METHODS)
    group = find_symmetries(model, gamma)
    symmetric = group.order > 1 and np.ptp(gamma) == 0
    if method == "auto":
        method = "sectors" if symmetric and n > 8 else "dense"
    if method == "sectors" and not symmetric:
        raise ValueError(
            "method 'sectors' needs a symmetry (a periodic chain or square lattice with uniform couplings, "
            "or h = 0) and the same Gamma on every site; use method 'dense'"
        )
    limit = MAX_SECTOR_FULL_SPINS if method == "sectors" else MAX_DENSE_SPINS
    if n > limit:
        raise ValueError(too_large_for_full_diagonalisation(n))
    rows, cols, _ = model.edges()
    if method == "dense":
        return _dense_thermodynamics(model, gamma, temps, rows, cols)
    return _sector_thermodynamics(model, gamma, temps, group, rows, cols)


def _bond_mean(k: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """sum over bonds of s_i s_j / n_bonds for basis states k."""
    if rows.size == 0:
        return np.zeros(k.shape)
    total = np.zeros(k.shape)
    for i, j in zip(rows, cols):
        total += 1 - 2 * (((k >> i) ^ (k >> j)) & 1)
    return total / rows.size


def _dense_thermodynamics(
    model: Ising, gamma: np.ndarray, temps: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> QuantumThermodynamics:
    n = model.n_spins
    size = 2**n
    check_memory(
        f"full diagonalisation for N = {n} spins",
        8.0 * size * size * 3.2,
        hint=f"full diagonalisation of N = {n} needs {format_bytes(8.0 * size * size * 3)}; use method 'lanczos'",
    )
    w, V = eigh(dense_hamiltonian(model, gamma), overwrite_a=True, check_finite=False)
    k = np.arange(size, dtype=np.int64)
    # <n| sx_i |n> = sum_k V[k, n] V[k ^ 2^i, n]
    sx_sites_n = np.empty((n, size))
    for i in range(n):
        sx_sites_n[i] = np.sum(V * V[k ^ (1 << i)], axis=0)
    prob = V * V  # |<k|n>|^2
    zz_n = _bond_mean(k, rows, cols) @ prob
    lz, energy, heat, mx, mzz, weights = _thermal_sums(temps, w, sx_sites_n.mean(axis=0), zz_n)
    spins = (1 - 2 * ((k[:, None] >> np.arange(n)[None, :]) & 1)).astype(np.float64)
    basis_p = weights @ prob.T  # (n_T, 2^N): probability of each sz configuration
    szsz_matrix = np.stack([spins.T @ (p[:, None] * spins) for p in basis_p])
    return QuantumThermodynamics(
        n,
        temps,
        lz,
        energy,
        heat,
        mx,
        mzz,
        float(w[0]),
        float(w[1] - w[0]) if size > 1 else float("nan"),
        "dense",
        sx_sites=weights @ sx_sites_n.T,
        szsz_matrix=szsz_matrix,
    )


def _sector_thermodynamics(
    model: Ising, gamma: np.ndarray, temps: np.ndarray, group: SymmetryGroup, rows: np.ndarray, cols: np.ndarray
) -> QuantumThermodynamics:
    n = model.n_spins
    block = 2.0**n / group.order
    check_memory(
        f"full diagonalisation in symmetry sectors for N = {n} spins",
        2.0**n * 40.0 + block * block * 16.0 * 4.0,
        hint="use method 'lanczos' for the ground state",
    )
    table = orbit_table(group)
    active = np.flatnonzero(gamma != 0.0)
    energies = basis_energies(model, table.reps)
    bonds = _bond_mean(table.reps, rows, cols)
    levels, sx_levels, zz_levels = [], [], []
    for sector, copies in _distinct_sectors(group, group.sectors()):
        blk = sector_block(table, sector, energies, active)
        if blk.dimension == 0:
            continue
        flips = blk.flips.toarray()
        H = np.diag(blk.diagonal).astype(flips.dtype) - gamma[0] * flips
        w, V = eigh(H, overwrite_a=True, check_finite=False)
        # <n| sum_i sx_i |n> / N from the flip block; <sz sz> is diagonal in the orbit basis
        sx = np.real(np.sum(V.conj() * (flips @ V), axis=0)) / n
        zz = (np.abs(V) ** 2).T @ bonds[np.searchsorted(table.reps, blk.reps)]
        for _ in copies:
            levels.append(w)
            sx_levels.append(sx)
            zz_levels.append(zz)
    w_all = np.concatenate(levels)
    order = np.argsort(w_all)
    w_all = w_all[order]
    lz, energy, heat, mx, mzz, _ = _thermal_sums(
        temps, w_all, np.concatenate(sx_levels)[order], np.concatenate(zz_levels)[order]
    )
    return QuantumThermodynamics(
        n, temps, lz, energy, heat, mx, mzz, float(w_all[0]), float(w_all[1] - w_all[0]), "sectors"
    )
