"""Seeds as an ensemble: the macrostate (test loss, accuracy) against the microstate (parameters).

K copies of one small network (one hidden ReLU layer, JAX + optax Adam), differing only in the
seed of their initialisation and minibatch order, are trained together (vmapped) on

- ``digits``: scikit-learn's 8 x 8 digits (pixels / 16), softmax cross-entropy, 1,200 training
  and 597 test images;
- ``cubic``: the x^3 toy of deep ensembles (Lakshminarayanan et al. 2017), y = x^3 + N(0, 3^2),
  20 points with x ~ U(-4, 4); the network outputs a mean and a variance (Gaussian NLL).

Measured: the spread of test loss and accuracy across seeds (the macrostate, with its error),
the distance between the seeds' parameters before and after aligning their hidden units
(the permutation symmetry, solved by ``scipy.optimize.linear_sum_assignment``), the NLL of the
ensemble's averaged predictive against single models, and how fast each run forgets where it
started: rho(t) = corr(theta(t), theta(0)) over the parameters, and the epoch where it falls
below 1/e (the decorrelation time; a short run never gets there, the initial condition is still
remembered), and, in the second half of training, the autocorrelation C(tau) of the parameters'
fluctuations about their mean with the steady drift removed (:func:`stationary_decorrelation`),
whose 1/e lag is the stationary decorrelation time in epochs (exact on SGD on a quadratic:
-1 / ln(1 - eta A) steps).

:func:`random_features_ensemble` does the same where the answer is exact: a linear model on
random Fourier features of the x^3 data, whose posterior predictive is Gaussian; an ensemble of
randomised-MAP members (each fitted to targets and a prior anchor drawn afresh, Pearce et al.
2020) samples it exactly, plain seeds trained by gradient descent from prior draws do not, and
SGLD samples it approximately.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.file_contents import FileContents
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.storage import save_arrays
from thermolearn.validation import check_positive_float, check_positive_int

ENSEMBLE_TASKS = ("digits", "cubic")
CHECKPOINT_FORMAT = "thermolearn.ensemble-checkpoint"
CHECKPOINT_VERSION = 1
CUBIC_NOISE = 3.0
CUBIC_SCALE = 64.0  # y is trained as y / 64 (x^3 reaches 64 at the data's edge)
_PARAM_NAMES = ("W1", "b1", "W2", "b2")


def cubic_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points of the x^3 toy: x ~ U(-4, 4), y = x^3 + N(0, 3^2)."""
    rng = numpy_generator(np.random.SeedSequence([seed, 3]))
    x = rng.uniform(-4.0, 4.0, size=n)
    return x[:, None], x**3 + CUBIC_NOISE * rng.normal(size=n)


def _task_data(task: str, data_seed: int) -> dict[str, np.ndarray]:
    if task == "digits":
        from thermolearn.datasets.digits import load_digits

        images, labels = load_digits(return_labels=True)
        order = numpy_generator(np.random.SeedSequence([data_seed, 2])).permutation(len(labels))
        x, y = images[order] / 16.0, labels[order]
        return {"x_train": x[:1200], "y_train": y[:1200], "x_test": x[1200:], "y_test": y[1200:]}
    x, y = cubic_data(20, data_seed)
    xt, yt = cubic_data(500, data_seed + 10_000)
    return {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}


# ------------------------------------------------------------------------------ the network
def _forward(params, x):
    import jax.numpy as jnp

    h = jnp.maximum(x @ params["W1"] + params["b1"], 0.0)
    return h @ params["W2"] + params["b2"]


def _losses(task: str, params, x, y):
    """Per-example negative log-likelihood (nats) of one network."""
    import jax
    import jax.numpy as jnp

    out = _forward(params, x)
    if task == "digits":
        return -jax.nn.log_softmax(out)[jnp.arange(y.shape[0]), y]
    mean = out[:, 0]
    var = jax.nn.softplus(out[:, 1]) + 1e-4
    ys = y / CUBIC_SCALE
    return 0.5 * ((ys - mean) ** 2 / var + jnp.log(2 * jnp.pi * var)) + math.log(CUBIC_SCALE)


def _init(seed: int, n_models: int, n_in: int, hidden: int, n_out: int) -> dict[str, np.ndarray]:
    """He-scaled Gaussian weights, zero biases; model m from its own stream (NumPy: no compile)."""
    out: dict[str, list[np.ndarray]] = {n: [] for n in _PARAM_NAMES}
    for m in range(n_models):
        rng = numpy_generator(np.random.SeedSequence([seed, 6, m]))
        out["W1"].append(rng.normal(0.0, math.sqrt(2.0 / n_in), (n_in, hidden)))
        out["b1"].append(np.zeros(hidden))
        out["W2"].append(rng.normal(0.0, math.sqrt(1.0 / hidden), (hidden, n_out)))
        out["b2"].append(np.zeros(n_out))
    return {n: np.stack(v).astype(np.float32) for n, v in out.items()}


@functools.lru_cache(maxsize=8)
def _compiled(task: str, n_models: int, n_in: int, hidden: int, n_out: int, n_train: int, batch: int, lr: float):
    import jax
    import jax.numpy as jnp
    import optax

    opt = optax.adam(lr)
    n_batches = n_train // batch

    def init(seed):
        params = {n: jnp.asarray(v) for n, v in _init(seed, n_models, n_in, hidden, n_out).items()}
        return params, jax.vmap(opt.init)(params)

    def epoch(params, opt_state, key, x, y):
        def one_model(p, s, k):
            order = jax.random.permutation(k, n_train)[: n_batches * batch].reshape(n_batches, batch)

            def step(carry, idx):
                p, s = carry
                loss, g = jax.value_and_grad(lambda q: _losses(task, q, x[idx], y[idx]).mean())(p)
                updates, s = opt.update(g, s, p)
                return (optax.apply_updates(p, updates), s), loss

            (p, s), losses = jax.lax.scan(step, (p, s), order)
            return p, s, losses.mean()

        return jax.vmap(one_model)(params, opt_state, jax.random.split(key, n_models))

    def evaluate(params, x, y):
        per = jax.vmap(lambda p: _losses(task, p, x, y))(params)  # (models, n)
        out = jax.vmap(lambda p: _forward(p, x))(params)
        if task == "digits":
            acc = (out.argmax(axis=-1) == y[None, :]).mean(axis=1)
        else:
            acc = jnp.full(n_models, jnp.nan)
        # the ensemble's predictive is the average of the members' likelihoods
        ens = -(jax.scipy.special.logsumexp(-per, axis=0) - jnp.log(n_models))
        return per.mean(axis=1), acc, ens.mean()

    return init, jax.jit(epoch), jax.jit(evaluate)


def _flat(params: dict[str, np.ndarray]) -> np.ndarray:
    """(models, n_parameters) in the order W1, b1, W2, b2."""
    k = params["W1"].shape[0]
    return np.concatenate([np.asarray(params[n]).reshape(k, -1) for n in _PARAM_NAMES], axis=1)


def align_hidden_units(params: dict[str, np.ndarray], reference: int = 0) -> dict[str, np.ndarray]:
    """Permute each model's hidden units to best match model ``reference``: unit j is the vector
    (W1[:, j], b1[j], W2[j, :]); the permutation minimises the summed squared distance
    (Hungarian algorithm). The function each network computes is unchanged."""
    from scipy.optimize import linear_sum_assignment

    units = np.concatenate(
        [np.asarray(params["W1"]).transpose(0, 2, 1), np.asarray(params["b1"])[:, :, None], np.asarray(params["W2"])],
        axis=2,
    )  # (models, hidden, features of a unit)
    out = {n: np.array(params[n], copy=True) for n in _PARAM_NAMES}
    ref = units[reference]
    for k in range(units.shape[0]):
        cost = ((ref[:, None, :] - units[k][None, :, :]) ** 2).sum(axis=2)
        _, perm = linear_sum_assignment(cost)
        out["W1"][k] = np.asarray(params["W1"])[k][:, perm]
        out["b1"][k] = np.asarray(params["b1"])[k][perm]
        out["W2"][k] = np.asarray(params["W2"])[k][perm, :]
    return out


def _relative_distances(flat: np.ndarray, reference: int = 0) -> np.ndarray:
    """|theta_k - theta_ref| / rms(|theta_k|, |theta_ref|) for every k != reference."""
    d = []
    for k in range(flat.shape[0]):
        if k == reference:
            continue
        norm = math.sqrt(0.5 * (flat[k] @ flat[k] + flat[reference] @ flat[reference]))
        d.append(float(np.linalg.norm(flat[k] - flat[reference]) / norm))
    return np.array(d)


def decorrelation_time(rho: np.ndarray) -> float | None:
    """The first epoch (linearly interpolated) where rho(t) falls below 1/e; None if it never does."""
    below = np.flatnonzero(rho < math.exp(-1.0))
    if below.size == 0:
        return None
    t = int(below[0])
    if t == 0:
        return 0.0
    a, b = rho[t - 1], rho[t]
    return float(t - 1 + (a - math.exp(-1.0)) / (a - b))


def _log_crossing(c: np.ndarray) -> float | None:
    """The first lag (interpolated linearly in log C, exact for an exponential) where c falls
    below 1/e; None if it never does."""
    below = np.flatnonzero(c < math.exp(-1.0))
    if below.size == 0:
        return None
    t = int(below[0])
    if t == 0:
        return 0.0
    a, b = float(c[t - 1]), float(c[t])
    if b <= 0.0:  # no logarithm: fall back to a straight line
        return float(t - 1 + (a - math.exp(-1.0)) / (a - b))
    return float(t - 1 + (math.log(a) + 1.0) / (math.log(a) - math.log(b)))


#: A stationary decorrelation time is reliable when removing the window's mean (and trend) moves the
#: 1/e lag of an exponential C(t) of that decay time by at most this fraction of it (or of one time
#: step, if shorter): the correction for that bias assumes an exponential C(t), so a large one is
#: only as good as that assumption (with the trend removed it needs a window of ~ 100 decay times).
STATIONARY_BIAS_TOLERANCE = 0.1


@dataclass(frozen=True)
class StationaryDecorrelation:
    """Autocorrelation C(tau) of the parameters' fluctuations in a stationary window, averaged over
    models, and the lag where it falls below 1/e (in the trajectory's time unit): for SGD on a
    quadratic of curvature A at learning rate eta, C(tau) = (1 - eta A)^tau and the time is
    -1 / ln(1 - eta A) exactly.

    Removing the window's own mean (and trend) lowers the measured C by O(tau / n) in a window of
    n times, so its 1/e lag (``raw_time``) is biased low; ``time`` is the decay time of the
    exponential whose windowed estimate crosses 1/e where the measured C does, exact for an
    exponential C. ``window_bias`` is how far the window moves that exponential's 1/e lag; where
    it exceeds :data:`STATIONARY_BIAS_TOLERANCE` of the time (or nothing could be measured),
    ``reliable`` is False and ``time_stderr`` includes ``window_bias``."""

    autocorrelation: np.ndarray  # (max_lag + 1,), C(0) = 1, as measured (window mean / trend removed)
    time: float | None  # window-bias-corrected 1/e time of the model-averaged C
    time_stderr: float | None  # spread of the per-model times (None if any has none), and the
    # window bias where not reliable
    per_model: list[float | None]  # corrected, like ``time``
    window: tuple[int, int]  # [start, stop) of the trajectory used
    raw_time: float | None = None  # 1/e lag of the measured, model-averaged C (biased low)
    raw_per_model: list[float | None] = field(default_factory=list)
    window_bias: float | None = None  # what the window takes off the 1/e lag of an exponential C
    reliable: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The measurement as a JSON-ready dict: autocorrelation and 1/e decorrelation time (steps) with its error."""
        return {
            "window": list(self.window),
            "autocorrelation": self.autocorrelation.tolist(),
            "decorrelation": {"mean": self.time, "stderr": self.time_stderr},
            "per_seed": self.per_model,
            "decorrelation_raw": self.raw_time,
            "per_seed_raw": self.raw_per_model,
            "window_bias": self.window_bias,
            "reliable": self.reliable,
        }


def _window_basis(n: int, detrend: bool) -> np.ndarray:
    """Orthonormal columns spanning what is removed from each series: the constant (and the line)."""
    cols = [np.full(n, 1.0 / math.sqrt(n))]
    if detrend:
        t = np.arange(n) - 0.5 * (n - 1)
        cols.append(t / np.linalg.norm(t))
    return np.stack(cols, axis=1)


class _WindowedExponential:
    """The expectation of :func:`stationary_decorrelation`'s C(tau) for a stationary series with
    C(tau) = exp(-tau / T) (plus any straight line, which the detrending removes exactly).

    With P the projection that removes the window mean (and trend), the fluctuations are d = P x,
    so E[d d^T] = P Gamma P with Gamma_ij = exp(-|i - j| / T); the estimator's expectation at lag
    tau is the tau-th diagonal sum of P Gamma P over (n - tau), normalised by its value at 0. With
    P = 1 - U U^T that is Gamma - U V^T - V U^T + U (U^T V) U^T, V = Gamma U: O(n log n) per T."""

    def __init__(self, n: int, lags: int, detrend: bool) -> None:
        import scipy.fft

        self.n, self.lags = n, lags
        self.u = _window_basis(n, detrend)
        self.size = scipy.fft.next_fast_len(2 * n, real=True)
        self.fu = scipy.fft.rfft(self.u, n=self.size, axis=0)

    def correlation(self, time: float) -> np.ndarray:
        import scipy.fft
        from scipy.signal import lfilter

        a = math.exp(-1.0 / time)
        u = self.u
        # Gamma u as a forward plus a backward AR(1) filter (the diagonal counted once)
        v = lfilter([1.0], [1.0, -a], u, axis=0) + lfilter([1.0], [1.0, -a], u[::-1], axis=0)[::-1] - u
        fv = scipy.fft.rfft(v, n=self.size, axis=0)
        fz = self.fu @ (u.T @ v)  # the transform of U (U^T V), by linearity
        # sum_t x_t y_{t + tau} is the inverse transform of conj(X) Y
        spectrum = (np.conj(fz) * self.fu - np.conj(self.fu) * fv - np.conj(fv) * self.fu).sum(axis=1)
        tau = np.arange(self.lags + 1)
        diag = (self.n - tau) * a**tau + scipy.fft.irfft(spectrum, n=self.size)[: self.lags + 1]
        c = diag / (self.n - tau)
        return c / c[0]

    def window_bias(self, time: float) -> float:
        """How much the window moves the 1/e lag of an exponential C of decay time ``time`` (lag
        units, straight-line interpolation on both; the windowed lag counts as one past the last
        lag where it is out of range)."""
        time = max(time, 1e-2)  # below a hundredth of a step C is a spike at 0 either way
        # the exact exponential is known at every lag, also past the estimator's last one
        exact = decorrelation_time(np.exp(-np.arange(math.ceil(time) + 2) / time))
        windowed = decorrelation_time(self.correlation(time))
        assert exact is not None  # exp(-tau / T) < 1/e from tau = ceil(T) + 1 on
        return exact - (self.lags + 1.0 if windowed is None else windowed)

    def corrected_time(self, measured: np.ndarray) -> float | None:
        """The decay time T of the exponential C whose windowed estimate crosses 1/e at the same lag
        as ``measured`` (exact for an exponential C; the plain 1/e lag where the bias is negligible);
        0 where ``measured`` decays no slower than an uncorrelated series', None where it decays
        more slowly than any exponential's estimate in this window can (T beyond 100 windows).

        The lags are matched by straight-line interpolation between lags, not the logarithmic one of
        :func:`_log_crossing`: that one jumps where C(1) changes sign, which the window bias makes
        happen for T near one step, while the straight-line lag grows continuously with T."""
        from scipy.optimize import brentq

        target = decorrelation_time(measured)
        if target is None:
            return None  # the bias only lowers C: the exponential's estimate crosses no later

        def gap(time: float) -> float:
            lag = decorrelation_time(self.correlation(time))
            return (self.lags + 1.0 if lag is None else lag) - target

        floor, cap = 1e-2, 100.0 * self.n  # below: an uncorrelated series; above: C no longer changes
        x = min(max(_log_crossing(measured) or target, floor), cap)
        if gap(x) >= 0.0:  # the answer lies below x
            while gap(x) >= 0.0:
                if x <= floor:
                    return 0.0
                x = max(x / 1.5, floor)
            lo, hi = x, x * 1.5
        else:
            while gap(x) < 0.0:
                if x >= cap:
                    return None
                x = min(1.5 * x, cap)
            lo, hi = x / 1.5, x
        root = float(brentq(gap, lo, hi, xtol=1e-10 * hi, rtol=1e-12))
        # the estimate's lag jumps to "none in range" only past the last lag, which the target is
        # within: a sign change there is no solution
        return root if abs(gap(root)) <= 1e-6 * max(target, 1.0) else None


def stationary_decorrelation(
    trajectory: np.ndarray, *, start: int = 0, detrend: bool = True, max_lag: int | None = None
) -> StationaryDecorrelation:
    """How fast parameters forget their past once training is stationary. ``trajectory`` has shape
    (models, times, parameters); from time ``start`` on, each parameter's fluctuation is its value
    minus its window mean (and, with ``detrend``, minus its least-squares line, so that a slow
    steady drift is not read as memory); C(tau) = sum <d(t) . d(t + tau)>_t / sum <d(t) . d(t)>_t
    per model (lags up to ``max_lag``, default half the window); the 1/e lag of the model average
    is the decorrelation time, its error from the spread over models.

    Each model's own window mean (and line) is removed because seeds settle in different places,
    which biases C low by O(tau / n): the reported times undo that bias for an exponential C
    (exact on an AR(1) process), and a RuntimeWarning with ``reliable`` False says where the
    window is too short for the correction to be trusted (it then enters the error bar)."""
    import warnings

    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim != 3:
        raise ValueError(f"trajectory must have shape (models, times, parameters), got {traj.shape}")
    k, n_t, _ = traj.shape
    if not 0 <= start <= n_t - 4:
        raise ValueError(f"start must leave at least 4 times of the {n_t}, got {start}")
    window = traj[:, start:]
    n = window.shape[1]
    lags = n // 2 if max_lag is None else check_positive_int("max_lag", max_lag)
    if lags >= n:
        raise ValueError(f"max_lag must be below the window's length {n}, got {lags}")
    t = np.arange(n, dtype=np.float64)
    t -= t.mean()
    d = window - window.mean(axis=1, keepdims=True)
    if detrend:
        slope = np.einsum("t,ktp->kp", t, d) / (t @ t)
        d = d - t[None, :, None] * slope[:, None, :]
    c = np.empty((k, lags + 1))
    for tau in range(lags + 1):
        c[:, tau] = np.einsum("ktp,ktp->k", d[:, : n - tau], d[:, tau:]) / (n - tau)
    zero = c[:, :1]
    if np.any(zero <= 0):
        raise ValueError("the parameters do not fluctuate in the window: no autocorrelation to measure")
    c = c / zero
    mean_c = c.mean(axis=0)
    raw_per_model = [_log_crossing(row) for row in c]
    raw_time = _log_crossing(mean_c)
    model = _WindowedExponential(n, lags, detrend)
    per_model = [model.corrected_time(row) for row in c]
    time = model.corrected_time(mean_c)
    times = [p for p in per_model if p is not None]
    stderr = float(np.std(times, ddof=1) / math.sqrt(k)) if k > 1 and len(times) == k else None
    bias = None if time is None else model.window_bias(time)
    reliable = (
        time is not None
        and bias is not None
        and len(times) == k
        and abs(bias) <= STATIONARY_BIAS_TOLERANCE * max(time, 1.0)
    )
    if time is None:
        what = (
            f"C(t) does not fall below 1/e within the {lags} lags"
            if raw_time is None
            else f"the measured C(t) (1/e lag {raw_time:.3g}) decays more slowly than any exponential would look "
            f"in a window of {n} times"
        )
        warnings.warn(
            f"stationary decorrelation not measurable: {what}; the decorrelation time is longer than this "
            "window can resolve (use a longer stationary window)",
            RuntimeWarning,
            stacklevel=2,
        )
    elif not reliable:
        assert bias is not None
        if abs(bias) > STATIONARY_BIAS_TOLERANCE * max(time, 1.0):
            if stderr is not None:
                stderr = math.hypot(stderr, bias)  # the correction is only as good as an exponential C
            # the window bias scales as tau / n: the window that brings it within the tolerance
            needed = n * abs(bias) / (STATIONARY_BIAS_TOLERANCE * max(time, 1.0))
            why = (
                f"removing the mean{' and trend' if detrend else ''} of a window of only {n} times biases C(t) "
                f"low (its 1/e lag reads {raw_time:.3g}); correcting that by {bias:.3g} assumes an exponential "
                f"C (a window of about {needed:.0f} times would make it small)"
            )
        else:
            why = f"the 1/e lag of {k - len(times)} of the {k} models could not be measured (no error bar)"
        shown = "no error bar" if stderr is None else f"+- {stderr:.2g}, the window bias included"
        warnings.warn(
            f"stationary decorrelation time {time:.3g} ({shown}) is not reliable: {why}",
            RuntimeWarning,
            stacklevel=2,
        )
    return StationaryDecorrelation(
        mean_c,
        time,
        stderr,
        per_model,
        (start, n_t),
        raw_time=raw_time,
        raw_per_model=raw_per_model,
        window_bias=bias,
        reliable=reliable,
    )


@dataclass(frozen=True)
class EnsembleResult:
    """K trained seeds: per-model test NLL (nats per example) and accuracy, the ensemble's NLL,
    parameter distances raw and after alignment, rho(t) with the initial parameters."""

    task: str
    settings: dict[str, Any]
    test_loss: np.ndarray
    test_accuracy: np.ndarray | None
    ensemble_loss: float
    train_loss: np.ndarray  # (models, epochs)
    distance_raw: np.ndarray
    distance_aligned: np.ndarray
    rho: np.ndarray  # (epochs + 1,), averaged over the models
    params: dict[str, np.ndarray] = field(repr=False)
    resumed_from: int = 0
    stationary: StationaryDecorrelation | None = None  # epochs of the second half, drift removed

    def as_dict(self) -> dict[str, Any]:
        """The ensemble as a JSON-ready dict: mean, stderr and spread over seeds of each measured quantity."""
        k = len(self.test_loss)

        def spread(x: np.ndarray) -> dict[str, float | None]:
            n = len(x)
            if n < 2:  # one value: no spread to measure
                return {"mean": float(np.mean(x)), "stderr": None, "spread": None}
            sd = float(np.std(x, ddof=1))
            return {"mean": float(np.mean(x)), "stderr": sd / math.sqrt(n), "spread": sd}

        record: dict[str, Any] = {
            "task": self.task,
            "seeds": k,
            "test_loss": spread(self.test_loss),
            "test_loss_per_seed": self.test_loss.tolist(),
            "ensemble_loss": self.ensemble_loss,
            "ensemble_gain": float(np.mean(self.test_loss) - self.ensemble_loss),
            "distance_raw": spread(self.distance_raw) if k > 1 else None,
            "distance_aligned": spread(self.distance_aligned) if k > 1 else None,
            "rho": self.rho.tolist(),
            "decorrelation_epochs": decorrelation_time(self.rho),
            "stationary": None if self.stationary is None else self.stationary.as_dict(),
            "final_train_loss": spread(self.train_loss[:, -1]),
            "resumed_from": self.resumed_from,
        }
        if self.test_accuracy is not None:
            record["test_accuracy"] = spread(self.test_accuracy)
            record["test_accuracy_per_seed"] = self.test_accuracy.tolist()
        return record


def train_ensemble(
    task: str = "digits",
    *,
    seeds: int = 5,
    epochs: int = 20,
    hidden: int = 32,
    lr: float = 3e-3,
    batch_size: int = 64,
    seed: int = 0,
    data_seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> EnsembleResult:
    """Train ``seeds`` copies of a one-hidden-layer ReLU network (``hidden`` units, Adam at ``lr``,
    minibatches of ``batch_size``, ``epochs`` passes) on ``task`` ("digits" or "cubic"; the cubic
    toy uses all 20 points per step), all at once; checkpointed after every epoch."""
    import jax
    import jax.numpy as jnp

    if task not in ENSEMBLE_TASKS:
        raise ValueError(f"unknown task {task!r}; choose one of {', '.join(ENSEMBLE_TASKS)}")
    k = check_positive_int("seeds", seeds)
    epochs = check_positive_int("epochs", epochs)
    hidden = check_positive_int("hidden", hidden)
    lr = check_positive_float("lr", lr)
    seed = check_int_seed(seed)
    data = _task_data(task, check_int_seed(data_seed, name="data_seed"))
    n_train = data["x_train"].shape[0]
    batch = n_train if task == "cubic" else check_positive_int("batch_size", batch_size)
    if batch > n_train:
        raise ValueError(f"batch_size {batch} is larger than the data ({n_train} points)")
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    n_in = data["x_train"].shape[1]
    n_out = 10 if task == "digits" else 2
    settings = {
        "task": task,
        "seeds": k,
        "epochs": epochs,
        "hidden": hidden,
        "lr": lr,
        "batch_size": batch,
        "seed": seed,
        "data_seed": int(data_seed),
    }
    init, epoch_fn, evaluate = _compiled(task, k, n_in, hidden, n_out, n_train, batch, lr)
    with jax.enable_x64(False):
        k_train = jax.random.key(seed)
        params, opt_state = init(seed)
        x, y = jnp.asarray(data["x_train"], dtype=jnp.float32), jnp.asarray(data["y_train"])
        xt, yt = jnp.asarray(data["x_test"], dtype=jnp.float32), jnp.asarray(data["y_test"])
        if task == "cubic":
            y, yt = y.astype(jnp.float32), yt.astype(jnp.float32)
        snapshots = np.zeros((k, epochs + 1, sum(int(np.prod(params[n].shape[1:])) for n in _PARAM_NAMES)))
        snapshots[:, 0] = _flat({n: np.asarray(v) for n, v in params.items()})
        train_loss = np.zeros((k, epochs))
        done = 0
        if checkpoint is not None and Path(checkpoint).is_file():
            params, opt_state, snapshots, train_loss, done = _resume(
                checkpoint, settings, params, opt_state, snapshots, train_loss
            )
        resumed_from = done
        with progress_bar(
            total=epochs, initial=done, desc=f"ensemble {task}", unit="epoch", progress=progress, worthwhile=epochs > 5
        ) as bar:
            for e in range(done, epochs):
                params, opt_state, loss = epoch_fn(params, opt_state, jax.random.fold_in(k_train, e), x, y)
                loss_np = np.asarray(loss)
                if not np.all(np.isfinite(loss_np)):
                    raise ValueError(f"training diverged in epoch {e} (non-finite loss); lower --lr")
                train_loss[:, e] = loss_np
                snapshots[:, e + 1] = _flat({n: np.asarray(v) for n, v in params.items()})
                bar.update()
                if checkpoint is not None:
                    _save(checkpoint, settings, params, opt_state, snapshots, train_loss, e + 1)
        test_loss, acc, ens = evaluate(params, xt, yt)
    params_np = {n: np.asarray(v, dtype=np.float64) for n, v in params.items()}
    aligned = align_hidden_units(params_np)
    rho = np.array(
        [np.mean([np.corrcoef(snapshots[m, 0], snapshots[m, t])[0, 1] for m in range(k)]) for t in range(epochs + 1)]
    )
    # the memory of the initial condition (rho) outlives short runs; the stationary measure asks how
    # fast the late-training fluctuations forget their own past (epochs)
    stationary = None
    if epochs + 1 - epochs // 2 >= 4:
        try:
            stationary = stationary_decorrelation(snapshots, start=epochs // 2)
        except ValueError:  # frozen parameters (a converged full-batch run): nothing to measure
            stationary = None
    return EnsembleResult(
        task=task,
        settings=settings,
        test_loss=np.asarray(test_loss, dtype=np.float64),
        test_accuracy=np.asarray(acc, dtype=np.float64) if task == "digits" else None,
        ensemble_loss=float(ens),
        train_loss=train_loss,
        distance_raw=_relative_distances(_flat(params_np)),
        distance_aligned=_relative_distances(_flat(aligned)),
        rho=rho,
        params=params_np,
        resumed_from=resumed_from,
        stationary=stationary,
    )


def _save(path, settings, params, opt_state, snapshots, train_loss, done) -> None:
    import jax

    arrays = {f"param:{n}": np.asarray(params[n]) for n in _PARAM_NAMES}
    for i, leaf in enumerate(jax.tree.leaves(opt_state)):
        arrays[f"opt:{i}"] = np.asarray(leaf)
    arrays["snapshots"] = snapshots
    arrays["train_loss"] = train_loss
    header = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "run": settings, "epochs_done": int(done)}
    save_arrays(path, arrays, header)


def _resume(path, settings, params, opt_state, snapshots, train_loss):
    import jax
    import jax.numpy as jnp

    contents = FileContents.read(path)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="ensemble checkpoint")
    contents.expect_run(settings)
    done = int(contents.value("epochs_done", int, minimum=0, maximum=settings["epochs"]))
    new_params = {
        n: jnp.asarray(contents.array(f"param:{n}", shape=params[n].shape, dtype=np.float32)) for n in _PARAM_NAMES
    }
    leaves, treedef = jax.tree.flatten(opt_state)
    new_leaves = []
    for i, leaf in enumerate(leaves):
        like = np.asarray(leaf)
        kinds = "iu" if like.dtype.kind in "iu" else "f"
        new_leaves.append(jnp.asarray(contents.array(f"opt:{i}", kinds=kinds, shape=like.shape, dtype=like.dtype)))
    new_snapshots = contents.array("snapshots", shape=snapshots.shape, finite=False, dtype=np.float64).copy()
    new_loss = contents.array("train_loss", shape=train_loss.shape, finite=False, dtype=np.float64).copy()
    return new_params, jax.tree.unflatten(treedef, new_leaves), new_snapshots, new_loss, done


# ------------------------------------------------------------------------------ random features
@dataclass(frozen=True)
class RandomFeaturesComparison:
    """Predictive mean and variance on a grid of x: exact (Gaussian posterior predictive of the
    random-features regression) against K randomised-MAP members, K plain seeds trained by
    gradient descent from prior draws, and SGLD samples (units of y)."""

    x: np.ndarray
    exact_mean: np.ndarray
    exact_var: np.ndarray
    members: dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (mean, var) over the grid
    n_members: int

    def summary(self) -> dict[str, dict[str, float]]:
        """Per method: mean |mean - exact| / exact sd, and the grid-averaged variance ratio."""
        sd = np.sqrt(self.exact_var)
        out = {}
        for name, (m, v) in self.members.items():
            out[name] = {
                "mean_error_in_sd": float(np.mean(np.abs(m - self.exact_mean) / sd)),
                "variance_ratio": float(np.mean(v / self.exact_var)),
            }
        return out

    def as_dict(self) -> dict[str, Any]:
        """The comparison as a JSON-ready dict: exact and per-method predictive means and variances."""
        return {
            "x": self.x.tolist(),
            "exact_mean": self.exact_mean.tolist(),
            "exact_var": self.exact_var.tolist(),
            "methods": {k: {"mean": m.tolist(), "var": v.tolist()} for k, (m, v) in self.members.items()},
            "summary": self.summary(),
            "members": self.n_members,
        }


def _features(x: np.ndarray, omega: np.ndarray, phase: np.ndarray) -> np.ndarray:
    return math.sqrt(2.0 / omega.size) * np.cos(np.outer(x, omega) + phase)


def random_features_ensemble(
    *,
    n_features: int = 50,
    members: int = 100,
    lengthscale: float = 1.5,
    prior_precision: float = 1.0,
    gd_steps: int = 2000,
    sgld_steps: int = 20000,
    seed: int = 0,
    data_seed: int = 0,
) -> RandomFeaturesComparison:
    """The x^3 toy (y / 64) regressed on ``n_features`` random Fourier features
    sqrt(2/D) cos(omega x + b), omega ~ N(0, 1/lengthscale^2): the exact posterior predictive at
    x in [-6, 6] against ``members`` randomised-MAP fits (exact samples of the posterior), as many
    plain seeds (gradient descent for ``gd_steps`` from prior draws on the squared loss alone)
    and SGLD (8 chains, ``sgld_steps``); predictive variances include the noise."""
    from thermolearn.dynamics.langevin import run_langevin
    from thermolearn.dynamics.posteriors import linear_regression_posterior
    from thermolearn.variational.bayesian_regression import BayesianLinearRegression

    d = check_positive_int("n_features", n_features)
    m = check_positive_int("members", members, minimum=2)
    ell = check_positive_float("lengthscale", lengthscale)
    alpha = check_positive_float("prior_precision", prior_precision)
    rng = numpy_generator(np.random.SeedSequence([check_int_seed(seed), 4]))
    x, y = cubic_data(20, check_int_seed(data_seed, name="data_seed"))
    x = x[:, 0]
    ys = y / CUBIC_SCALE
    noise = (CUBIC_NOISE / CUBIC_SCALE) ** 2
    feat_rng = numpy_generator(np.random.SeedSequence([int(data_seed), 5]))
    omega = feat_rng.normal(0.0, 1.0 / ell, d)
    phase = feat_rng.uniform(0.0, 2 * math.pi, d)
    phi = _features(x, omega, phase)
    grid = np.linspace(-6.0, 6.0, 61)
    phi_grid = _features(grid, omega, phase)
    problem = BayesianLinearRegression(phi, ys, alpha, noise)
    mean_w, cov_w = problem.posterior()
    exact_mean = phi_grid @ mean_w
    exact_var = np.einsum("gi,ij,gj->g", phi_grid, cov_w, phi_grid) + noise

    def predictive(ws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = ws @ phi_grid.T  # (members, grid)
        return CUBIC_SCALE * f.mean(axis=0), CUBIC_SCALE**2 * (f.var(axis=0, ddof=1) + noise)

    # randomised MAP: minimise |y + eps - Phi w|^2 / (2 s^2) + alpha |w - w0|^2 / 2, solved exactly
    precision = problem.posterior_precision
    w0 = rng.normal(0.0, 1.0 / math.sqrt(alpha), (m, d))
    eps = rng.normal(0.0, math.sqrt(noise), (m, x.size))
    rhs = (ys[None, :] + eps) @ phi / noise + alpha * w0
    w_rm = np.linalg.solve(precision, rhs.T).T
    # plain seeds: the squared loss alone, gradient descent from prior draws (a finite time)
    w = rng.normal(0.0, 1.0 / math.sqrt(alpha), (m, d))
    h = phi.T @ phi / x.size
    step = 1.0 / np.linalg.eigvalsh(h).max()
    for _ in range(check_positive_int("gd_steps", gd_steps)):
        w = w - step * ((w @ phi.T - ys[None, :]) @ phi / x.size)
    posterior = linear_regression_posterior(problem)
    lam_max = float(np.linalg.eigvalsh(precision).max())
    sg = run_langevin(
        posterior,
        "sgld",
        step=0.5 / lam_max,
        steps=check_positive_int("sgld_steps", sgld_steps),
        n_chains=8,
        batch_size=10,
        decay_power=0.0,
        seed=seed,
        progress=False,
    )
    samples = sg.samples.reshape(-1, d)
    out = {"randomised MAP": predictive(w_rm), "plain seeds (GD)": predictive(w), "SGLD": predictive(samples)}
    return RandomFeaturesComparison(
        x=grid, exact_mean=CUBIC_SCALE * exact_mean, exact_var=CUBIC_SCALE**2 * exact_var, members=out, n_members=m
    )
