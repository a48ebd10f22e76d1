"""The temperature of SGD: constant-learning-rate SGD on a quadratic loss as a sampler.

Loss L(theta) = (1/S) sum_{i in batch} (A / 2) (theta - z_i)^2 with data z_i of mean 0 and
variance B / A^2, so the population loss (A / 2) theta^2 has curvature A and each per-sample
gradient A (theta - z_i) has variance B at every theta (additive noise). One SGD step,
theta -> (1 - eta A) theta + eta A zbar_batch, is an AR(1) process whose stationary law has
mean 0 and variance

    Var = eta B_S / (A (2 - eta A)),     B_S = B / S  (fresh data each step)
                                         B_S = (B / S) (N - S) / (N - 1)  (S of N data, no replacement)

(exact in discrete time; the SDE limit eta -> 0 gives eta B / (2 S A)), so SGD samples a
Gibbs law exp(-L / T) with temperature T = A Var = eta B / (S (2 - eta A)): at small eta only
the ratio eta / S matters (Mandt, Hoffman and Blei 2017; Jastrzebski et al. 2017). The excess
loss E[L] - L(0) = A Var / 2 = T / 2 is equipartition.

The linear-regression loss (1/S) sum (x_i theta - y_i)^2 / 2 with fresh x ~ N(0, A) and
y = x theta* + N(0, B / A) has the same curvature A and gradient variance B at theta*, but its
noise is multiplicative: the batch's own curvature (1/S) sum x_i^2 fluctuates with variance
kappa / S (kappa = Var x^2 = 2 A^2), which heats the stationary state to

    Var = eta B / (S A (2 - eta A) - eta kappa)

(exact; SGD diverges in mean square when the denominator reaches 0). Its stationary law is
heavy-tailed (Kesten): P(|theta| > x) ~ x^-alpha with E|1 - eta h|^alpha = 1, h the batch's
curvature, so theta^4 has a finite mean only while E[(1 - eta h)^4] < 1 (eta A < 0.3835 at S = 1,
well inside the mean-square limit 2 / 3): beyond it the variance is still finite and measured, but
the estimate's fluctuations are not Gaussian and it has no finite error bar. Everything in units
of theta (variance: theta^2, loss: the loss's units); runs are float64 JAX, chains vectorised.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.storage import save_arrays
from thermolearn.validation import check_positive_float, check_positive_int

CHECKPOINT_FORMAT = "thermolearn.sgd-temperature-checkpoint"
CHECKPOINT_VERSION = 1
LOSSES = ("quadratic", "linear-regression")


def _check_problem(curvature: float, noise: float, batch: int, lr: float, data_size: int | None):
    a = check_positive_float("curvature", curvature)
    b = check_positive_float("noise", noise)
    s = check_positive_int("batch", batch)
    eta = check_positive_float("lr", lr)
    n = None if data_size is None else check_positive_int("data_size", data_size, minimum=2)
    if n is not None and s > n:
        raise ValueError(f"batch {s} is larger than the data (data_size = {n} points); choose batch <= data_size")
    if eta * a >= 2.0:
        raise ValueError(
            f"SGD with lr {eta:g} diverges on curvature {a:g}: it needs lr * curvature < 2 (lr < {2.0 / a:.6g})"
        )
    return a, b, s, eta, n


def sgd_stationary_variance(
    curvature: float,
    noise: float,
    batch: int,
    lr: float,
    *,
    data_size: int | None = None,
    loss: str = "quadratic",
) -> float:
    """Exact stationary variance of constant-lr SGD on the quadratic, eta B_S / (A (2 - eta A))
    (theta^2), with B_S = B / S, times (N - S) / (N - 1) for batches of S of ``data_size`` = N
    data drawn without replacement; on the ``"linear-regression"`` loss (fresh Gaussian inputs)
    eta B / (S A (2 - eta A) - 2 eta A^2). Raises ValueError where SGD diverges."""
    a, b, s, eta, n = _check_problem(curvature, noise, batch, lr, data_size)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if loss == "linear-regression":
        if n is not None:
            raise ValueError("data_size applies to the quadratic loss only (linear regression draws fresh data)")
        denominator = s * a * (2.0 - eta * a) - eta * 2.0 * a * a
        if denominator <= 0:
            raise ValueError(
                f"SGD with lr {eta:g} diverges in mean square on this linear regression (batch {s}): it needs "
                f"lr < 2 S / (A (S + 2)) = {2.0 * s / (a * (s + 2)):.6g}"
            )
        return eta * b / denominator
    bs = b / s if n is None else b / s * (n - s) / (n - 1)
    return eta * bs / (a * (2.0 - eta * a))


def sgd_sde_variance(curvature: float, noise: float, batch: int, lr: float) -> float:
    """The continuous-time (SDE) limit eta B / (2 S A) of the stationary variance (theta^2)."""
    a, b, s, eta, _ = _check_problem(curvature, noise, batch, lr, None)
    return eta * b / (2.0 * s * a)


def _curvature_moments(curvature: float, batch: int, loss: str) -> tuple[float, float, float, float]:
    """E[h^k], k = 1..4, of the curvature h that one SGD step multiplies theta by (1 - eta h):
    the constant A on the quadratic loss; on linear regression h = (1/S) sum x_i^2 with x ~ N(0, A),
    the sampler's draw, i.e. A chi^2_S / S, whose k-th moment is A^k S (S + 2) ... (S + 2k - 2) / S^k."""
    if loss != "linear-regression":
        return curvature, curvature**2, curvature**3, curvature**4
    out, m = [], 1.0
    for k in range(4):
        m *= curvature * (batch + 2 * k) / batch
        out.append(m)
    return out[0], out[1], out[2], out[3]


def sgd_fourth_moment_factor(curvature: float, batch: int, lr: float, *, loss: str = "quadratic") -> float:
    """E[(1 - eta h)^4] over one step's curvature h (see :func:`_curvature_moments`): theta^4 has a
    finite stationary mean, and so the measured variance a finite error bar, only while it is < 1
    (the additive noise has all moments). (1 - eta A)^4 < 1 always on the quadratic loss."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    eta = check_positive_float("lr", lr)
    m1, m2, m3, m4 = _curvature_moments(
        check_positive_float("curvature", curvature), check_positive_int("batch", batch), loss
    )
    return 1.0 - 4.0 * eta * m1 + 6.0 * eta**2 * m2 - 4.0 * eta**3 * m3 + eta**4 * m4


def sgd_finite_error_lr(curvature: float, batch: int, *, loss: str = "quadratic") -> float:
    """The learning rate where E[(1 - eta h)^4] reaches 1: above it the stationary theta^4 has no
    finite mean and the variance estimate no finite error bar. 2 / A (the divergence limit) on the
    quadratic loss; on linear regression the one positive root of the cubic
    m4 u^3 - 4 m3 u^2 + 6 m2 u - 4 = 0 in u = eta A (m_k = E[(h / A)^k]), below 2 S / (A (S + 2))
    (0.3835 / A at S = 1)."""
    a = check_positive_float("curvature", curvature)
    s = check_positive_int("batch", batch)
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")
    if loss != "linear-regression":
        return 2.0 / a
    from scipy.optimize import brentq

    m1, m2, m3, m4 = (m / a**k for k, m in enumerate(_curvature_moments(a, s, loss), start=1))

    # E[(1 - u h/A)^4] - 1 over u: convex, 0 at u = 0 with slope -4, and >= 0 at the mean-square
    # limit (where E[(1 - u h/A)^2] = 1 <= E[(1 - u h/A)^4]^(1/2)): one root in between
    def excess(u: float) -> float:
        return u * (-4.0 * m1 + 6.0 * m2 * u - 4.0 * m3 * u**2 + m4 * u**3)

    return float(brentq(excess, 1e-12, 2.0 * s / (s + 2), xtol=1e-15, rtol=1e-14)) / a


def _tail_index(curvature: float, batch: int, lr: float) -> float:
    """Kesten's tail exponent alpha of the stationary theta on linear regression, the root above 2
    of E|1 - eta h|^alpha = 1 (h = A chi^2_S / S): P(|theta| > x) ~ x^-alpha. Only asked for where
    E[(1 - eta h)^4] >= 1, so alpha lies in (2, 4]."""
    from scipy import integrate, stats
    from scipy.optimize import brentq

    u, s = lr * curvature, batch
    density = stats.chi2(s).pdf
    kink = s / u  # 1 - u y / S changes sign

    def moment(alpha: float) -> float:
        def f(y: float) -> float:
            return abs(1.0 - u * y / s) ** alpha * density(y)

        low = integrate.quad(f, 0.0, kink, limit=200)[0]
        return low + integrate.quad(f, kink, math.inf, limit=200)[0]

    if moment(4.0) <= 1.0:  # at the limit itself, up to the quadrature's rounding
        return 4.0
    return float(brentq(lambda alpha: moment(alpha) - 1.0, 2.0, 4.0, xtol=1e-8))


@dataclass(frozen=True)
class SGDTemperatureResult:
    """A constant-lr SGD run: the theta series (n_chains, n_records) after burn-in, and the
    measured stationary variance and excess loss with autocorrelation-aware errors.

    ``variance_stderr`` is NaN (``None`` in :meth:`as_dict`) where E[(1 - eta h)^4] >= 1: theta^4
    then has no finite mean, so the error of the mean of theta^2 is undefined (heavy tails, index
    ``tail_index``), and ``reliable`` is False."""

    settings: dict[str, Any]
    series: np.ndarray
    variance: float
    variance_stderr: float
    tau: float
    reliable: bool
    theory_variance: float
    sde_variance: float
    resumed_from: int = 0
    fourth_moment_factor: float | None = None  # E[(1 - eta h)^4]: < 1 for a finite error bar
    finite_error_lr: float | None = None  # the lr where that factor reaches 1
    tail_index: float | None = None  # alpha of P(|theta| > x) ~ x^-alpha, where it is <= 4

    @property
    def error_bar_defined(self) -> bool:
        """Whether the variance has a finite error bar (theta^4 of finite mean)."""
        return math.isfinite(self.variance_stderr)

    @property
    def excess_loss(self) -> float:
        """Stationary excess loss <L> - L_min = A Var(theta) / 2 (nats; A the curvature)."""
        return 0.5 * self.settings["curvature"] * self.variance

    @property
    def excess_loss_stderr(self) -> float:
        """Standard error of :attr:`excess_loss` (nats); NaN where the variance has none."""
        return 0.5 * self.settings["curvature"] * self.variance_stderr

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: variance, excess loss and temperature A Var(theta), measured and theory (NaN
        errors as null)."""
        a = self.settings["curvature"]

        def err(x: float) -> float | None:  # JSON has no NaN: an undefined error bar is null
            return x if math.isfinite(x) else None

        return {
            "variance": {"mean": self.variance, "stderr": err(self.variance_stderr)},
            "theory_variance": self.theory_variance,
            "sde_variance": self.sde_variance,
            "excess_loss": {"mean": self.excess_loss, "stderr": err(self.excess_loss_stderr)},
            "theory_excess_loss": 0.5 * a * self.theory_variance,
            "temperature": {"mean": a * self.variance, "stderr": err(a * self.variance_stderr)},
            "theory_temperature": a * self.theory_variance,
            "lr_over_batch": self.settings["lr"] / self.settings["batch"],
            "tau": self.tau,
            "reliable": self.reliable,
            "error_bar_defined": self.error_bar_defined,
            "fourth_moment_factor": self.fourth_moment_factor,
            "finite_error_lr": self.finite_error_lr,
            "tail_index": self.tail_index,
            "resumed_from": self.resumed_from,
            "settings": self.settings,
        }


@functools.lru_cache(maxsize=16)
def _compiled_chunk(n_chains: int, length: int, batch: int, finite: bool, regression: bool = False):
    import jax
    import jax.numpy as jnp

    def chunk(theta, t0, root, data, hyper):
        a, b, eta, s = hyper

        def body(theta, t):
            keys = jax.random.split(jax.random.fold_in(root, t), n_chains)
            if regression:  # fresh (x, y) pairs: x ~ N(0, A), y = x theta* + N(0, B / A), theta* = 0
                xs = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 1), (batch,)))(keys) * jnp.sqrt(a)
                es = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 2), (batch,)))(keys) * jnp.sqrt(b / a)
                theta = theta - eta * (xs * (xs * theta[:, None] - es)).mean(axis=1)
                return theta, theta
            if finite:
                n = data.shape[0]
                idx = jax.vmap(lambda k: jax.random.choice(k, n, (batch,), replace=False))(keys)
                zbar = data[idx].mean(axis=1)
            else:
                # fresh Gaussian data: the mean of S of them is drawn directly (the same law, N(0, B / (A^2 S)))
                zbar = jax.vmap(lambda k: jax.random.normal(k, dtype=theta.dtype))(keys) * jnp.sqrt(b / s) / a
            grad = a * (theta - zbar)  # the minibatch gradient of each chain
            theta = theta - eta * grad
            return theta, theta

        return jax.lax.scan(body, theta, t0 + jnp.arange(length))

    return jax.jit(chunk)


def _dataset(n: int, a: float, b: float, seed: int) -> np.ndarray:
    """N data of exactly mean 0 and variance B / A^2 (per-sample gradient variance exactly B)."""
    z = numpy_generator(np.random.SeedSequence([seed, 1])).normal(size=n)
    z = (z - z.mean()) / z.std()
    return z * math.sqrt(b) / a


def run_sgd_temperature(
    curvature: float,
    noise: float,
    batch: int,
    lr: float,
    steps: int,
    *,
    n_chains: int = 16,
    burn_in: int | None = None,
    data_size: int | None = None,
    loss: str = "quadratic",
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int = 5000,
    chunk: int = 5000,
    progress: bool | None = None,
) -> SGDTemperatureResult:
    """Run ``n_chains`` copies of constant-lr SGD (curvature A, per-sample gradient variance B,
    batch S, lr eta) for ``steps`` steps from the minimum; the stationary variance of theta
    after ``burn_in`` steps (default: 10 relaxation times 1 / (eta A), at most steps // 2),
    with its error from tau_int, against :func:`sgd_stationary_variance`. ``data_size``: draw
    batches from N fixed data (without replacement) instead of fresh data. ``loss``:
    "quadratic" (additive gradient noise) or "linear-regression" (multiplicative, fresh data).
    Above :func:`sgd_finite_error_lr` (linear regression only) theta is so heavy-tailed that the
    variance has no finite error bar: NaN, ``reliable`` False and a RuntimeWarning."""
    import jax
    import jax.numpy as jnp

    a, b, s, eta, n = _check_problem(curvature, noise, batch, lr, data_size)
    theory = sgd_stationary_variance(a, b, s, eta, data_size=n, loss=loss)  # also refuses what diverges
    regression = loss == "linear-regression"
    steps = check_positive_int("steps", steps)
    n_chains = check_positive_int("n_chains", n_chains)
    relax = 1.0 / (eta * a)
    burn_in = min(int(10 * relax), steps // 2) if burn_in is None else check_positive_int("burn_in", burn_in, minimum=0)
    if steps - burn_in < 2:
        raise ValueError(f"steps ({steps}) must exceed burn_in ({burn_in}) by at least 2")
    seed = check_int_seed(seed)
    chunk = check_positive_int("chunk", chunk)
    if checkpoint is not None:
        if not Path(checkpoint).resolve().parent.is_dir():
            raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
        chunk = check_positive_int("checkpoint_every", checkpoint_every)
    settings = {
        "curvature": a,
        "noise": b,
        "batch": s,
        "lr": eta,
        "steps": steps,
        "n_chains": n_chains,
        "burn_in": burn_in,
        "data_size": n,
        "loss": loss,
        "seed": seed,
        "chunk": chunk,
    }
    series = np.zeros((n_chains, steps - burn_in))
    done = 0
    with jax.enable_x64(True):
        root = jax.random.key(seed)
        theta = jnp.zeros(n_chains)
        data = jnp.asarray(_dataset(n, a, b, seed)) if n is not None else jnp.zeros(1)
        if checkpoint is not None and Path(checkpoint).is_file():
            theta_np, series, done = _resume(checkpoint, settings, series)
            theta = jnp.asarray(theta_np)
        resumed_from = done
        hyper = tuple(jnp.asarray(x, dtype=jnp.float64) for x in (a, b, eta, s))
        with progress_bar(
            total=steps, initial=done, desc="sgd", unit="step", progress=progress, worthwhile=steps > 20000
        ) as bar:
            while done < steps:
                length = min(chunk, steps - done)
                run = _compiled_chunk(
                    n_chains, length, s if (n is not None or regression) else 0, n is not None, regression
                )
                theta, thetas = run(theta, jnp.asarray(done, dtype=jnp.int64), root, data, hyper)
                values = np.asarray(thetas).T  # (chains, length)
                if not np.all(np.isfinite(values)):
                    raise ValueError(f"SGD became non-finite within steps {done}..{done + length}")
                ts = np.arange(done, done + length)
                keep = ts >= burn_in
                series[:, ts[keep] - burn_in] = values[:, keep]
                done += length
                bar.update(length)
                if checkpoint is not None:
                    _save(checkpoint, settings, np.asarray(theta), series, done)
    from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        est = integrated_autocorrelation_time(series * series)  # the mean is 0: <theta^2> is the variance
    factor = sgd_fourth_moment_factor(a, s, eta, loss=loss)
    limit = sgd_finite_error_lr(a, s, loss=loss)
    stderr, reliable, alpha = est.stderr, est.reliable, None
    if factor >= 1.0:
        # Var(theta^2) is infinite: the tau-based error (and any spread over chains, whose means
        # have infinite variance too) is no error bar; the mean of theta^2 still converges
        alpha = _tail_index(a, s, eta)
        stderr, reliable = math.nan, False
        warnings.warn(
            f"SGD on the {loss} loss at lr {eta:g} (curvature {a:g}, batch {s}) is heavy-tailed: "
            f"E[(1 - lr h)^4] = {factor:.3g} >= 1, so theta^4 has no finite mean (P(|theta| > x) ~ x^-{alpha:.3g}) "
            f"and the variance estimate's error bar is undefined; the estimate converges slowly, with "
            f"non-Gaussian fluctuations, and usually reads low. Finite error bars need lr < {limit:.4g}",
            RuntimeWarning,
            stacklevel=2,
        )
    return SGDTemperatureResult(
        settings=settings,
        series=series,
        variance=est.mean,
        variance_stderr=stderr,
        tau=est.tau,
        reliable=reliable,
        theory_variance=theory,
        sde_variance=sgd_sde_variance(a, b, s, eta),
        resumed_from=resumed_from,
        fourth_moment_factor=factor,
        finite_error_lr=limit,
        tail_index=alpha,
    )


def _save(path, settings, theta, series, done) -> None:
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "run": settings, "steps_done": int(done)}
    save_arrays(path, {"theta": theta, "series": series}, header)


def _resume(path, settings, series):
    contents = FileContents.read(path)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="SGD checkpoint")
    contents.expect_run(settings)
    done = int(contents.value("steps_done", int, minimum=0, maximum=settings["steps"]))
    contents.expect_names(["theta", "series"])
    theta = contents.array("theta", shape=(settings["n_chains"],), dtype=np.float64)
    new_series = contents.array("series", shape=series.shape, dtype=np.float64)
    return theta, new_series.copy(), done
