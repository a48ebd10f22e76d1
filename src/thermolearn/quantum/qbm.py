"""Quantum Boltzmann machines (Amin, Andriyash, Rolfe, Kulchytskyy and Melko, PRX 8, 021050, 2018).

A fully visible QBM is the transverse-field Ising Hamiltonian

    H = -sum_i Gamma_i sx_i - sum_i b_i sz_i - sum_{i<j} w_ij sz_i sz_j   (k_B = 1, beta = 1),

whose model distribution of the visible spins v is the diagonal of the density matrix,
P(v) = Tr[Lambda_v e^{-H}] / Z with Lambda_v = |v><v| and Z = Tr e^{-H}. At Gamma = 0 it is the
classical Boltzmann machine P(v) = e^{-E(v)} / Z.

Training maximises the log-likelihood L = sum_v q(v) ln P(v) of the data distribution q. Exact
gradients come from the full diagonalisation H = U diag(E) U^T (N <= MAX_EXACT_VISIBLE): the
negative phase is -<dH/dtheta> in the thermal state; the positive phase needs
d ln Tr[Lambda_v e^{-H}], which by Duhamel's formula is

    d Tr[Lambda_v e^{-H}] = -sum_{mn} U_vm U_vn K_mn (U^T dH U)_mn,
    K_mn = (e^{-E_n} - e^{-E_m}) / (E_m - E_n)   (e^{-E_m} when E_m = E_n).

The bound-based bQBM replaces ln Tr[Lambda_v e^{-H}] by its Golden-Thompson lower bound -E(v)
(the classical energy of v; sx has no diagonal), so P(v) >= e^{-E(v)} / Z and the bound's positive
phase is the classical data average; its Gamma gradient only pushes Gamma to 0, so bQBM keeps
Gamma fixed. The experiment of the paper is :func:`train_qbm` on :func:`mode_mixture` data.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike

from thermolearn.models.ising import Ising
from thermolearn.progress import progress_bar
from thermolearn.quantum.hamiltonian import check_transverse, dense_hamiltonian, diagonal_energies, spin_table
from thermolearn.randomness.seeds import SeedLike, numpy_generator
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int

QBM_MODELS = ("bm", "bqbm", "qbm")
"""bm: classical Boltzmann machine (Gamma = 0); bqbm: trained on the Golden-Thompson bound with Gamma
fixed; qbm: exact log-likelihood gradients, Gamma trained too."""

MAX_EXACT_VISIBLE = 12
"""The largest N the exact QBM accepts: it diagonalises a 2^N x 2^N matrix every step."""


@dataclass
class QBMParameters:
    """b (N,) longitudinal fields, w (N, N) symmetric couplings with zero diagonal, gamma (N,) >= 0."""

    biases: np.ndarray
    couplings: np.ndarray
    gamma: np.ndarray

    @classmethod
    def checked(cls, biases: ArrayLike, couplings: ArrayLike, gamma: ArrayLike) -> QBMParameters:
        """Parameters after the checks: finite, real, shapes agreeing, w symmetric with zero diagonal, gamma >= 0."""
        b = check_finite_array("biases", biases, ndim=1)
        n = b.shape[0]
        if not 1 <= n <= MAX_EXACT_VISIBLE:
            raise ValueError(
                f"the exact QBM diagonalises a 2^N x 2^N matrix and allows 1 <= N <= {MAX_EXACT_VISIBLE} visible "
                f"spins, got N = {n}"
            )
        w = check_finite_array("couplings", couplings, ndim=2)
        if w.shape != (n, n):
            raise ValueError(f"couplings must have shape ({n}, {n}), got {w.shape}")
        if not np.allclose(w, w.T) or np.any(np.diag(w) != 0):
            raise ValueError("couplings must be symmetric with a zero diagonal")
        g = check_transverse(gamma, n, "gamma")
        return cls(b, w, g)

    @property
    def n_visible(self) -> int:
        """Number of visible spins N."""
        return int(self.biases.shape[0])

    def ising(self) -> Ising:
        """The diagonal part as an Ising model (J = w, h = b)."""
        return Ising.from_dense(self.couplings, self.biases)

    def copy(self) -> QBMParameters:
        """An independent copy (arrays copied)."""
        return QBMParameters(self.biases.copy(), self.couplings.copy(), self.gamma.copy())

    def as_dict(self) -> dict:
        """The parameters as a JSON-ready dict: biases, couplings and transverse fields gamma."""
        return {"biases": self.biases.tolist(), "couplings": self.couplings.tolist(), "gamma": self.gamma.tolist()}


# ------------------------------------------------------------------------------ data
def mode_mixture(n_visible: int, n_modes: int, p: float, seed: SeedLike = 0) -> tuple[np.ndarray, np.ndarray]:
    """The data distribution of Amin et al.: q(v) = (1/M) sum_k p^{N - d_k(v)} (1 - p)^{d_k(v)}, with
    d_k(v) the Hamming distance from v to the random centre k (each spin agrees with probability p).

    Returns (q over the 2^N states in the basis order of :func:`spin_table`, centres (M, N) int8).
    """
    n = check_positive_int("n_visible", n_visible)
    m = check_positive_int("n_modes", n_modes)
    p = check_positive_float("p", p)
    if not p <= 1:
        raise ValueError(f"p must be a probability in (0, 1], got {p}")
    if n > MAX_EXACT_VISIBLE:
        raise ValueError(f"n_visible must be at most {MAX_EXACT_VISIBLE} for the exact distribution, got {n}")
    rng = numpy_generator(seed)
    centres = (1 - 2 * rng.integers(0, 2, size=(m, n))).astype(np.int8)
    states = spin_table(n).astype(np.int64)
    distance = (n - states @ centres.T.astype(np.int64)) // 2  # (2^N, M)
    log_terms = (n - distance) * math.log(p)
    if p < 1:
        log_terms = log_terms + distance * math.log1p(-p)
    else:
        # p = 1: (1 - p)^d is 0 away from a centre and 1 on it (0^0); d * log(0) there was 0 * -inf = NaN
        log_terms = np.where(distance == 0, log_terms, -np.inf)
    q = np.mean(np.exp(log_terms), axis=1)
    return q / q.sum(), centres


def _check_distribution(q, n_states: int) -> np.ndarray:
    q = check_finite_array("data distribution q", q, ndim=1)
    if q.shape != (n_states,):
        raise ValueError(f"data distribution q must have {n_states} entries (one per state), got {q.shape[0]}")
    if np.any(q < 0) or not math.isclose(q.sum(), 1.0, rel_tol=0, abs_tol=1e-9):
        raise ValueError(f"data distribution q must be >= 0 and sum to 1, got sum {q.sum()}")
    return q


def kl_divergence(q: np.ndarray, model: np.ndarray) -> float:
    """KL(q || P) = sum_v q(v) ln(q(v) / P(v)) in nats (terms with q = 0 contribute 0)."""
    mask = q > 0
    return float(np.sum(q[mask] * (np.log(q[mask]) - np.log(model[mask]))))


def log_likelihood(q: np.ndarray, model: np.ndarray) -> float:
    """The exact average log-likelihood sum_v q(v) ln P(v) (nats per sample)."""
    mask = q > 0
    return float(np.sum(q[mask] * np.log(model[mask])))


# ------------------------------------------------------------------------------ the exact QBM
@dataclass
class QBMState:
    """The diagonalised QBM: eigenvalues E_m (shifted by E_0), eigenvectors U (columns), the
    Boltzmann weights e^{-(E_m - E_0)} and ln Z."""

    params: QBMParameters
    spins: np.ndarray
    energies: np.ndarray
    vectors: np.ndarray | None
    weights: np.ndarray
    log_z: float

    @classmethod
    def of(cls, params: QBMParameters) -> QBMState:
        """Diagonalise H (2^N x 2^N, dense) or, at Gamma = 0, read off its diagonal."""
        spins = spin_table(params.n_visible)
        if not np.any(params.gamma):
            energies = diagonal_energies(params.ising())
            vectors = None  # H is diagonal: U = identity
        else:
            energies, vectors = scipy.linalg.eigh(dense_hamiltonian(params.ising(), params.gamma), driver="evd")
        ground = float(np.min(energies))
        weights = np.exp(-(energies - ground))
        return cls(params, spins, energies - ground, vectors, weights, math.log(weights.sum()) - ground)

    def probabilities(self) -> np.ndarray:
        """P(v) = <v| e^{-H} |v> / Z for every basis state v."""
        z = self.weights.sum()
        if self.vectors is None:
            return self.weights / z
        return (self.vectors**2) @ self.weights / z

    def bound_probabilities(self) -> np.ndarray:
        """The Golden-Thompson lower bound P(v) >= e^{-E(v)} / Z, E(v) the classical energy of v."""
        classical = diagonal_energies(self.params.ising())
        return np.exp(-classical - self.log_z)

    def _thermal_sx(self) -> np.ndarray:
        """<sx_i> = Tr[rho sx_i] = sum_k rho_{k, k^i} (sx_i flips bit i of the basis index)."""
        n = self.params.n_visible
        if self.vectors is None:
            return np.zeros(n)
        scaled = self.vectors * (self.weights / self.weights.sum())
        index = np.arange(2**n)
        return np.array([np.sum(scaled * self.vectors[index ^ (1 << i)]) for i in range(n)])

    def thermal_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(<sz_i>, <sz_i sz_j>, <sx_i>) in the thermal state rho = e^{-H}/Z: -d ln Z / d(b, w, Gamma)."""
        p = self.probabilities()
        s = self.spins.astype(np.float64)
        return p @ s, s.T @ (p[:, None] * s), self._thermal_sx()

    def positive_phase(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """sum_v q(v) d ln Tr[Lambda_v e^{-H}] / d(b, w, Gamma) by Duhamel's formula in the eigenbasis."""
        s = self.spins.astype(np.float64)
        n = self.params.n_visible
        if self.vectors is None:  # classical: ln Tr[Lambda_v e^{-H}] = -E(v)
            return q @ s, s.T @ (q[:, None] * s), np.zeros(n)
        u, e = self.vectors, self.energies
        diag = (u**2) @ self.weights  # Tr[Lambda_v e^{-H}] (times e^{E_0})
        c = np.where(q > 0, q / np.maximum(diag, np.finfo(float).tiny), 0.0)
        a = u.T @ (c[:, None] * u)  # A_mn = sum_v c_v U_vm U_vn
        low = np.minimum.outer(e, e)
        gap = np.abs(np.subtract.outer(e, e))
        # K_mn = (e^{-E_n} - e^{-E_m}) / (E_m - E_n) = e^{-min} (1 - e^{-|d|}) / |d|, -> e^{-E} as d -> 0
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(gap > 1e-12, -np.expm1(-gap) / gap, 1.0 - gap / 2)
        kernel = np.exp(-low) * ratio
        ub = u @ (a * kernel)  # G = U (A o K) U^T, needed only on the diagonal and at single flips
        g_diag = np.sum(ub * u, axis=1)
        index = np.arange(2**n)
        g_flip = np.array([np.sum(ub * u[index ^ (1 << i)]) for i in range(n)])
        # dH/db_i = -sz_i etc., so sum_v q_v d ln T_v = +Tr[G sz_i], Tr[G sz_i sz_j], Tr[G sx_i]
        return g_diag @ s, s.T @ (g_diag[:, None] * s), g_flip


@dataclass
class QBMGradient:
    """d L / d(b, w, Gamma) (ascent direction); ``gamma`` is zero where Gamma is not trained."""

    biases: np.ndarray
    couplings: np.ndarray
    gamma: np.ndarray


def log_likelihood_gradient(params: QBMParameters, q: np.ndarray, model: str = "qbm") -> QBMGradient:
    """Gradient of sum_v q(v) ln P(v) (``qbm``, exact, Gamma included), of the Golden-Thompson bound
    sum_v q(v) (-E(v)) - ln Z (``bqbm``, Gamma fixed) or of the classical BM log-likelihood (``bm``,
    Gamma must be 0): positive phase minus the thermal (negative) phase."""
    if model not in QBM_MODELS:
        raise ValueError(f"model must be one of {', '.join(QBM_MODELS)}, got {model!r}")
    if model == "bm" and np.any(params.gamma):
        raise ValueError("the classical BM has gamma = 0")
    q = _check_distribution(q, 2**params.n_visible)
    state = QBMState.of(params)
    return _gradient(state, q, model)


def _gradient(state: QBMState, q: np.ndarray, model: str) -> QBMGradient:
    mz, mzz, mx = state.thermal_moments()
    if model == "qbm":
        pz, pzz, px = state.positive_phase(q)
        gamma_grad = px - mx
    else:  # the bound's positive phase is the classical data average; Gamma is not trained
        s = state.spins.astype(np.float64)
        pz, pzz = q @ s, s.T @ (q[:, None] * s)
        gamma_grad = np.zeros_like(mx)
    gw = pzz - mzz
    np.fill_diagonal(gw, 0.0)
    return QBMGradient(pz - mz, gw, gamma_grad)


def golden_thompson_bound(params: QBMParameters, q: np.ndarray) -> float:
    """The bQBM objective sum_v q(v) ln(e^{-E(v)} / Z) <= sum_v q(v) ln P(v) (nats per sample)."""
    q = _check_distribution(q, 2**params.n_visible)
    return log_likelihood(q, QBMState.of(params).bound_probabilities())


# ------------------------------------------------------------------------------ training
@dataclass
class QBMTraining:
    """KL(q || P) and the exact log-likelihood after every epoch (one full-batch update, nats)."""

    model: str
    params: QBMParameters
    kl: np.ndarray
    log_likelihood: np.ndarray
    bound: np.ndarray
    entropy: float
    seconds: float
    settings: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The training as a JSON-ready dict: KL, log-likelihood and Golden-Thompson bound per epoch (nats), data
        entropy."""
        return {
            "model": self.model,
            "kl": self.kl.tolist(),
            "log_likelihood": self.log_likelihood.tolist(),
            "golden_thompson_bound": self.bound.tolist(),
            "data_entropy": self.entropy,
            "final_gamma": self.params.gamma.tolist(),
            "seconds": self.seconds,
            "settings": self.settings,
        }


def train_qbm(
    q: np.ndarray,
    model: str = "qbm",
    *,
    epochs: int = 100,
    learning_rate: float = 0.1,
    gamma: float = 2.0,
    init_scale: float = 0.01,
    seed: SeedLike = 0,
    progress: bool | None = None,
) -> QBMTraining:
    """Fit a fully visible BM, bQBM or QBM to the distribution ``q`` (over 2^N states) by Adam ascent
    on exact full-batch gradients; ``gamma`` is the initial (qbm) or fixed (bqbm) transverse field.

    An epoch is one update from the whole distribution; KL(q || P), sum q ln P and the Golden-Thompson
    bound are recorded after each. Gamma stays >= 0 (projected).
    """
    if model not in QBM_MODELS:
        raise ValueError(f"model must be one of {', '.join(QBM_MODELS)}, got {model!r}")
    q = check_finite_array("data distribution q", q, ndim=1)
    n = int(round(math.log2(max(q.shape[0], 1))))
    if 2**n != q.shape[0]:
        raise ValueError(f"data distribution q must have 2^N entries, got {q.shape[0]}")
    if n > MAX_EXACT_VISIBLE:
        raise ValueError(
            f"the exact QBM diagonalises a 2^N x 2^N matrix and allows N <= {MAX_EXACT_VISIBLE} visible spins, got {n}"
        )
    q = _check_distribution(q, 2**n)
    epochs = check_positive_int("epochs", epochs)
    lr = check_positive_float("learning_rate", learning_rate)
    scale = check_positive_float("init_scale", init_scale)
    g0 = 0.0 if model == "bm" else check_positive_float("gamma", gamma)
    rng = numpy_generator(seed)
    w = rng.normal(0.0, scale, (n, n))
    w = np.triu(w, 1) + np.triu(w, 1).T
    params = QBMParameters.checked(rng.normal(0.0, scale, n), w, np.full(n, g0))
    entropy = -float(np.sum(q[q > 0] * np.log(q[q > 0])))
    adam = _Adam(lr)
    kl, ll, bound = np.empty(epochs), np.empty(epochs), np.empty(epochs)
    start = time.perf_counter()
    state = QBMState.of(params)
    with progress_bar(total=epochs, desc=f"train {model}", progress=progress, worthwhile=n >= 8) as bar:
        for e in range(epochs):
            grad = _gradient(state, q, model)
            step = adam.step([grad.biases, grad.couplings, grad.gamma])
            params.biases += step[0]
            params.couplings += step[1]
            if model == "qbm":
                params.gamma = np.maximum(params.gamma + step[2], 0.0)
            state = QBMState.of(params)
            ll[e] = log_likelihood(q, state.probabilities())
            kl[e] = -entropy - ll[e]
            bound[e] = log_likelihood(q, state.bound_probabilities())
            bar.update()
    return QBMTraining(
        model,
        params,
        kl,
        ll,
        bound,
        entropy,
        time.perf_counter() - start,
        {"epochs": epochs, "learning_rate": lr, "gamma": g0, "init_scale": scale, "optimizer": "adam"},
    )


class _Adam:
    """Adam (Kingma and Ba) for gradient ascent on a list of arrays."""

    def __init__(self, rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.rate, self.beta1, self.beta2, self.eps = rate, beta1, beta2, eps
        self.t = 0
        self.m: list[np.ndarray] | None = None
        self.v: list[np.ndarray] | None = None

    def step(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        if self.m is None or self.v is None:
            self.m = [np.zeros_like(g) for g in grads]
            self.v = [np.zeros_like(g) for g in grads]
        self.t += 1
        out = []
        for k, g in enumerate(grads):
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * g
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * g * g
            m_hat = self.m[k] / (1 - self.beta1**self.t)
            v_hat = self.v[k] / (1 - self.beta2**self.t)
            out.append(self.rate * m_hat / (np.sqrt(v_hat) + self.eps))
        return out
