"""Quantum: the transverse-field Ising model exactly, path-integral Monte Carlo, quantum annealing,
quantum Boltzmann machines and RBM neural quantum states.

H = -sum_{i<j} J_ij sz_i sz_j - sum_i h_i sz_i - sum_i Gamma_i sx_i (k_B = 1, energies are totals).

- :func:`diagonal_energies`, :func:`dense_hamiltonian`, :func:`sparse_hamiltonian`,
  :func:`hamiltonian_operator` — H on any :class:`~thermolearn.models.Ising` graph (basis index k:
  spin i is +1 when bit i of k is 0).
- :func:`low_spectrum` (dense, Lanczos, Lanczos in momentum / spin-flip sectors: 24+ spins) and
  :func:`thermodynamics` (ln Z, E, C, <sx>, <sz sz> from the whole spectrum, N <= 14).
- :func:`run_pimc` / :class:`PIMCRun` — path-integral Monte Carlo (Suzuki-Trotter) with
  :func:`trotter_exact` (the exact Trotterised values) and :func:`extrapolate_trotter` (a + b/M^2);
  :func:`simulated_quantum_annealing` — SQA as an optimiser.
- :func:`chain_ground_energy`, :func:`chain_gap`, :func:`chain_thermodynamics`,
  :func:`infinite_chain_ground_energy_per_spin`, :func:`infinite_chain_free_energy_per_spin` —
  the 1D chain by free fermions (parity-projected on periodic chains).
- QBMs (:func:`train_qbm`, :func:`mode_mixture`, :func:`golden_thompson_bound`), RBM wave functions
  (:class:`RBMWaveFunction`) and VMC with stochastic reconfiguration (:func:`run_vmc`).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.quantum.exact import (
        SPECTRUM_METHODS,
        THERMAL_METHODS,
        LowSpectrum,
        QuantumThermodynamics,
        low_spectrum,
        thermodynamics,
    )
    from thermolearn.quantum.free_fermions import (
        ChainSpectrum,
        ChainThermodynamics,
        chain_gap,
        chain_ground_energy,
        chain_log_partition,
        chain_low_levels,
        chain_sectors,
        chain_thermodynamics,
        infinite_chain_free_energy_per_spin,
        infinite_chain_gap,
        infinite_chain_ground_energy_per_spin,
    )
    from thermolearn.quantum.hamiltonian import (
        MAX_DENSE_SPINS,
        HamiltonianOperator,
        check_transverse,
        dense_hamiltonian,
        diagonal_energies,
        hamiltonian_operator,
        sparse_hamiltonian,
        spin_table,
        transverse_chain,
    )
    from thermolearn.quantum.nqs import (
        PARAMETER_TYPES,
        RBMWaveFunction,
        TransverseIsing,
        local_energies,
        transverse_ising,
    )
    from thermolearn.quantum.pimc import (
        PIMC_SAMPLERS,
        Extrapolation,
        PIMCResult,
        PIMCRun,
        TrotterExact,
        extrapolate_trotter,
        run_pimc,
        trotter_couplings,
        trotter_exact,
    )
    from thermolearn.quantum.qbm import (
        MAX_EXACT_VISIBLE,
        QBM_MODELS,
        QBMParameters,
        QBMState,
        QBMTraining,
        golden_thompson_bound,
        log_likelihood_gradient,
        mode_mixture,
        train_qbm,
    )
    from thermolearn.quantum.quantum_annealing import SQAResult, SQARun, simulated_quantum_annealing
    from thermolearn.quantum.vmc import (
        SR_SOLVERS,
        VMCResult,
        energy_and_gradient,
        metropolis_sweeps,
        run_vmc,
        sr_direction,
    )

_EXPORTS = {
    "PIMC_SAMPLERS": "pimc",
    "Extrapolation": "pimc",
    "PIMCResult": "pimc",
    "PIMCRun": "pimc",
    "TrotterExact": "pimc",
    "extrapolate_trotter": "pimc",
    "run_pimc": "pimc",
    "trotter_couplings": "pimc",
    "trotter_exact": "pimc",
    "SQAResult": "quantum_annealing",
    "SQARun": "quantum_annealing",
    "simulated_quantum_annealing": "quantum_annealing",
    "SPECTRUM_METHODS": "exact",
    "THERMAL_METHODS": "exact",
    "LowSpectrum": "exact",
    "QuantumThermodynamics": "exact",
    "low_spectrum": "exact",
    "thermodynamics": "exact",
    "ChainSpectrum": "free_fermions",
    "ChainThermodynamics": "free_fermions",
    "chain_gap": "free_fermions",
    "chain_ground_energy": "free_fermions",
    "chain_log_partition": "free_fermions",
    "chain_low_levels": "free_fermions",
    "chain_sectors": "free_fermions",
    "chain_thermodynamics": "free_fermions",
    "infinite_chain_free_energy_per_spin": "free_fermions",
    "infinite_chain_gap": "free_fermions",
    "infinite_chain_ground_energy_per_spin": "free_fermions",
    "MAX_DENSE_SPINS": "hamiltonian",
    "HamiltonianOperator": "hamiltonian",
    "check_transverse": "hamiltonian",
    "dense_hamiltonian": "hamiltonian",
    "diagonal_energies": "hamiltonian",
    "hamiltonian_operator": "hamiltonian",
    "sparse_hamiltonian": "hamiltonian",
    "spin_table": "hamiltonian",
    "transverse_chain": "hamiltonian",
    "PARAMETER_TYPES": "nqs",
    "RBMWaveFunction": "nqs",
    "TransverseIsing": "nqs",
    "local_energies": "nqs",
    "transverse_ising": "nqs",
    "MAX_EXACT_VISIBLE": "qbm",
    "QBM_MODELS": "qbm",
    "QBMParameters": "qbm",
    "QBMState": "qbm",
    "QBMTraining": "qbm",
    "golden_thompson_bound": "qbm",
    "log_likelihood_gradient": "qbm",
    "mode_mixture": "qbm",
    "train_qbm": "qbm",
    "SR_SOLVERS": "vmc",
    "VMCResult": "vmc",
    "energy_and_gradient": "vmc",
    "metropolis_sweeps": "vmc",
    "run_vmc": "vmc",
    "sr_direction": "vmc",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
