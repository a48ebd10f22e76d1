"""Quantum: the transverse-field Ising model exactly, path-integral Monte Carlo, quantum annealing,
quantum Boltzmann machines and RBM neural quantum states.

H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i (k_B = 1, energies are totals).
"""

from thermolearn.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
