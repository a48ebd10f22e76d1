"""Disorder ensembles: many spin-glass instances as one object, each with its own seed.

A spin-glass observable is a disorder average [<A>] over coupling realisations J; each sample k
of a :class:`DisorderEnsemble` is built from its own integer seed (``seeds[k]``), so any single
instance can be rebuilt on its own and the ensemble is the same on every run and machine.

- ``'ea'``: Edwards-Anderson on a periodic square or cubic lattice (sides >= 3), couplings
  ``'pm'`` (J_ij = +-1), ``'gaussian'`` (J_ij ~ Normal(0, 1)) or ``'ferro'`` (J_ij = 1, the
  clean reference; every sample is the same model, with its lattice geometry, so Kaufman applies).
- ``'sk'``: Sherrington-Kirkpatrick, J_ij ~ Normal(0, 1 / N) on all pairs (T_c = 1).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from thermolearn.file_contents import FileContents
from thermolearn.models.ising import Ising
from thermolearn.models.lattice import lattice_bonds
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.resources import check_memory
from thermolearn.storage import save_arrays
from thermolearn.validation import check_positive_int

ENSEMBLE_KINDS = ("ea", "sk")
COUPLING_KINDS = ("pm", "gaussian", "ferro")
#: bytes per coupling of one built instance: CSR value + column index (both ways) and the
#: dense float64 matrix that the SK constructor draws and checks
_BYTES_PER_SK_PAIR = 40
_BYTES_PER_EA_BOND = 48


def sample_seeds(seed: int, n_samples: int) -> tuple[int, ...]:
    """``n_samples`` instance seeds (integers in [0, 2^63)) drawn from the ensemble seed: the
    same ``seed`` always gives the same list, and a longer list starts with the shorter one."""
    seed = check_int_seed(seed)
    n_samples = check_positive_int("n_samples", n_samples)
    check_memory(f"seeds of {n_samples} disorder samples", 16.0 * n_samples)
    words = np.random.SeedSequence(seed).generate_state(n_samples, dtype=np.uint64)
    return tuple(int(w >> np.uint64(1)) for w in words)


def check_lattice_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    """A periodic square or cubic lattice shape: 2 or 3 sides, each >= 3 (a side of 2 would
    put two bonds between the same pair of spins)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        raise ValueError(f"shape must list 2 or 3 sides like (4, 4) or (4, 4, 4), got {shape!r}")
    dims = tuple(check_positive_int("lattice side", side, minimum=3) for side in shape)  # type: ignore[union-attr]
    if len(dims) not in (2, 3):
        raise ValueError(f"shape must have 2 (square) or 3 (cubic) sides, got {len(dims)}: {dims}")
    return dims


def edwards_anderson_instance(shape: Sequence[int], couplings: str = "pm", seed: int = 0) -> Ising:
    """One Edwards-Anderson instance on a periodic lattice of ``shape``: E = -sum_<ij> J_ij s_i s_j
    with J_ij drawn per bond (``'pm'`` +-1, ``'gaussian'`` Normal(0, 1); ``'ferro'``: J = 1)."""
    dims = check_lattice_shape(shape)
    if couplings not in COUPLING_KINDS:
        raise ValueError(f"couplings must be one of {', '.join(COUPLING_KINDS)}, got {couplings!r}")
    _check_lattice_memory(dims)
    if couplings == "ferro":
        return Ising.lattice(dims, 1.0)  # keeps the geometry: Kaufman and the lattice kernels apply
    n = int(np.prod(dims))
    bonds = lattice_bonds(dims, (True,) * len(dims))
    i = np.concatenate([b[0] for b in bonds])
    j = np.concatenate([b[1] for b in bonds])
    rng = numpy_generator(seed)
    # one draw per bond in a fixed order (axis by axis, site by site), so a seed is one instance
    w = rng.choice(np.array([-1.0, 1.0]), size=i.size) if couplings == "pm" else rng.normal(size=i.size)
    mat = sp.coo_array((np.concatenate([w, w]), (np.concatenate([i, j]), np.concatenate([j, i]))), shape=(n, n))
    return Ising(mat.tocsr(), name=f"EA {'x'.join(map(str, dims))} {couplings} seed={seed}")


def _check_lattice_memory(dims: tuple[int, ...]) -> None:
    """Refuse a lattice whose bonds and couplings cannot fit, before building it."""
    n = float(np.prod(np.array(dims, dtype=np.float64)))
    check_memory(
        f"an Edwards-Anderson lattice {'x'.join(map(str, dims))} ({n:.0f} spins)",
        _BYTES_PER_EA_BOND * n * len(dims) * 2,
        hint="choose a smaller lattice",
    )


@dataclass(frozen=True)
class DisorderEnsemble:
    """``n_samples`` spin-glass instances of one kind, sample k built from ``seeds[k]``.

    ``kind`` is ``'ea'`` (``shape``, ``couplings``) or ``'sk'`` (``n_spins``). Instances are
    built on demand by :meth:`model` (nothing is held), so an ensemble of any size costs its seeds.
    """

    kind: str
    seeds: tuple[int, ...]
    shape: tuple[int, ...] = ()
    couplings: str = "gaussian"

    @property
    def n_samples(self) -> int:
        """Number of disorder samples (one per seed)."""
        return len(self.seeds)

    @property
    def n_spins(self) -> int:
        """Number of spins N per sample: the product of the sides."""
        return int(np.prod(self.shape))

    def model(self, k: int) -> Ising:
        """Instance ``k`` (0 <= k < n_samples), rebuilt from its seed."""
        k = check_positive_int("k", k, minimum=0)
        if k >= self.n_samples:
            raise ValueError(f"k must be a sample index in [0, {self.n_samples}), got {k}")
        if self.kind == "sk":
            model = Ising.sherrington_kirkpatrick(self.n_spins, seed=self.seeds[k])
            model.name = f"SK n={self.n_spins} seed={self.seeds[k]}"
            return model
        return edwards_anderson_instance(self.shape, self.couplings, self.seeds[k])

    def __iter__(self) -> Iterator[Ising]:
        for k in range(self.n_samples):
            yield self.model(k)

    def __len__(self) -> int:
        return self.n_samples

    def describe(self) -> str:
        """A short name: ``SK N=16`` or ``EA 4x4 pm``."""
        if self.kind == "sk":
            return f"SK N={self.n_spins}"
        return f"EA {'x'.join(map(str, self.shape))} {self.couplings}"

    def as_dict(self) -> dict[str, Any]:
        """The ensemble as a JSON-ready dict: kind, shape, N, couplings and seeds."""
        return {
            "kind": self.kind,
            "shape": list(self.shape),
            "n_spins": self.n_spins,
            "couplings": self.couplings,
            "seeds": list(self.seeds),
        }


def sk_ensemble(n_spins: int, n_samples: int, *, seed: int = 0) -> DisorderEnsemble:
    """``n_samples`` Sherrington-Kirkpatrick instances of ``n_spins`` spins (J_ij ~ N(0, 1/N))."""
    n = check_positive_int("n_spins", n_spins, minimum=2)
    # one instance at a time is built: its dense draw and CSR copy must fit
    check_memory(f"an SK instance of {n} spins", float(_BYTES_PER_SK_PAIR) * n * n)
    return DisorderEnsemble("sk", sample_seeds(seed, n_samples), (n,), "gaussian")


def ea_ensemble(shape: Sequence[int], n_samples: int, *, couplings: str = "pm", seed: int = 0) -> DisorderEnsemble:
    """``n_samples`` Edwards-Anderson instances on the periodic lattice ``shape`` (2 or 3 sides >= 3)."""
    dims = check_lattice_shape(shape)
    if couplings not in COUPLING_KINDS:
        raise ValueError(f"couplings must be one of {', '.join(COUPLING_KINDS)}, got {couplings!r}")
    _check_lattice_memory(dims)
    return DisorderEnsemble("ea", sample_seeds(seed, n_samples), dims, couplings)


def derived_seed(instance_seed: int, stream: int) -> int:
    """A run seed for one instance: stream ``stream`` of ``instance_seed``, apart from the stream
    that drew its couplings (the same pair always gives the same integer in [0, 2^63))."""
    instance_seed = check_int_seed(instance_seed)
    stream = check_positive_int("stream", stream, minimum=0)
    word = np.random.SeedSequence([instance_seed, stream]).generate_state(1, np.uint64)[0]
    return int(word >> np.uint64(1))


SAMPLE_CHECKPOINT_FORMAT = "thermolearn.disorder-samples-checkpoint"
SAMPLE_CHECKPOINT_VERSION = 1


class SampleCheckpoint:
    """The finished per-sample results of a study over disorder samples, in one ``.npz`` file.

    Each finished unit of work (a sample, or a sample at one temperature and size) is a JSON
    record under a string key; records are kept as UTF-8 JSON text in an array (floats written by
    ``repr`` read back bit for bit, and no 16 MiB header limit), the study's settings as the
    header's ``run``. A study started again with the same settings skips the keys it finds, so it
    ends with the records of a study never stopped: each unit depends on its own seed only.
    """

    def __init__(self, path: str | os.PathLike | None, run: dict[str, Any], keys: Sequence[str]) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None and not self.path.resolve().parent.is_dir():
            raise ValueError(f"cannot write checkpoint {self.path}: its folder does not exist")
        self.run = json.loads(json.dumps(run))
        self.keys = tuple(keys)
        self._last_save = -math.inf

    def load(self) -> dict[str, Any]:
        """The records the file holds (empty without a file), checked against this study."""
        if self.path is None or not self.path.exists():
            return {}
        contents = FileContents.read(self.path)
        contents.expect_format(
            SAMPLE_CHECKPOINT_FORMAT, [SAMPLE_CHECKPOINT_VERSION], what="disorder-samples checkpoint"
        )
        contents.expect_run(self.run)
        progress = contents.value("progress", dict)
        done = contents.value("records", int, minimum=0, maximum=len(self.keys), within=progress,
                              label="progress 'records'")  # fmt: skip
        contents.expect_names(["records"])
        raw = contents.array("records", kinds="u", ndim=1)
        if raw.dtype != np.uint8:
            raise contents.fail(f"array 'records' must hold UTF-8 text (uint8), got {raw.dtype}")
        digest = contents.value("records_sha256", str, within=progress, label="progress 'records_sha256'")
        if hashlib.sha256(raw.tobytes()).hexdigest() != digest:
            # records are read back into reports as they are: a damaged or edited file is refused whole
            raise contents.fail("array 'records' does not match its digest: the file is damaged or was edited")
        try:
            pairs = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise contents.fail("array 'records' is not UTF-8 JSON") from None
        allowed = set(self.keys)
        if (
            not isinstance(pairs, list)
            or len(pairs) != done
            or not all(isinstance(p, list) and len(p) == 2 and p[0] in allowed for p in pairs)
            or len({p[0] for p in pairs}) != done
        ):
            raise contents.fail(f"array 'records' must list {done} distinct [key, record] pairs of this study")
        return {key: record for key, record in pairs}

    @contextmanager
    def kept(self, records: dict[str, Any]) -> Iterator[None]:
        """Write ``records`` when the block is interrupted (Ctrl-C), so no finished unit is lost."""
        try:
            yield
        except KeyboardInterrupt:
            self.save(records, force=True)
            raise

    def save(self, records: dict[str, Any], *, force: bool = False) -> bool:
        """Write ``records`` atomically if ``force`` or a second has passed since the last write
        (records finish in any order; a kill loses at most a second of work). True if written."""
        now = time.monotonic()
        if self.path is None or not (force or now - self._last_save >= 1.0):
            return False
        text = json.dumps([[key, records[key]] for key in self.keys if key in records]).encode("utf-8")
        arrays = {"records": np.frombuffer(text, dtype=np.uint8)}
        progress = {
            "records": sum(key in records for key in self.keys),
            "records_sha256": hashlib.sha256(text).hexdigest(),
        }
        header = {"format": SAMPLE_CHECKPOINT_FORMAT, "version": SAMPLE_CHECKPOINT_VERSION, "run": self.run,
                  "progress": progress}  # fmt: skip
        save_arrays(self.path, arrays, header)
        self._last_save = now
        return True


def as_record(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples as lists, NumPy numbers as Python ones), so a
    study's results are the same whether computed now or read from a checkpoint."""
    return json.loads(json.dumps(value, default=_json_number))


def _json_number(obj: Any) -> Any:
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")
