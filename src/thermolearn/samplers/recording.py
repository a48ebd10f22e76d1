"""Recording inside the kernels: a block of measured sweeps in one call, no Python between records.

A run (:func:`thermolearn.runs.sample`) records every chain's energy and magnetisation (and, when
asked, its spins into per-batch site sums and its states) every ``thin`` sweeps. Calling the
sampler once per record costs tens of microseconds of Python per call, more than a sweep of a
small lattice takes; a sampler that declares ``records_in_kernel`` instead runs ``count`` records
of ``thin`` sweeps in one call and its kernel writes each record where the run keeps it, with the
same numbers, bit for bit, as one call per record.

:class:`Records` names those arrays (the run's own, whole, with the first record's index, so
every call hands the kernels arrays of one type) and :func:`record_chain` is the kernels' writer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thermolearn.kernel_cache import njit


@dataclass(frozen=True)
class Records:
    """Where ``count`` records starting at record index ``first`` go: ``energy`` and
    ``magnetization`` (n_chains, n_samples) float64; ``site_sums`` (n_chains, n_batches, n_spins or
    0) float64 with ``batch_of`` (n_samples,) int64 giving each record's batch; ``states``
    (n_chains, n_samples, n_spins) int8, or (0, 0, 0) when states are not kept."""

    first: int
    count: int
    energy: np.ndarray
    magnetization: np.ndarray
    site_sums: np.ndarray
    batch_of: np.ndarray
    states: np.ndarray

    def kernel_arguments(self, thin: int) -> tuple:
        """``(thin, first, count, energy, magnetization, site_sums, batch_of, states)`` as the kernels take them."""
        return (
            int(thin),
            int(self.first),
            int(self.count),
            self.energy,
            self.magnetization,
            self.site_sums,
            self.batch_of,
            self.states,
        )

    def write(self, k: int, energy: np.ndarray, magnetization: np.ndarray, spins: np.ndarray) -> None:
        """Record ``k`` of every chain from Python (for samplers that record outside their kernels)."""
        self.energy[:, k] = energy
        self.magnetization[:, k] = magnetization
        if self.site_sums.shape[2]:
            self.site_sums[:, self.batch_of[k], :] += spins
        if self.states.shape[0]:
            self.states[:, k, :] = spins


def no_records() -> tuple:
    """The kernel arguments of a call that records nothing (the same array types as a real record)."""
    return (
        1,
        0,
        0,
        np.empty((0, 0)),
        np.empty((0, 0)),
        np.empty((0, 0, 0)),
        np.empty(0, dtype=np.int64),
        np.empty((0, 0, 0), dtype=np.int8),
    )


def empty_states() -> np.ndarray:
    """The ``states`` of :class:`Records` when a run keeps no states."""
    return np.empty((0, 0, 0), dtype=np.int8)


@njit(inline="always")
def record_chain(chain, k, s, energy, magnetization, rec_energy, rec_magnetization, site_sums, batch_of, states):
    """Record ``k`` of one chain: its energy and magnetisation, its spins ``s`` added to its batch's
    site sums (when kept) and copied into the states (when kept)."""
    rec_energy[chain, k] = energy
    rec_magnetization[chain, k] = magnetization
    if site_sums.shape[2] > 0:
        row = site_sums[chain, batch_of[k]]
        for i in range(s.size):
            row[i] += s[i]
    if states.shape[0] > 0:
        for i in range(s.size):
            states[chain, k, i] = s[i]
