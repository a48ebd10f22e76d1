"""Energy-based models trained by Langevin dynamics (Du and Mordatch 2019), measured exactly in 2D.

A neural energy E_theta(x) (MLP 2 -> H -> H -> 1, swish units) defines p_theta(x) = exp(-E) / Z
on the box [-L, L]^2. Contrastive divergence follows the log-likelihood gradient
-<grad E>_data + <grad E>_model, the model average taken over negatives from a short run of
Langevin dynamics x -> x - (eta/2) grad E + sqrt(eta) xi (clipped to the box), started from a
replay buffer (95 %) or uniform noise (5 %); a small penalty alpha (E_data^2 + E_neg^2) keeps
the energies bounded. Because x is 2D, Z is a quadrature on a grid over the box, so the held-out
log-likelihood <log p_theta(x)>_test and KL(data || model) (the data's exact density from
:mod:`thermolearn.datasets`) are exact at every evaluation (nats). After training, short-run
samples (K steps from noise) and long-run ones are compared with the model they should sample:
their mean energy against the exact <E>_model -- the non-equilibrium gap, measured.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.dynamics.ebm_checkpoints import resume_ebm_checkpoint, save_ebm_checkpoint
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.validation import check_positive_float, check_positive_int

EBM_DATASETS = ("gaussians", "swiss-roll")
CHECKPOINT_FORMAT = "thermolearn.ebm-checkpoint"
CHECKPOINT_VERSION = 1
BOX = 2.5  # the model lives on [-BOX, BOX]^2 (the standardised toys sit well inside)
_LAYERS = ("W1", "b1", "W2", "b2", "W3", "b3")


def _data_log_density(name: str, x: np.ndarray) -> np.ndarray:
    from thermolearn.datasets.toy2d import gaussian_mixture_log_density, swiss_roll_log_density

    if name == "gaussians":
        return gaussian_mixture_log_density(x)
    return swiss_roll_log_density(x, quadrature_points=4001)


def ebm_data(name: str, n: int, seed: Any) -> np.ndarray:
    """``n`` points of the toy ``name`` (standardised), drawn with ``seed``."""
    from thermolearn.datasets.toy2d import gaussian_mixture, swiss_roll

    if name == "gaussians":
        return gaussian_mixture(n, seed=seed)
    return swiss_roll(n, seed=seed)


def _energy(params, x):
    import jax

    h = jax.nn.swish(x @ params["W1"] + params["b1"])
    h = jax.nn.swish(h @ params["W2"] + params["b2"])
    return (h @ params["W3"] + params["b3"])[..., 0]


def _init(seed: int, hidden: int) -> dict[str, np.ndarray]:
    rng = numpy_generator(np.random.SeedSequence([seed, 7]))
    return {
        "W1": rng.normal(0, math.sqrt(1.0 / 2), (2, hidden)),
        "b1": np.zeros(hidden),
        "W2": rng.normal(0, math.sqrt(1.0 / hidden), (hidden, hidden)),
        "b2": np.zeros(hidden),
        "W3": rng.normal(0, math.sqrt(1.0 / hidden), (hidden, 1)),
        "b3": np.zeros(1),
    }


def _langevin(params, x, key, steps: int, eta):
    """``steps`` Langevin steps on E at T = 1 from x, clipped to the box."""
    import jax
    import jax.numpy as jnp

    grad = jax.grad(lambda y: _energy(params, y).sum())

    def body(x, k):
        x = x - 0.5 * eta * grad(x) + jnp.sqrt(eta) * jax.random.normal(k, x.shape)
        return jnp.clip(x, -BOX, BOX), None

    x, _ = jax.lax.scan(body, x, jax.random.split(key, steps))
    return x


@functools.lru_cache(maxsize=8)
def _compiled(hidden: int, batch: int, k_steps: int, length: int, lr: float, n_data: int, buffer: int):
    import jax
    import jax.numpy as jnp
    import optax

    opt = optax.adam(lr, b1=0.0, b2=0.999)  # no momentum: the usual choice for CD-trained EBMs

    def train(params, opt_state, buf, t0, root, data, hyper):
        eta, alpha = hyper

        def step(carry, t):
            params, opt_state, buf = carry
            k_data, k_buf, k_fresh, k_mix, k_run = jax.random.split(jax.random.fold_in(root, t), 5)
            pos = data[jax.random.choice(k_data, n_data, (batch,), replace=False)]
            slots = jax.random.choice(k_buf, buffer, (batch,), replace=False)
            fresh = jax.random.uniform(k_fresh, (batch, 2), minval=-BOX, maxval=BOX)
            start = jnp.where(jax.random.uniform(k_mix, (batch, 1)) < 0.05, fresh, buf[slots])
            neg = jax.lax.stop_gradient(_langevin(params, start, k_run, k_steps, eta))

            def loss(p):
                ep, en = _energy(p, pos), _energy(p, neg)
                return ep.mean() - en.mean() + alpha * (ep**2 + en**2).mean(), ep.mean() - en.mean()

            (_, gap), g = jax.value_and_grad(loss, has_aux=True)(params)
            updates, opt_state = opt.update(g, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, buf.at[slots].set(neg)), gap

        (params, opt_state, buf), gaps = jax.lax.scan(step, (params, opt_state, buf), t0 + jnp.arange(length))
        return params, opt_state, buf, gaps

    return opt, jax.jit(train)


@functools.lru_cache(maxsize=4)
def _compiled_energy():
    import jax

    return jax.jit(_energy)


@functools.lru_cache(maxsize=2)
def _compiled_sampler():
    """Langevin from x for a traced number of steps: one program for short and long runs."""
    import jax
    import jax.numpy as jnp

    def run(params, x, key, steps, eta):
        grad = jax.grad(lambda y: _energy(params, y).sum())

        def body(i, x):
            xi = jax.random.normal(jax.random.fold_in(key, i), x.shape)
            return jnp.clip(x - 0.5 * eta * grad(x) + jnp.sqrt(eta) * xi, -BOX, BOX)

        return jax.lax.fori_loop(0, steps, body, x)

    return jax.jit(run)


def _grid(points: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes (points^2, 2), 1D nodes and trapezoid weights of the box."""
    t = np.linspace(-BOX, BOX, points)
    w = np.full(points, t[1] - t[0])
    w[[0, -1]] *= 0.5
    a, b = np.meshgrid(t, t, indexing="ij")
    return np.stack([a.ravel(), b.ravel()], axis=1), t, np.outer(w, w).ravel()


def log_partition(params: dict[str, Any], *, points: int = 151) -> float:
    """log Z = log int_box exp(-E_theta(x)) dx by the trapezoid rule on a points x points grid (nats)."""
    from scipy.special import logsumexp

    nodes, _, w = _grid(points)
    e = np.asarray(_compiled_energy()(params, nodes), dtype=np.float64)
    return float(logsumexp(-e, b=w))


@dataclass(frozen=True)
class EBMResult:
    """A trained 2D EBM: its history (iteration, held-out log-likelihood, KL(data || model), the
    CD energy gap) and the short- against long-run sampling check."""

    settings: dict[str, Any]
    params: dict[str, np.ndarray]
    history: dict[str, np.ndarray]
    data_log_likelihood: float  # <log p_data> on the test set: the best any model can do
    sampling: dict[str, dict[str, float]]
    density: np.ndarray  # model density on the plotting grid
    grid: np.ndarray
    samples_short: np.ndarray
    samples_long: np.ndarray
    resumed_from: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: history of held-out log-likelihood and KL (nats), CD gap and sampling gap."""
        return {
            "dataset": self.settings["dataset"],
            "iterations": self.history["iteration"].astype(int).tolist(),
            "test_log_likelihood": self.history["test_log_likelihood"].tolist(),
            "kl_data_model": self.history["kl"].tolist(),
            "cd_gap": self.history["cd_gap"].tolist(),
            "data_test_log_likelihood": self.data_log_likelihood,
            "final_test_log_likelihood": float(self.history["test_log_likelihood"][-1]),
            "final_kl": float(self.history["kl"][-1]),
            "sampling": self.sampling,
            "resumed_from": self.resumed_from,
        }


def train_ebm(
    dataset: str = "gaussians",
    *,
    iterations: int = 2000,
    hidden: int = 64,
    batch_size: int = 128,
    langevin_steps: int = 20,
    langevin_step: float = 0.005,
    lr: float = 1e-3,
    alpha: float = 0.1,
    buffer_size: int = 5000,
    n_train: int = 2000,
    eval_every: int = 250,
    long_steps: int = 2000,
    n_samples: int = 1000,
    seed: int = 0,
    checkpoint: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> EBMResult:
    """Train a neural energy on ``dataset`` ("gaussians": 8 Gaussians on a ring, "swiss-roll") by
    contrastive divergence with ``langevin_steps`` Langevin steps of size ``langevin_step`` from
    a replay buffer; every ``eval_every`` iterations the exact held-out log-likelihood and
    KL(data || model) by quadrature. Then ``n_samples`` short-run (``langevin_steps`` from noise)
    and long-run (``long_steps``) samples, their mean energies against the exact <E>_model.
    Checkpointed at every evaluation."""
    import jax
    import jax.numpy as jnp
    from scipy.special import logsumexp

    if dataset not in EBM_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {', '.join(EBM_DATASETS)}")
    iterations = check_positive_int("iterations", iterations)
    hidden = check_positive_int("hidden", hidden)
    batch = check_positive_int("batch_size", batch_size)
    k_steps = check_positive_int("langevin_steps", langevin_steps)
    eta = check_positive_float("langevin_step", langevin_step)
    lr = check_positive_float("lr", lr)
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    buffer = check_positive_int("buffer_size", buffer_size)
    n_train = check_positive_int("n_train", n_train)
    if batch > n_train:
        raise ValueError(f"batch_size {batch} is larger than the data ({n_train} points)")
    if batch > buffer:
        raise ValueError(f"batch_size {batch} is larger than the replay buffer ({buffer})")
    eval_every = min(check_positive_int("eval_every", eval_every), iterations)
    long_steps = check_positive_int("long_steps", long_steps)
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    seed = check_int_seed(seed)
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    settings = {
        "dataset": dataset,
        "iterations": iterations,
        "hidden": hidden,
        "batch_size": batch,
        "langevin_steps": k_steps,
        "langevin_step": eta,
        "lr": lr,
        "alpha": alpha,
        "buffer_size": buffer,
        "n_train": n_train,
        "eval_every": eval_every,
        "long_steps": long_steps,
        "n_samples": n_samples,
        "seed": seed,
    }
    train_x = ebm_data(dataset, n_train, np.random.SeedSequence([seed, 8]))
    test_x = ebm_data(dataset, 2000, np.random.SeedSequence([seed, 9]))
    if np.any(np.abs(train_x) > BOX):  # a handful of tail points: clip rather than lose them
        train_x = np.clip(train_x, -BOX, BOX)
    test_in = test_x[np.all(np.abs(test_x) <= BOX, axis=1)]
    nodes, t1d, w = _grid(151)
    log_pd = _data_log_density(dataset, nodes)
    mass = np.exp(logsumexp(log_pd, b=w))
    p_data = np.exp(log_pd) * w / mass  # the data's probabilities of the grid cells, renormalised on the box
    data_ll = float(np.mean(_data_log_density(dataset, test_in)) - math.log(mass))
    opt, train = _compiled(hidden, batch, k_steps, eval_every, lr, n_train, buffer)
    energy = _compiled_energy()
    n_evals = math.ceil(iterations / eval_every)
    history = {k: np.full(n_evals, np.nan) for k in ("iteration", "test_log_likelihood", "kl", "cd_gap")}
    with jax.enable_x64(False):
        params = {k: jnp.asarray(v, dtype=jnp.float32) for k, v in _init(seed, hidden).items()}
        opt_state = opt.init(params)
        root = jax.random.key(seed)
        buf = jax.random.uniform(jax.random.fold_in(root, -1 % 2**31), (buffer, 2), minval=-BOX, maxval=BOX)
        data = jnp.asarray(train_x, dtype=jnp.float32)
        done = 0
        if checkpoint is not None and Path(checkpoint).is_file():
            params, opt_state, buf, history, done = resume_ebm_checkpoint(
                checkpoint,
                CHECKPOINT_FORMAT,
                CHECKPOINT_VERSION,
                "EBM checkpoint",
                settings,
                params,
                opt_state,
                buf,
                history,
            )
        resumed_from = done
        hyper = (jnp.float32(eta), jnp.float32(alpha))
        with progress_bar(
            total=iterations, initial=done, desc=f"ebm {dataset}", unit="it", progress=progress, worthwhile=True
        ) as bar:
            while done < iterations:
                length = eval_every if iterations - done >= eval_every else iterations - done
                if length != eval_every:
                    _, run = _compiled(hidden, batch, k_steps, length, lr, n_train, buffer)
                else:
                    run = train
                params, opt_state, buf, gaps = run(params, opt_state, buf, jnp.int32(done), root, data, hyper)
                gaps_np = np.asarray(gaps)
                if not np.all(np.isfinite(gaps_np)):
                    raise ValueError(
                        f"EBM training diverged before iteration {done + length}; lower lr or langevin_step"
                    )
                done += length
                e_grid = np.asarray(energy(params, nodes), dtype=np.float64)
                log_z = float(logsumexp(-e_grid, b=w))
                row = (done - 1) // eval_every
                history["iteration"][row] = done
                history["test_log_likelihood"][row] = float(
                    -np.mean(np.asarray(energy(params, test_in), dtype=np.float64)) - log_z
                )
                log_pm = -e_grid - log_z + np.log(w)
                keep = p_data > 0
                history["kl"][row] = float(np.sum(p_data[keep] * (np.log(p_data[keep]) - log_pm[keep])))
                history["cd_gap"][row] = float(gaps_np.mean())
                bar.update(length)
                if checkpoint is not None:
                    save_ebm_checkpoint(
                        checkpoint,
                        CHECKPOINT_FORMAT,
                        CHECKPOINT_VERSION,
                        settings,
                        params,
                        opt_state,
                        buf,
                        history,
                        done,
                    )
        e_grid = np.asarray(energy(params, nodes), dtype=np.float64)
        log_z = float(logsumexp(-e_grid, b=w))
        p_model = np.exp(-e_grid - log_z) * w
        mean_e = float(np.sum(p_model * e_grid))
        sd_e = math.sqrt(float(np.sum(p_model * (e_grid - mean_e) ** 2)))
        k_s = jax.random.fold_in(root, 2**30)
        noise = jax.random.uniform(jax.random.fold_in(k_s, 0), (n_samples, 2), minval=-BOX, maxval=BOX)
        sampler = _compiled_sampler()
        short = sampler(params, noise, jax.random.fold_in(k_s, 1), jnp.int32(k_steps), jnp.float32(eta))
        long = sampler(params, noise, jax.random.fold_in(k_s, 2), jnp.int32(long_steps), jnp.float32(eta))
        sampling: dict[str, dict[str, float]] = {"model": {"mean_energy": mean_e, "sd_energy": sd_e}}
        for name, pts in (("short_run", short), ("long_run", long)):
            e = np.asarray(energy(params, pts), dtype=np.float64)
            sampling[name] = {
                "steps": k_steps if name == "short_run" else long_steps,
                "mean_energy": float(e.mean()),
                "stderr": float(e.std(ddof=1) / math.sqrt(e.size)),
                "gap": float(e.mean() - mean_e),
            }
        params_np = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    return EBMResult(
        settings=settings,
        params=params_np,
        history=history,
        data_log_likelihood=data_ll,
        sampling=sampling,
        density=(p_model / w).reshape(len(t1d), len(t1d)),
        grid=t1d,
        samples_short=np.asarray(short, dtype=np.float64),
        samples_long=np.asarray(long, dtype=np.float64),
        resumed_from=resumed_from,
    )
