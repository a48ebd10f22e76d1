"""Recording inside the kernels (samplers.recording): a sampler with ``records_in_kernel`` runs a
block of recorded sweeps in one call, and ``sample`` gives the same run, bit for bit, as with one
sampler call per record: series, site means, states, move counts, final chains, checkpoints cut
anywhere. (The conformance kit checks the promise of every registered sampler.)"""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.runs.sample import sample
from thermolearn.samplers.cluster import SwendsenWang, Wolff
from thermolearn.samplers.single_spin import HeatBath, Metropolis


class _PythonRecords:
    """The same sampler, recording from Python after one sweep call per record."""

    records_in_kernel = False


def _python_recording(cls):
    return type(f"{cls.__name__}PythonRecords", (_PythonRecords, cls), {"records_in_kernel": False})


CASES = [
    (Metropolis, {}, Ising.lattice((8, 8))),
    (Metropolis, {"order": "checkerboard"}, Ising.lattice((4, 4, 4))),
    (HeatBath, {"order": "random"}, Ising.lattice((6, 6), field=0.3)),
    (Wolff, {}, Ising.lattice((8, 8), field=0.1)),
    (SwendsenWang, {}, Ising.lattice((8, 8))),
    (SwendsenWang, {"strip_sites": 1, "strip_rows": 3}, Ising.lattice((8, 8), field=0.1)),
    (Metropolis, {}, Ising.sherrington_kirkpatrick(12, seed=3)),  # the generic kernel: Python records
]


def _same(a, b) -> None:
    for name in ("energy", "magnetization", "mean_spin", "mean_spin_stderr", "states"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.accepted, a.attempted) == (b.accepted, b.attempted)
    for x, y in zip(a.final_state.arrays().values(), b.final_state.arrays().values()):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize(("cls", "options", "model"), CASES, ids=lambda x: getattr(x, "__name__", None))
def test_records_made_in_the_kernel_equal_records_made_one_call_at_a_time(cls, options, model):
    assert cls.records_in_kernel and not _python_recording(cls).records_in_kernel
    runs = [
        sample(
            model,
            c(**options),
            2.4,
            sweeps=90,
            burn_in=7,
            thin=3,
            n_chains=2,
            seed=5,
            record_states=True,
            n_batches=4,
            progress=False,
        )
        for c in (cls, _python_recording(cls))
    ]
    _same(*runs)


def test_a_checkpointed_run_cut_between_records_resumes_to_the_same_records(tmp_path):
    model = Ising.lattice((8, 8))
    whole = sample(model, "wolff", 2.3, sweeps=200, burn_in=5, thin=4, n_chains=2, seed=1, progress=False)
    path = tmp_path / "ck.npz"
    # checkpoints every 7 sweeps land between records (thin 4): the run alternates in-kernel blocks
    # and single sweeps up to each checkpoint, and a second call resumes the finished file
    cut = sample(
        model,
        "wolff",
        2.3,
        sweeps=200,
        burn_in=5,
        thin=4,
        n_chains=2,
        seed=1,
        checkpoint=path,
        checkpoint_every=7,
        progress=False,
    )
    _same(whole, cut)
    again = sample(
        model,
        "wolff",
        2.3,
        sweeps=200,
        burn_in=5,
        thin=4,
        n_chains=2,
        seed=1,
        checkpoint=path,
        checkpoint_every=7,
        progress=False,
    )
    _same(whole, again)


def test_site_means_off_records_only_the_series():
    model = Ising.lattice((8, 8))
    kept, off = (
        sample(model, "metropolis", 2.5, sweeps=50, n_chains=2, seed=3, site_means=flag, progress=False)
        for flag in (True, False)
    )
    assert off.mean_spin is None and kept.mean_spin is not None
    np.testing.assert_array_equal(kept.energy, off.energy)
    np.testing.assert_array_equal(kept.magnetization, off.magnetization)
