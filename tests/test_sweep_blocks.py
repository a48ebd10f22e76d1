"""A block of sweeps in one call equals the same sweeps one call at a time, bit for bit: spins,
generator states, the running E and M, and the move counts. ``sample`` relies on it to run the
sweeps between two records (burn-in, thinning) in one kernel call, and a resumed run cuts its
calls elsewhere than the run it continues."""

from __future__ import annotations

import numpy as np
import pytest

from thermolearn import Ising
from thermolearn.samplers import ChainState
from thermolearn.samplers.registry import make_sampler


def _models():
    rng = np.random.default_rng(4)
    n = 14
    J = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.4), 1)
    return {
        "lattice 16x16": Ising.lattice((16, 16)),
        "lattice 6x6 field": Ising.lattice((6, 6), field=0.3),
        "cubic 4x4x4": Ising.lattice((4, 4, 4)),
        "random graph": Ising.from_dense(J + J.T, rng.normal(size=n) * 0.2),
        "ferro graph": Ising.from_dense(np.abs(J + J.T), rng.normal(size=n) * 0.2),
    }


MODELS = _models()
CASES = [
    ("metropolis", {}, ["lattice 16x16", "lattice 6x6 field", "cubic 4x4x4", "random graph"]),
    ("metropolis", {"order": "random"}, ["lattice 16x16", "random graph"]),
    ("metropolis", {"order": "checkerboard"}, ["lattice 16x16", "cubic 4x4x4"]),
    ("heatbath", {}, ["lattice 16x16", "random graph"]),
    ("heatbath", {"order": "random"}, ["lattice 6x6 field"]),
    ("wolff", {}, ["lattice 16x16", "lattice 6x6 field", "ferro graph"]),
    ("sw", {}, ["lattice 16x16", "lattice 6x6 field", "ferro graph"]),
    ("sw", {"strip_sites": 1, "strip_rows": 3}, ["lattice 16x16", "lattice 6x6 field"]),
    ("metropolis-msc", {}, ["lattice 16x16"]),
    ("pt", {"temperatures": [1.5, 2.2, 3.0]}, ["lattice 16x16", "random graph"]),
    ("pt", {"temperatures": [1.5, 2.2, 3.0], "base": "wolff", "exchange_every": 3}, ["ferro graph"]),
]


def _run(name, options, model, cuts):
    sampler = make_sampler(name, **options)
    k = len(options.get("temperatures", [])) or 1
    chains = 64 if name == "metropolis-msc" else 2 * k
    state = ChainState.new(model, chains, seed=21)
    betas = np.tile(1.0 / np.sort(np.asarray(options["temperatures"])), 2) if k > 1 else np.array([0.45, 0.3])
    if name == "metropolis-msc":
        betas = np.full(chains, 0.45)
    accepted = np.zeros(chains, dtype=np.int64)
    attempted = np.zeros(chains, dtype=np.int64)
    for n in cuts:
        stats = sampler.sweep(model, state, betas, n)
        accepted += stats.accepted
        attempted += stats.attempted
    return state, accepted, attempted, sampler.info() if hasattr(sampler, "info") else None


@pytest.mark.parametrize(
    ("name", "options", "model"),
    [(n, o, m) for n, o, models in CASES for m in models],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_a_block_of_sweeps_equals_the_same_sweeps_one_call_at_a_time(name, options, model):
    one_by_one = _run(name, options, MODELS[model], [1] * 12)
    blocks = _run(name, options, MODELS[model], [5, 1, 6])
    whole = _run(name, options, MODELS[model], [12])
    for other in (blocks, whole):
        for field in ("spins", "rng", "energy", "magnetization"):
            assert np.array_equal(getattr(one_by_one[0], field), getattr(other[0], field)), field
        assert np.array_equal(one_by_one[1], other[1]) and np.array_equal(one_by_one[2], other[2])
        assert one_by_one[3] == other[3]
    # the chains moved: the comparison is not between untouched states
    assert one_by_one[1].sum() > 0
