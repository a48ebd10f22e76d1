"""The Ising model as an exponential family: natural parameters, sufficient statistics, log-partition.

p_theta(s) = exp(theta . phi(s) - a(theta)) with sufficient statistics phi(s) = (s_i for each
spin, s_i s_j for each edge (i < j)) and natural parameters theta = beta (h_i, J_ij). The
log-partition a(theta) = log sum_s exp(theta . phi(s)) is log Z; it is convex, its gradient is
the vector of mean parameters mu = E_theta[phi(s)] = (<s_i>, <s_i s_j>) and its Hessian the
covariance of phi (the Fisher information). Its conjugate dual gives the variational principle
a(theta) = sup_mu [theta . mu - a*(mu)] (a* = minus the entropy): naive mean field restricts mu to
product distributions mu = (m_i, m_i m_j), so theta . mu(m) + S(m) = log Z_MF(m) <= a(theta).
Exact values by enumeration (n <= 30 spins; the covariance n <= 20).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.exact.enumeration import enumerate_exact, probability_table, state_index_to_spins
from thermolearn.models.ising import Ising
from thermolearn.validation import check_finite_array, check_positive_int, check_spins, check_temperature
from thermolearn.variational._common import check_model, spin_entropy


@dataclass(frozen=True)
class IsingExponentialFamily:
    """The exponential family of Ising models on a fixed graph of ``n_spins`` spins and edges
    (``edge_i[k]``, ``edge_j[k]``), i < j. Parameter vectors are (fields..., couplings...)
    of length n_spins + n_edges; natural parameters are dimensionless (beta times energies)."""

    n_spins: int
    edge_i: np.ndarray
    edge_j: np.ndarray

    @classmethod
    def of_model(cls, model: Ising) -> IsingExponentialFamily:
        """The family on ``model``'s graph (its nonzero couplings)."""
        i, j, _ = check_model(model).edges()
        return cls(model.n_spins, i, j)

    @classmethod
    def complete(cls, n_spins: int) -> IsingExponentialFamily:
        """The family with every pair (i < j) an edge: all pairwise models on n spins."""
        n = check_positive_int("n_spins", n_spins)
        i, j = np.triu_indices(n, k=1)
        return cls(n, i.astype(np.int64), j.astype(np.int64))

    @property
    def n_edges(self) -> int:
        """Number of edges (pair statistics s_i s_j)."""
        return int(self.edge_i.size)

    @property
    def n_parameters(self) -> int:
        """Number of natural parameters: one field per spin plus one coupling per edge."""
        return self.n_spins + self.n_edges

    def _check_theta(self, theta: ArrayLike) -> np.ndarray:
        arr = check_finite_array("theta", theta, ndim=1)
        if arr.size != self.n_parameters:
            raise ValueError(
                f"theta must have {self.n_parameters} entries (n_spins fields + n_edges couplings), got {arr.size}"
            )
        return arr

    def natural_parameters(self, model: Ising, temperature: float) -> np.ndarray:
        """theta = beta (h_1..h_n, J_e for each edge of this family), from ``model`` at temperature T."""
        model = check_model(model)
        if model.n_spins != self.n_spins:
            raise ValueError(f"model has {model.n_spins} spins, the family {self.n_spins}")
        beta = 1.0 / check_temperature(temperature)
        J = model.couplings
        couplings = np.asarray(J[self.edge_i, self.edge_j]).ravel() if self.n_edges else np.zeros(0)
        outside = abs(J).sum() / 2 - np.abs(couplings).sum()
        if outside > 1e-12 * max(1.0, abs(J).sum()):
            raise ValueError("the model has couplings on pairs that are not edges of this family")
        return beta * np.concatenate([model.fields, couplings])

    def model(self, theta: np.ndarray) -> Ising:
        """The Ising model whose Boltzmann distribution at T = 1 is p_theta."""
        theta = self._check_theta(theta)
        n = self.n_spins
        J = np.zeros((n, n))
        J[self.edge_i, self.edge_j] = theta[n:]
        J[self.edge_j, self.edge_i] = theta[n:]
        return Ising.from_dense(J, theta[:n], name="exponential family member")

    def sufficient_statistics(self, states: np.ndarray) -> np.ndarray:
        """phi(s) = (s_i, s_i s_j for edges), shape (n_samples, n_parameters) (or (n_parameters,))."""
        s = check_spins(states, self.n_spins).astype(np.float64)
        out = np.concatenate([s, s[:, self.edge_i] * s[:, self.edge_j]], axis=1)
        return out[0] if np.ndim(states) == 1 else out

    def log_partition(self, theta: np.ndarray) -> float:
        """a(theta) = log sum_s exp(theta . phi(s)), exactly (enumeration, n <= 30)."""
        return enumerate_exact(self.model(theta), 1.0, correlations=False)[0].log_z

    def mean_parameters(self, theta: np.ndarray) -> np.ndarray:
        """mu = E_theta[phi(s)] = grad a(theta): (<s_i>, <s_i s_j> on the edges), exactly."""
        r = enumerate_exact(self.model(theta), 1.0, correlations=True)[0]
        corr = r.extras["correlations"]
        return np.concatenate([r.extras["mean_spins"], corr[self.edge_i, self.edge_j]])

    def fisher_information(self, theta: np.ndarray) -> np.ndarray:
        """Cov_theta[phi(s)] = Hessian of a(theta), exactly (full probability table, n <= 20)."""
        p, _ = probability_table(self.model(theta), 1.0)
        phi = self.sufficient_statistics(state_index_to_spins(np.arange(p.size), self.n_spins))
        mean = p @ phi
        centred = phi - mean
        return (centred * p[:, None]).T @ centred

    def product_mean_parameters(self, magnetizations: np.ndarray) -> np.ndarray:
        """mu(m) = (m_i, m_i m_j): the mean parameters of the product distribution with means m."""
        m = check_finite_array("magnetizations", magnetizations, ndim=1)
        if m.size != self.n_spins or np.any(np.abs(m) > 1):
            raise ValueError(f"magnetizations must have {self.n_spins} entries in [-1, 1]")
        return np.concatenate([m, m[self.edge_i] * m[self.edge_j]])

    def mean_field_objective(self, theta: np.ndarray, magnetizations: np.ndarray) -> float:
        """theta . mu(m) + S(m): the variational objective restricted to product distributions,
        equal to the mean-field bound log Z_MF(m) <= a(theta)."""
        theta = self._check_theta(theta)
        mu = self.product_mean_parameters(magnetizations)
        return float(theta @ mu + np.sum(spin_entropy(np.asarray(magnetizations, dtype=np.float64))))
