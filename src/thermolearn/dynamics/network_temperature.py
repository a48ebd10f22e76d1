"""The effective temperature of ordinary training: loss fluctuations of a digits MLP under SGD.

Near a minimum the loss is harmonic, L ~ L* + sum_k A_k u_k^2 / 2, and SGD at learning rate eta
and batch S samples it at temperature T ~ eta B / (2 S) per mode (small eta A), so the training
loss fluctuates with standard deviation sd(L) = T sqrt(d / 2) for d modes in equilibrium: the
loss's fluctuations measure a temperature proportional to eta / S. Here one network (the
:mod:`ensembles` MLP on the digits, first brought near a minimum by Adam) is run on with plain
SGD at several (eta, S); the full training loss is recorded every ``record_every`` steps after a
burn-in, and its standard deviation, with an error from the blocked tau_int of (L - <L>)^2, is the
measured temperature scale (nats per example). No exact answer exists for a network; the claim
tested is the collapse onto one curve of eta / S.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from thermolearn.randomness.seeds import check_int_seed
from thermolearn.validation import check_positive_float, check_positive_int


@dataclass(frozen=True)
class LossFluctuation:
    """One (eta, S) run: mean and standard deviation of the training loss (nats per example)."""

    lr: float
    batch: int
    mean_loss: float
    mean_loss_stderr: float
    sd_loss: float
    sd_loss_stderr: float

    def as_dict(self) -> dict[str, Any]:
        """The measurement as a JSON-ready dict: lr, batch, lr / batch and the loss's mean and sd (nats) with errors."""
        return {
            "lr": self.lr,
            "batch": self.batch,
            "lr_over_batch": self.lr / self.batch,
            "mean_loss": {"mean": self.mean_loss, "stderr": self.mean_loss_stderr},
            "sd_loss": {"mean": self.sd_loss, "stderr": self.sd_loss_stderr},
        }


@functools.lru_cache(maxsize=8)
def _compiled_sgd(batch: int, n_train: int, record_every: int, n_records: int):
    import jax
    import jax.numpy as jnp

    from thermolearn.dynamics.ensembles import _losses

    def run(params, key, lr, x, y):
        def chunk(p, k):
            def step(p, kk):
                idx = jax.random.choice(kk, n_train, (batch,), replace=False)
                g = jax.grad(lambda q: _losses("digits", q, x[idx], y[idx]).mean())(p)
                return jax.tree.map(lambda a, b: a - lr * b, p, g), None

            p, _ = jax.lax.scan(step, p, jax.random.split(k, record_every))
            return p, _losses("digits", p, x, y).mean()

        p, record = jax.lax.scan(chunk, params, jax.random.split(key, n_records))
        return jnp.asarray(record)

    return jax.jit(run)


def network_loss_fluctuations(
    settings: list[tuple[float, int]],
    *,
    steps: int = 4000,
    record_every: int = 10,
    hidden: int = 32,
    pretrain_epochs: int = 10,
    seed: int = 0,
) -> list[LossFluctuation]:
    """For each (lr, batch) in ``settings``: plain SGD for ``steps`` steps on the digits MLP from
    one Adam-pretrained start, the full training loss every ``record_every`` steps; the first
    half is burn-in. Returns the loss's mean and standard deviation with errors."""
    import jax
    import jax.numpy as jnp

    from thermolearn.dynamics.ensembles import _task_data, train_ensemble
    from thermolearn.estimators.autocorrelation import integrated_autocorrelation_time

    steps = check_positive_int("steps", steps)
    record_every = check_positive_int("record_every", record_every)
    n_records = steps // record_every
    if n_records < 20:
        raise ValueError(f"steps / record_every = {n_records} records; at least 20 are needed")
    seed = check_int_seed(seed)
    checked = [(check_positive_float("lr", lr), check_positive_int("batch", s)) for lr, s in settings]
    data = _task_data("digits", 0)
    n_train = data["x_train"].shape[0]
    for _, s in checked:
        if s > n_train:
            raise ValueError(f"batch {s} is larger than the data ({n_train} points)")
    start = train_ensemble("digits", seeds=1, epochs=pretrain_epochs, hidden=hidden, lr=3e-3, seed=seed, progress=False)
    out = []
    with jax.enable_x64(False):
        params = {k: jnp.asarray(v[0], dtype=jnp.float32) for k, v in start.params.items()}
        x = jnp.asarray(data["x_train"], dtype=jnp.float32)
        y = jnp.asarray(data["y_train"])
        for i, (lr, s) in enumerate(checked):
            run = _compiled_sgd(s, n_train, record_every, n_records)
            losses = np.asarray(run(params, jax.random.fold_in(jax.random.key(seed), i), jnp.float32(lr), x, y))
            if not np.all(np.isfinite(losses)):
                raise ValueError(f"SGD diverged at lr {lr:g}, batch {s}; choose a smaller lr")
            tail = losses[n_records // 2 :].astype(np.float64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                m = integrated_autocorrelation_time(tail)
                v = integrated_autocorrelation_time((tail - tail.mean()) ** 2)
            sd = math.sqrt(max(v.mean, 0.0))
            sd_err = v.stderr / (2 * sd) if sd > 0 else 0.0
            out.append(LossFluctuation(lr, s, m.mean, m.stderr, sd, sd_err))
    return out
