"""Replica overlaps and the spin-glass order parameter, with disorder averages.

Two replicas a, b of one instance, drawn independently from exp(-beta E) / Z, have the overlap
q = (1/N) sum_i s_i^a s_i^b (dimensionless, in [-1, 1]) and the link overlap
q_l = (1/N_b) sum_(ij) s_i^a s_j^a s_i^b s_j^b over the N_b coupled pairs. From the thermal moments
<q^2>, <q^4> of each instance come the spin-glass susceptibility chi_SG = N [<q^2>] and the Binder
ratio g = (3 - [<q^4>] / [<q^2>]^2) / 2 (0 for Gaussian q, 1 for q = +-q_EA), with [.] the
average over disorder samples; error bars are a delete-one-sample jackknife over the samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from thermolearn.estimators.jackknife import jackknife
from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.validation import check_finite_array, check_positive_int, check_spins


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.ndim == 0:
        raise ValueError(f"replicas a and b must have the same shape (..., n_spins), got {a.shape} and {b.shape}")
    n = a.shape[-1]
    a = check_spins(a.reshape(-1, n), n, name="replica a")
    b = check_spins(b.reshape(-1, n), n, name="replica b")
    return a, b


def overlap(a: ArrayLike, b: ArrayLike) -> np.ndarray | float:
    """q = (1/N) sum_i a_i b_i for each pair of rows of two replica arrays of shape (..., N) (+-1 spins)."""
    shape = np.shape(a)[:-1]
    x, y = _pair(a, b)
    # int32 products: int8 sums of N > 127 terms would overflow
    q = (x.astype(np.int32) * y).sum(axis=1) / x.shape[1]
    return float(q[0]) if shape == () else q.reshape(shape)


def link_overlap(a: ArrayLike, b: ArrayLike, model: Ising) -> np.ndarray | float:
    """q_l = (1/N_b) sum_(i<j, J_ij != 0) a_i a_j b_i b_j over the model's coupled pairs."""
    check_ising_model(model)
    shape = np.shape(a)[:-1]
    x, y = _pair(a, b)
    if x.shape[1] != model.n_spins:
        raise ValueError(f"replicas have {x.shape[1]} spins and the model {model.n_spins}")
    i, j, _ = model.edges()
    if i.size == 0:
        raise ValueError("the model has no coupled pairs: the link overlap is undefined")
    t = x.astype(np.int32) * y  # t_i = a_i b_i, so a_i a_j b_i b_j = t_i t_j
    ql = (t[:, i] * t[:, j]).sum(axis=1) / i.size
    return float(ql[0]) if shape == () else ql.reshape(shape)


def overlap_distribution(q: ArrayLike, n_spins: int) -> tuple[np.ndarray, np.ndarray]:
    """P(q) of measured overlaps on the exact grid q = -1, -1 + 2/N, ..., 1: ``(values, probabilities)``."""
    n_spins = check_positive_int("n_spins", n_spins)
    q = check_finite_array("q", q).ravel()
    if q.size == 0 or not np.all(np.abs(q) <= 1.0 + 1e-12):
        raise ValueError("q must be a non-empty list of overlaps in [-1, 1]")
    k = np.rint((q + 1.0) * n_spins / 2.0).astype(np.int64)  # q = 2k/N - 1, k = number of agreeing spins
    counts = np.bincount(k, minlength=n_spins + 1)
    return np.arange(n_spins + 1) * 2.0 / n_spins - 1.0, counts / q.size


@dataclass(frozen=True)
class DisorderAverage:
    """Disorder averages of overlap moments over ``n_samples`` instances with jackknife error bars.

    ``q2``, ``q4``, ``abs_q``: [<q^2>], [<q^4>], [<|q|>] (mean, stderr over samples);
    ``chi_sg``: N [<q^2>]; ``binder``: g = (3 - [<q^4>] / [<q^2>]^2) / 2 (jackknife, bias-corrected);
    ``link``: [<q_l>] when link overlaps were given.
    """

    n_samples: int
    n_spins: int
    q2: tuple[float, float]
    q4: tuple[float, float]
    abs_q: tuple[float, float]
    chi_sg: tuple[float, float]
    binder: tuple[float, float]
    link: tuple[float, float] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The averages as a JSON-ready dict: [<q^2>], [<q^4>], [<|q|>], chi_SG, Binder g and link overlap with
        errors."""

        def pair(v: tuple[float, float] | None) -> dict[str, float] | None:
            return None if v is None else {"mean": float(v[0]), "stderr": float(v[1])}

        return {
            "n_samples": self.n_samples,
            "n_spins": self.n_spins,
            "q2": pair(self.q2),
            "q4": pair(self.q4),
            "abs_q": pair(self.abs_q),
            "chi_sg": pair(self.chi_sg),
            "binder": pair(self.binder),
            "link_overlap": pair(self.link),
        }


def _mean_stderr(x: np.ndarray) -> tuple[float, float]:
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def binder_ratio(q: ArrayLike) -> float:
    """g = (3 - <q^4> / <q^2>^2) / 2 of one list of overlaps (thermal, one instance)."""
    q = check_finite_array("q", q if q is not None else []).ravel()
    if q.size == 0:
        raise ValueError("q must be a non-empty list of overlaps")
    m2 = float(np.mean(q**2))
    if m2 == 0.0:
        raise ValueError("every overlap is 0: the Binder ratio <q^4> / <q^2>^2 is undefined")
    return 0.5 * (3.0 - float(np.mean(q**4)) / m2**2)


def disorder_average(
    overlaps: Sequence[ArrayLike], n_spins: int, link_overlaps: Sequence[ArrayLike] | None = None
) -> DisorderAverage:
    """Disorder averages from the measured overlaps of each instance (one array of q per sample).

    Thermal moments are taken within each sample, then averaged over samples; error bars treat
    the samples as independent (stderr of the mean; delete-one-sample jackknife for the Binder
    ratio), which also contains the thermal noise of each sample's moments.
    """
    k = len(overlaps)
    if k < 2:
        raise ValueError(f"a disorder average with an error bar needs at least 2 samples, got {k}")
    moments = []
    for s, q in enumerate(overlaps):
        q = np.asarray(q, dtype=np.float64).ravel()
        if q.size == 0 or not np.all(np.isfinite(q)) or np.any(np.abs(q) > 1.0 + 1e-12):
            raise ValueError(f"overlaps of sample {s} must be a non-empty list of numbers in [-1, 1]")
        moments.append((np.mean(q**2), np.mean(q**4), np.mean(np.abs(q))))
    links = None
    if link_overlaps is not None:
        if len(link_overlaps) != k:
            raise ValueError(f"give link overlaps for each of the {k} samples, got {len(link_overlaps)}")
        links = [float(np.mean(np.asarray(x, dtype=np.float64))) for x in link_overlaps]
    m = np.array(moments)
    return disorder_average_of_moments(m[:, 0], m[:, 1], m[:, 2], n_spins, links)


def disorder_average_of_moments(
    q2: ArrayLike, q4: ArrayLike, abs_q: ArrayLike, n_spins: int, links: ArrayLike | None = None
) -> DisorderAverage:
    """Disorder averages from each sample's thermal moments <q^2>, <q^4>, <|q|> (and mean link
    overlap): the same numbers as :func:`disorder_average` of the overlaps they came from, for
    studies that keep moments per sample (checkpoints, tempering runs) rather than every q."""
    n_spins = check_positive_int("n_spins", n_spins)  # chi_sg = N <q^2>: a wrong N is a wrong chi_sg
    q2, q4, aq = (np.asarray(x, dtype=np.float64).ravel() for x in (q2, q4, abs_q))
    k = q2.size
    if k < 2:
        raise ValueError(f"a disorder average with an error bar needs at least 2 samples, got {k}")
    if q4.size != k or aq.size != k:
        raise ValueError(f"give <q^2>, <q^4> and <|q|> for each of the {k} samples, got {q4.size} and {aq.size}")
    if not (np.all(np.isfinite(q2)) and np.all(np.isfinite(q4)) and np.all(np.isfinite(aq))):
        raise ValueError("moments of q must be finite numbers")
    if np.any(q2 < 0) or np.any(q2 > 1) or np.any(q4 < 0) or np.any(q4 > 1) or np.any(aq < 0) or np.any(aq > 1):
        raise ValueError("moments of q must lie in [0, 1] (|q| <= 1)")
    if np.mean(q2) == 0.0:
        raise ValueError("every overlap is 0: the Binder ratio is undefined")
    binder = jackknife(lambda a, b: 0.5 * (3.0 - b / a**2), q2, q4, n_blocks=k)
    link = None
    if links is not None:
        ql = np.asarray(links, dtype=np.float64).ravel()
        if ql.size != k:
            raise ValueError(f"give link overlaps for each of the {k} samples, got {ql.size}")
        link = _mean_stderr(ql)
    m2 = _mean_stderr(q2)
    return DisorderAverage(
        n_samples=k,
        n_spins=int(n_spins),
        q2=m2,
        q4=_mean_stderr(q4),
        abs_q=_mean_stderr(aq),
        chi_sg=(n_spins * m2[0], n_spins * m2[1]),
        binder=(float(binder.estimate), float(binder.stderr)),
        link=link,
    )
