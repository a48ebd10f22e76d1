"""Langevin samplers of a posterior energy U(theta) = -log p(theta | data): ULA, SGLD, MALA and HMC.

Step convention (Welling and Teh 2011): a Langevin step of size eta moves
theta -> theta - (eta / 2) grad U(theta) + sqrt(eta) xi, xi ~ N(0, I), so eta is the variance
of the injected noise and the drift is half of it times the force (units of theta^2).

- ``ula``: unadjusted Langevin at fixed eta. Biased: on a Gaussian of precision Lambda its
  stationary covariance is (Lambda (I - eta Lambda / 4))^-1 exactly
  (:func:`ula_stationary_covariance`; in 1D s^2 / (1 - eta / (4 s^2))), and it diverges for
  eta >= 4 / lambda_max.
- ``sgld``: stochastic-gradient Langevin, the force from a minibatch of S data scaled by N / S,
  steps eta_t = a (b + t)^-gamma written as eta_t = step * (b / (b + t))^gamma (step = eta_0).
- ``mala``: the Langevin step as a proposal with a Metropolis-Hastings test: exact for any eta.
- ``hmc``: a particle of mass m with friction gamma (generalised HMC, Horowitz 1991): the
  momentum is partly refreshed, p -> c p + sqrt(1 - c^2) sqrt(m) xi with c = exp(-gamma eps L),
  then L leapfrog steps of size eps = ``step`` and a Metropolis test on H = U + p^2 / (2 m)
  (momentum reversed on rejection). No friction (``friction=None``) refreshes fully: plain HMC;
  small friction keeps the momentum: underdamped Langevin dynamics made exact.

All chains run in one compiled JAX program, float64; each step's random numbers come from
the run's key folded with the step number, so a run resumed from a checkpoint is bit-identical
to one never stopped. A state that leaves every finite bound (|theta| > ``divergence_bound``,
or NaN) stops the run with :class:`DivergenceError`, which carries the last good state; a
non-finite gradient at a finite state does too.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.dynamics.posteriors import Posterior
from thermolearn.file_contents import FileContents
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.storage import save_arrays
from thermolearn.validation import check_finite_array, check_positive_float, check_positive_int

SAMPLERS = ("ula", "sgld", "mala", "hmc")
CHECKPOINT_FORMAT = "thermolearn.langevin-checkpoint"
CHECKPOINT_VERSION = 1
DEFAULT_DIVERGENCE_BOUND = 1e12
_STATUS = {1: "non-finite gradient", 2: "diverged"}


class DivergenceError(ValueError):
    """The dynamics left every finite bound or met a non-finite gradient.

    ``step``: the step (0-based) at which it happened; ``last_good``: the chains' last good
    states (n_chains, dim); ``reason``: "diverged" or "non-finite gradient".
    """

    def __init__(self, message: str, *, step: int, last_good: np.ndarray, reason: str):
        super().__init__(message)
        self.step = step
        self.last_good = last_good
        self.reason = reason


def ula_stationary_covariance(precision: np.ndarray | float, step: float) -> np.ndarray:
    """Exact stationary covariance of unadjusted Langevin with step eta on N(mu, Lambda^-1):
    the fixed point of Sigma = A Sigma A^T + eta I with A = I - eta Lambda / 2, which is
    (Lambda (I - eta Lambda / 4))^-1 (units of theta^2). Raises ValueError when
    eta >= 4 / lambda_max (no stationary state: the chain diverges)."""
    lam = np.atleast_2d(np.asarray(precision, dtype=np.float64))
    if lam.shape[0] != lam.shape[1] or not np.all(np.isfinite(lam)):
        raise ValueError(f"precision must be a finite square matrix, got shape {lam.shape}")
    eta = check_positive_float("step", step)
    lam = 0.5 * (lam + lam.T)
    top = float(np.linalg.eigvalsh(lam).max())
    if eta * top >= 4.0:
        raise ValueError(
            f"unadjusted Langevin with step {eta:g} has no stationary state here: it needs step < 4 / lambda_max "
            f"= {4.0 / top:.6g}"
        )
    cov = np.linalg.inv(lam @ (np.eye(lam.shape[0]) - 0.25 * eta * lam))
    return 0.5 * (cov + cov.T)


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo average with its autocorrelation-aware standard error."""

    mean: float
    stderr: float
    tau: float
    reliable: bool


def _estimate(chains: np.ndarray) -> Estimate:
    from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = integrated_autocorrelation_time(chains)
    return Estimate(a.mean, a.stderr, a.tau, a.reliable)


@dataclass(frozen=True)
class LangevinResult:
    """Samples of a Langevin run and the averages made from them.

    ``samples``: (n_chains, n_records, dim), after ``burn_in`` steps, every ``thin``-th step.
    ``acceptance``: Metropolis acceptance rate (MALA, HMC) or None. ``final_state``: the chains'
    states after the last step. ``step_sizes``: eta_t at the first and last step.
    """

    posterior: Posterior
    sampler: str
    samples: np.ndarray
    acceptance: float | None
    final_state: np.ndarray
    settings: dict[str, Any]
    resumed_from: int = 0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def mean_estimates(self) -> list[Estimate]:
        """<theta_k> per coordinate, with errors from tau_int of the pooled chains."""
        if "mean" not in self._cache:
            self._cache["mean"] = [_estimate(self.samples[:, :, k]) for k in range(self.samples.shape[2])]
        out: list[Estimate] = self._cache["mean"]
        return out

    @property
    def mean(self) -> np.ndarray:
        """Mean <theta_k> of the sampled law per coordinate, from the pooled chains (units of theta)."""
        return np.array([e.mean for e in self.mean_estimates()])

    @property
    def mean_stderr(self) -> np.ndarray:
        """Standard error of :attr:`mean` per coordinate (autocorrelation-aware, units of theta)."""
        return np.array([e.stderr for e in self.mean_estimates()])

    def cov_estimates(self) -> tuple[np.ndarray, np.ndarray]:
        """Covariance entries <(theta_i - m_i)(theta_j - m_j)> and their errors (tau_int of
        each product series about the pooled means)."""
        if "cov" not in self._cache:
            d = self.samples.shape[2]
            x = self.samples - self.samples.reshape(-1, d).mean(axis=0)
            cov = np.zeros((d, d))
            err = np.zeros((d, d))
            for i in range(d):
                for j in range(i, d):
                    e = _estimate(x[:, :, i] * x[:, :, j])
                    cov[i, j] = cov[j, i] = e.mean
                    err[i, j] = err[j, i] = e.stderr
            self._cache["cov"] = (cov, err)
        out: tuple[np.ndarray, np.ndarray] = self._cache["cov"]
        return out

    @property
    def cov(self) -> np.ndarray:
        """Covariance <(theta_i - m_i)(theta_j - m_j)> of the sampled law, from the pooled chains (units of theta
        squared)."""
        return self.cov_estimates()[0]

    def mode_weights(self) -> list[Estimate] | None:
        """Fraction of samples in each mode of a multimodal posterior (None when it has one mode)."""
        if self.posterior.mode_of is None or self.posterior.exact_mode_weights is None:
            return None
        labels = self.posterior.mode_of(self.samples)
        n_modes = len(self.posterior.exact_mode_weights)
        return [_estimate((labels == m).astype(np.float64)) for m in range(n_modes)]

    def as_dict(self) -> dict[str, Any]:
        """The CLI's JSON record: mean, cov, exact_mean, exact_cov, mean_stderr (+ mode weights)."""
        p = self.posterior
        cov, cov_err = self.cov_estimates()
        record: dict[str, Any] = {
            "model": p.name,
            "sampler": self.sampler,
            "mean": self.mean.tolist(),
            "mean_stderr": self.mean_stderr.tolist(),
            "cov": cov.tolist(),
            "cov_stderr": cov_err.tolist(),
            "exact_mean": None if p.exact_mean is None else p.exact_mean.tolist(),
            "exact_cov": None if p.exact_cov is None else p.exact_cov.tolist(),
            "tau": [e.tau for e in self.mean_estimates()],
            "reliable": all(e.reliable for e in self.mean_estimates()),
            "acceptance": self.acceptance,
            "n_chains": int(self.samples.shape[0]),
            "n_records": int(self.samples.shape[1]),
            "resumed_from": self.resumed_from,
            "settings": self.settings,
        }
        weights = self.mode_weights()
        if weights is not None and p.exact_mode_weights is not None:
            record["mode_weights"] = [w.mean for w in weights]
            record["mode_weights_stderr"] = [w.stderr for w in weights]
            record["exact_mode_weights"] = p.exact_mode_weights.tolist()
        if self.sampler == "ula" and p.exact_cov is not None:
            try:
                record["ula_predicted_cov"] = ula_stationary_covariance(
                    np.linalg.inv(p.exact_cov), self.settings["step"]
                ).tolist()
            except ValueError:
                record["ula_predicted_cov"] = None
        return record


# ------------------------------------------------------------------------------ the compiled steps
@functools.lru_cache(maxsize=32)
def _compiled_chunk(posterior_key: tuple, sampler: str, n_chains: int, length: int, batch: int, leapfrog: int):
    """One jitted program: ``length`` steps of all chains from step ``t0``."""
    import jax
    import jax.numpy as jnp

    log_prior, log_likelihood, params, n_data = posterior_key

    def energy(theta, data):
        u = -log_prior(theta, params)
        if log_likelihood is not None and n_data:
            u = u - jax.vmap(lambda *d: log_likelihood(theta, d, params))(*data).sum()
        return u

    value_and_grad = jax.value_and_grad(energy)

    def minibatch_grad(theta, data, key):
        idx = jax.random.choice(key, n_data, (batch,), replace=False)
        sub = tuple(d[idx] for d in data)

        def u(th):
            per = jax.vmap(lambda *d: log_likelihood(th, d, params))(*sub)
            return -log_prior(th, params) - (n_data / batch) * per.sum()

        return jax.grad(u)(theta)

    def one_chain(state, key, t, data, hyper):
        theta, u, g, mom = state
        step, offset, power, mass, refresh, bound = hyper
        k_noise, k_batch, k_accept = jax.random.split(key, 3)
        xi = jax.random.normal(k_noise, theta.shape, dtype=theta.dtype)
        accepted = jnp.asarray(True)
        if sampler in ("ula", "sgld"):
            if sampler == "sgld":
                eta = step * (offset / (offset + t)) ** power
                g = minibatch_grad(theta, data, k_batch)
            else:
                eta = step
                u, g = value_and_grad(theta, data)
            grad_ok = jnp.all(jnp.isfinite(g))
            new = theta - 0.5 * eta * g + jnp.sqrt(eta) * xi
            new_state = (new, u, g, mom)
        elif sampler == "mala":
            grad_ok = jnp.all(jnp.isfinite(g)) & jnp.isfinite(u)
            fwd = theta - 0.5 * step * g
            prop = fwd + jnp.sqrt(step) * xi
            u2, g2 = value_and_grad(prop, data)
            back = prop - 0.5 * step * g2
            log_alpha = u - u2 - (jnp.sum((theta - back) ** 2) - jnp.sum((prop - fwd) ** 2)) / (2.0 * step)
            ok = jnp.isfinite(log_alpha) & jnp.all(jnp.isfinite(g2))
            accepted = ok & (jnp.log(jax.random.uniform(k_accept, dtype=theta.dtype)) < log_alpha)
            new_state = (
                jnp.where(accepted, prop, theta),
                jnp.where(accepted, u2, u),
                jnp.where(accepted, g2, g),
                mom,
            )
        else:  # hmc
            grad_ok = jnp.all(jnp.isfinite(g)) & jnp.isfinite(u)
            p = refresh * mom + jnp.sqrt((1.0 - refresh * refresh) * mass) * xi
            h0 = u + jnp.sum(p * p) / (2.0 * mass)

            def leap(carry, _):
                q, pq, gq = carry
                pq = pq - 0.5 * step * gq
                q = q + step * pq / mass
                _, gq = value_and_grad(q, data)
                pq = pq - 0.5 * step * gq
                return (q, pq, gq), None

            (q, pq, gq), _ = jax.lax.scan(leap, (theta, p, g), None, length=leapfrog)
            uq = energy(q, data)
            h1 = uq + jnp.sum(pq * pq) / (2.0 * mass)
            ok = jnp.isfinite(h1) & jnp.all(jnp.isfinite(gq))
            accepted = ok & (jnp.log(jax.random.uniform(k_accept, dtype=theta.dtype)) < h0 - h1)
            new_state = (
                jnp.where(accepted, q, theta),
                jnp.where(accepted, uq, u),
                jnp.where(accepted, gq, g),
                jnp.where(accepted, pq, -p),
            )
        in_bounds = jnp.all(jnp.isfinite(new_state[0])) & (jnp.max(jnp.abs(new_state[0])) <= bound)
        code = jnp.where(grad_ok, jnp.where(in_bounds, 0, 2), 1).astype(jnp.int64)
        return new_state, accepted, code

    def chunk(state, status, bad_step, t0, root, data, hyper):
        def body(carry, t):
            state, status, bad_step = carry
            keys = jax.random.split(jax.random.fold_in(root, t), n_chains)
            new, accepted, codes = jax.vmap(one_chain, in_axes=(0, 0, None, None, None))(state, keys, t, data, hyper)
            code = jnp.max(codes)
            go = (status == 0) & (code == 0)
            state = jax.tree.map(lambda a, b: jnp.where(go, a, b), new, state)
            bad_step = jnp.where((status == 0) & (code != 0), t, bad_step)
            status = jnp.where(status == 0, code, status)
            return (state, status, bad_step), (state[0], accepted & go)

        ts = t0 + jnp.arange(length)
        (state, status, bad_step), (thetas, accepted) = jax.lax.scan(body, (state, status, bad_step), ts)
        return state, status, bad_step, thetas, accepted

    return jax.jit(chunk)


@functools.lru_cache(maxsize=32)
def _compiled_start(posterior_key: tuple):
    import jax

    log_prior, log_likelihood, params, n_data = posterior_key

    def energy(theta, data):
        u = -log_prior(theta, params)
        if log_likelihood is not None and n_data:
            u = u - jax.vmap(lambda *d: log_likelihood(theta, d, params))(*data).sum()
        return u

    return jax.jit(jax.vmap(jax.value_and_grad(energy), in_axes=(0, None)))


def _posterior_key(p: Posterior) -> tuple:
    return (p.log_prior, p.log_likelihood, tuple(float(x) for x in p.params), p.n_data)


def _data_digest(p: Posterior) -> str:
    digest = hashlib.sha256(p.name.encode())
    for a in p.data:
        arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    digest.update(np.asarray(p.params, dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


# ------------------------------------------------------------------------------ the run
def run_langevin(
    posterior: Posterior,
    sampler: str = "mala",
    *,
    step: float,
    steps: int,
    n_chains: int = 8,
    burn_in: int | None = None,
    thin: int = 1,
    batch_size: int = 10,
    decay_offset: float = 1000.0,
    decay_power: float = 0.55,
    mass: float = 1.0,
    friction: float | None = None,
    leapfrog_steps: int = 1,
    init: np.ndarray | None = None,
    init_spread: float = 0.0,
    divergence_bound: float = DEFAULT_DIVERGENCE_BOUND,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 2000,
    chunk: int = 2000,
    progress: bool | None = None,
) -> LangevinResult:
    """Sample ``posterior`` with ``n_chains`` chains of ``sampler`` for ``steps`` steps of size
    ``step`` (eta for ULA/SGLD/MALA, the leapfrog eps for HMC); keep every ``thin``-th state
    after ``burn_in`` steps (default steps // 5). Chains start at ``init`` (default the
    posterior's) plus N(0, init_spread^2) jitter. SGLD uses ``batch_size`` data per step and
    eta_t = step (b / (b + t))^gamma with b = ``decay_offset``, gamma = ``decay_power``. HMC
    takes ``mass``, ``friction`` (None: full momentum refresh) and ``leapfrog_steps``.
    With ``checkpoint``, the run is saved every ``checkpoint_every`` steps and resumed from it.
    Raises :class:`DivergenceError` (a ValueError) when the dynamics diverge.
    """
    import jax
    import jax.numpy as jnp

    if not isinstance(posterior, Posterior):
        raise TypeError(f"posterior must be a Posterior, got {type(posterior).__name__}")
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    step = check_positive_float("step", step)
    steps = check_positive_int("steps", steps)
    n_chains = check_positive_int("n_chains", n_chains)
    thin = check_positive_int("thin", thin)
    burn_in = steps // 5 if burn_in is None else check_positive_int("burn_in", burn_in, minimum=0)
    if burn_in + thin > steps:
        raise ValueError(f"burn_in ({burn_in}) + thin ({thin}) must not exceed steps ({steps}): nothing to record")
    mass = check_positive_float("mass", mass)
    leapfrog = check_positive_int("leapfrog_steps", leapfrog_steps)
    offset = check_positive_float("decay_offset", decay_offset)
    power = float(decay_power)
    if not (math.isfinite(power) and power >= 0):
        raise ValueError(f"decay_power must be a finite number >= 0, got {decay_power}")
    refresh = 0.0
    if friction is not None:
        refresh = math.exp(-check_positive_float("friction", friction) * step * leapfrog)
    bound = check_positive_float("divergence_bound", divergence_bound)
    seed = check_int_seed(seed)
    spread = float(init_spread)
    if not (math.isfinite(spread) and spread >= 0):
        raise ValueError(f"init_spread must be a finite number >= 0, got {init_spread}")
    batch = 0
    if sampler == "sgld":
        if posterior.n_data == 0:
            raise ValueError(f"sgld needs data to draw minibatches from; the {posterior.name} posterior has none")
        batch = check_positive_int("batch_size", batch_size)
        if batch > posterior.n_data:
            raise ValueError(f"batch_size {batch} is larger than the data ({posterior.n_data} points)")
    start = posterior.init if init is None else init
    start = check_finite_array("init", start, ndim=1)
    if start.shape[0] != posterior.dim:
        raise ValueError(f"init must have {posterior.dim} entries (the posterior's dimension), got {start.shape[0]}")
    chunk = check_positive_int("chunk", chunk)
    if checkpoint is not None:
        if not Path(checkpoint).resolve().parent.is_dir():
            raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
        chunk = check_positive_int("checkpoint_every", checkpoint_every)
    settings = {
        "posterior": posterior.name,
        "data": _data_digest(posterior),
        "sampler": sampler,
        "step": step,
        "steps": steps,
        "n_chains": n_chains,
        "burn_in": burn_in,
        "thin": thin,
        "batch_size": batch,
        "decay_offset": offset,
        "decay_power": power,
        "mass": mass,
        "friction": friction,
        "leapfrog_steps": leapfrog,
        "init": start.tolist(),
        "init_spread": spread,
        "divergence_bound": bound,
        "seed": seed,
        "chunk": chunk,
    }
    n_records = (steps - burn_in) // thin
    with jax.enable_x64(True):
        key = jax.random.key(seed)
        k_init, root = jax.random.split(key)
        theta0 = jnp.asarray(start)[None, :] + spread * jax.random.normal(k_init, (n_chains, posterior.dim))
        data = tuple(jnp.asarray(np.asarray(d, dtype=np.float64)) for d in posterior.data)
        pkey = _posterior_key(posterior)
        u0, g0 = _compiled_start(pkey)(theta0, data)
        state = (theta0, u0, g0, jnp.zeros_like(theta0))
        samples = np.zeros((n_chains, n_records, posterior.dim))
        accepted = np.zeros(n_chains, dtype=np.int64)
        done = 0
        if checkpoint is not None and Path(checkpoint).is_file():
            state, samples, accepted, done = _resume(checkpoint, settings, state, samples, accepted)
        resumed_from = done
        hyper = tuple(jnp.asarray(x, dtype=jnp.float64) for x in (step, offset, power, mass, refresh, bound))
        with progress_bar(
            total=steps,
            initial=done,
            desc=f"langevin {sampler}",
            unit="step",
            progress=progress,
            worthwhile=steps > 5000,
        ) as bar:
            while done < steps:
                length = min(chunk, steps - done)
                run = _compiled_chunk(pkey, sampler, n_chains, length, batch, leapfrog)
                status0 = jnp.asarray(0, dtype=jnp.int64)
                bad0 = jnp.asarray(-1, dtype=jnp.int64)
                state, status, bad_step, thetas, acc = run(
                    state, status0, bad0, jnp.asarray(done, dtype=jnp.int64), root, data, hyper
                )
                thetas_np = np.asarray(thetas)  # (length, chains, dim)
                acc_np = np.asarray(acc)
                status_i = int(status)
                upto = length if status_i == 0 else int(bad_step) - done
                ts = np.arange(done, done + upto)
                keep = (ts >= burn_in) & ((ts - burn_in) % thin == thin - 1)
                idx = (ts[keep] - burn_in) // thin
                samples[:, idx, :] = np.transpose(thetas_np[:upto][keep], (1, 0, 2))
                accepted += acc_np[:upto].sum(axis=0)
                if status_i != 0:
                    reason = _STATUS[status_i]
                    last = np.asarray(state[0])
                    raise DivergenceError(
                        _divergence_message(sampler, reason, int(bad_step), step, bound),
                        step=int(bad_step),
                        last_good=last,
                        reason=reason,
                    )
                done += length
                bar.update(length)
                if checkpoint is not None:
                    _save(checkpoint, settings, state, samples, accepted, done)
        final = np.asarray(state[0])
    acceptance = None if sampler in ("ula", "sgld") else float(accepted.sum() / (steps * n_chains))
    return LangevinResult(posterior, sampler, samples, acceptance, final, settings, resumed_from)


def _divergence_message(sampler: str, reason: str, at: int, step: float, bound: float) -> str:
    if reason == "diverged":
        return (
            f"{sampler} diverged at step {at}: |theta| exceeded {bound:g} (step size {step:g} is too large for this "
            f"posterior's curvature); stopped with the last good state; choose a smaller --step"
        )
    return (
        f"{sampler} met a non-finite gradient of U at step {at} (at a finite state); stopped with the last good "
        f"state; the energy is not differentiable there"
    )


# ------------------------------------------------------------------------------ checkpoints
def _save(path, settings, state, samples, accepted, done) -> None:
    arrays = {f"state:{i}": np.asarray(a) for i, a in enumerate(state)}
    arrays["samples"] = samples
    arrays["accepted"] = accepted
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "run": settings, "steps_done": int(done)}
    save_arrays(path, arrays, header)


def _resume(path, settings, state, samples, accepted):
    import jax.numpy as jnp

    contents = FileContents.read(path)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="Langevin checkpoint")
    contents.expect_run(settings)
    done = int(contents.value("steps_done", int, minimum=0, maximum=settings["steps"]))
    names = [f"state:{i}" for i in range(len(state))]
    contents.expect_names([*names, "samples", "accepted"])
    new_state = tuple(jnp.asarray(contents.array(n, shape=np.shape(a), dtype=np.float64)) for n, a in zip(names, state))
    new_samples = contents.array("samples", shape=samples.shape, dtype=np.float64)
    new_accepted = contents.array("accepted", kinds="iu", shape=accepted.shape, minimum=0, dtype=np.int64)
    return new_state, new_samples.copy(), new_accepted.copy(), done
