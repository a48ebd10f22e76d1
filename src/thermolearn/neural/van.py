"""Variational autoregressive networks (Wu, Wang and Zhang, PRL 2019): the variational free energy bound.

For any normalised q over spin states the Gibbs-Bogoliubov-Feynman bound reads

    F_q = E_q[E(s)] - T S(q) = E_q[E(s) + T log q(s)] >= F = -T ln Z,

with equality iff q = exp(-beta E) / Z (the gap is T KL(q || p)). An autoregressive q
(:class:`~thermolearn.neural.made.MADE`) is sampled exactly and its log q is exact, so F_q is
estimated without bias from samples. Training minimises beta F_q by the score-function
(REINFORCE) gradient

    grad beta F_q = E_q[(f(s) - b) grad log q(s)],   f = beta E + log q,

with the leave-one-out batch mean as the baseline b (unbiased), Adam (optax) with gradient
clipping and a cosine-decayed step, and beta annealing: beta rises linearly from beta / K to
beta over the first K = ``anneal`` x steps steps (the uniform q, where training starts, is the
optimum at beta = 0), which keeps q from collapsing onto one mode early.

Randomness: step k draws from ``fold_in(key(seed), k)`` and one compiled program runs one step,
so a run checkpointed (parameters, optimiser state, history) and resumed is bit-identical to
one never stopped. Training runs in float32; the bound is re-estimated in float64 on fresh
samples (:func:`free_energy_bound`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.models.ising import Ising, check_ising_model
from thermolearn.neural import made, pixelcnn
from thermolearn.neural.made import MADE, MADEConfig
from thermolearn.neural.network import AutoregressiveNetwork
from thermolearn.neural.pixelcnn import PixelCNN, PixelCNNConfig
from thermolearn.progress import progress_bar
from thermolearn.quantum.checkpoints import check_checkpoint_path, load_run, save_run
from thermolearn.randomness.seeds import check_int_seed, numpy_generator
from thermolearn.validation import check_positive_float, check_positive_int, check_temperature

NETWORKS = ("made", "pixelcnn")
DEFAULT_DEPTH = {"made": 1, "pixelcnn": 3}
DEFAULT_CHANNELS = 16
"""Default channels of a PixelCNN layer."""
CHECKPOINT_FORMAT = "thermolearn.van-checkpoint"
DEFAULT_HIDDEN_FACTOR = 2
"""Default width of a hidden layer: this many units per spin (at least 16, at most MAX_DEFAULT_HIDDEN)."""
MAX_DEFAULT_HIDDEN = 128
LARGE_MODEL = 64
"""Above this many spins the default step is DEFAULT_LEARNING_RATE_LARGE: the score-function
gradient is noisier (on the 16 x 16 lattice at beta_c, 0.003 reaches 1.2e-3 where 0.01 stalls at 2.5e-2)."""
DEFAULT_LEARNING_RATE = 0.01
DEFAULT_LEARNING_RATE_LARGE = 0.003


def model_digest(model: Ising) -> str:
    """A short fingerprint of the couplings and fields (identifies the model in checkpoints and files)."""
    ei, ej, w = model.edges()
    digest = hashlib.sha256()
    for a in (ei, ej, w, model.fields):
        arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- the bound
@dataclass(frozen=True)
class FreeEnergyBound:
    """F_q = E_q[E + T log q] (total, energy units) +- its standard error from ``n_samples``
    exact samples of q; F_q >= F up to that error. ``energy`` = E_q[E], ``entropy`` = S(q) (nats),
    ``magnetization_per_spin`` = E_q[sum_i s_i] / n."""

    temperature: float
    n_spins: int
    n_samples: int
    free_energy: float
    free_energy_stderr: float
    energy: float
    energy_stderr: float
    entropy: float
    magnetization_per_spin: float = float("nan")
    magnetization_per_spin_stderr: float = float("nan")

    @property
    def log_z_lower_bound(self) -> float:
        """-F_q / T: a lower bound on ln Z (the ELBO)."""
        return -self.free_energy / self.temperature

    @property
    def free_energy_per_spin(self) -> float:
        """Variational free energy per spin F_q / N, an upper bound on the exact one (units of J)."""
        return self.free_energy / self.n_spins

    def as_dict(self) -> dict[str, Any]:
        """The bound as a JSON-ready dict: F >= F_exact (units of J), ln Z lower bound, energy, entropy,
        magnetisation."""
        return {
            "temperature": self.temperature,
            "n_spins": self.n_spins,
            "n_samples": self.n_samples,
            "free_energy_bound": self.free_energy,
            "free_energy_bound_stderr": self.free_energy_stderr,
            "free_energy_bound_per_spin": self.free_energy_per_spin,
            "log_z_lower_bound": self.log_z_lower_bound,
            "energy": self.energy,
            "energy_stderr": self.energy_stderr,
            "entropy": self.entropy,
            "magnetization_per_spin": self.magnetization_per_spin,
            "magnetization_per_spin_stderr": self.magnetization_per_spin_stderr,
        }


def _family(config: Any) -> Any:
    """The module that computes with networks of this config (MADE or PixelCNN)."""
    return made if isinstance(config, MADEConfig) else pixelcnn


def network_from(config: MADEConfig | PixelCNNConfig, params: dict[str, np.ndarray]) -> AutoregressiveNetwork:
    """The network of this architecture with these parameters."""
    return MADE(config, params) if isinstance(config, MADEConfig) else PixelCNN(config, params)


def check_network_for(network: AutoregressiveNetwork, model: Ising) -> None:
    """Refuse a network whose number of spins differs from the model's."""
    if not isinstance(network, AutoregressiveNetwork):
        raise TypeError(f"network must be a thermolearn.neural MADE or PixelCNN, got {type(network).__name__}")
    check_ising_model(model)
    if network.n_spins != model.n_spins:
        raise ValueError(f"the network is for {network.n_spins} spins, the model has {model.n_spins}")


def draw(network: AutoregressiveNetwork, n_samples: int, seed: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(states int8, log q float64)`` of ``n_samples`` exact samples of q."""
    states = network.sample(n_samples, seed=seed)
    return states, network.log_prob(states)


def free_energy_bound(
    network: AutoregressiveNetwork, model: Ising, temperature: float, *, n_samples: int = 4096, seed: Any = 0
) -> FreeEnergyBound:
    """The variational bound F_q = E_q[E] - T S(q) >= F (energy units) from fresh exact samples.

    Float64 throughout; the error is the standard error of the mean of E + T log q."""
    check_network_for(network, model)
    T = check_temperature(temperature)
    k = check_positive_int("n_samples", n_samples, minimum=2)
    states, log_q = draw(network, k, seed)
    e = np.asarray(model.energy(states), dtype=np.float64)
    f = e + T * log_q
    m = states.mean(axis=1, dtype=np.float64)
    root = math.sqrt(k)
    return FreeEnergyBound(
        temperature=T,
        n_spins=model.n_spins,
        n_samples=k,
        free_energy=float(f.mean()),
        free_energy_stderr=float(f.std(ddof=1) / root),
        energy=float(e.mean()),
        energy_stderr=float(e.std(ddof=1) / root),
        entropy=float(-log_q.mean()),
        magnetization_per_spin=float(m.mean()),
        magnetization_per_spin_stderr=float(m.std(ddof=1) / root),
    )


# ----------------------------------------------------------------------------- training
@dataclass(frozen=True)
class VANResult:
    """A trained network and its training record.

    ``history``: the estimate of F_q (energy units, at that step's annealed temperature) of
    every batch; ``betas``: the annealed inverse temperature of every step; ``bound``: F_q
    re-estimated in float64 on fresh samples at the target temperature; ``resumed_from``: the
    steps read from a checkpoint."""

    network: AutoregressiveNetwork
    temperature: float
    settings: dict[str, Any]
    history: np.ndarray = field(repr=False)
    betas: np.ndarray = field(repr=False)
    bound: FreeEnergyBound
    resumed_from: int = 0

    @property
    def steps(self) -> int:
        """Number of training steps recorded in ``history``."""
        return int(self.history.size)

    def as_dict(self) -> dict[str, Any]:
        """The run as a JSON-ready dict: the network, steps and the free-energy bound."""
        return {
            "network": self.network.network,
            "architecture": self.network.config.as_dict(),
            "n_parameters": self.network.config.n_parameters,
            "steps": self.steps,
            "resumed_from": self.resumed_from,
            **self.bound.as_dict(),
        }


def default_hidden(n_spins: int) -> int:
    return max(16, min(MAX_DEFAULT_HIDDEN, DEFAULT_HIDDEN_FACTOR * n_spins))


@lru_cache(maxsize=16)
def _compiled_step(config: Any, batch: int, learning_rate: float, steps: int, n_edges: int) -> Any:
    """One training step, compiled once per architecture and settings (cached)."""
    import jax
    import jax.numpy as jnp
    import optax

    family = _family(config)
    log_prob_jax, sample_jax = family.log_prob_jax, family.sample_jax
    ms = family.jax_constants(config)
    schedule = optax.cosine_decay_schedule(learning_rate, max(steps, 1), alpha=0.05)
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))

    def step(params, opt_state, key, beta, edge_i, edge_j, weights, fields):
        s = sample_jax(config, ms, params, key, batch)
        energy = -(s[:, edge_i] * s[:, edge_j]) @ weights - s @ fields
        f = jax.lax.stop_gradient(beta * energy + log_prob_jax(config, ms, params, s))
        baseline = (jnp.sum(f) - f) / (batch - 1)  # leave-one-out: unbiased, lower variance

        def surrogate(p):
            return jnp.mean((f - baseline) * log_prob_jax(config, ms, p, s))

        grads = jax.grad(surrogate)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        new = optax.apply_updates(params, updates)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(v)) for v in jax.tree.leaves(new)]))
        return new, opt_state, jnp.where(finite, jnp.mean(f) / beta, jnp.nan)

    def init(params):
        return optimizer.init(params)

    return jax.jit(step), jax.jit(init)


def network_config(
    model: Ising,
    network: str,
    *,
    hidden: int | None = None,
    depth: int | None = None,
    kernel: int = 3,
    symmetric: bool = False,
) -> MADEConfig | PixelCNNConfig:
    """The architecture of a ``network`` ("made" or "pixelcnn") for ``model``, defaults filled in;
    ValueError for a network too large for the model or a PixelCNN on a model without a 2D lattice."""
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}, got {network!r}")
    depth = DEFAULT_DEPTH[network] if depth is None else depth
    n = model.n_spins
    if network == "made":
        return MADEConfig(n, default_hidden(n) if hidden is None else hidden, depth, symmetric)
    geometry = model.geometry
    if geometry is None or len(geometry.shape) != 2:
        raise ValueError(
            "the pixelcnn network needs a 2D lattice model (Ising.lattice((L, L)), or --lattice LxL); "
            "use the made network for other models"
        )
    shape = (int(geometry.shape[0]), int(geometry.shape[1]))
    return PixelCNNConfig(shape, DEFAULT_CHANNELS if hidden is None else hidden, depth, kernel, symmetric)


#: the default fraction of the steps over which beta rises to 1 / T. A quarter: against half (the
#: default up to 0.6.9) it gave F_q 1.3-3x closer to the exact F in the ordered phase of the 2D
#: ferromagnet (L = 16 and 8) and on SK glasses at beta = 0.5 and 1, the same elsewhere within the
#: seed-to-seed spread (docs/benchmarks.md, "Neural samplers")
DEFAULT_ANNEAL = 0.25


def annealed_betas(beta: float, steps: int, anneal: float) -> np.ndarray:
    """beta of every step: a linear rise from beta / K to beta over the first K = anneal x steps."""
    ramp = max(1, int(round(anneal * steps)))
    k = np.arange(1, steps + 1, dtype=np.float64)
    return beta * np.minimum(1.0, k / ramp) if anneal > 0 else np.full(steps, beta)


def train_van(
    model: Ising,
    temperature: float,
    *,
    network: str = "made",
    hidden: int | None = None,
    depth: int | None = None,
    kernel: int = 3,
    symmetric: bool | None = None,
    steps: int = 1000,
    batch_size: int = 256,
    learning_rate: float | None = None,
    anneal: float = DEFAULT_ANNEAL,
    n_eval: int = 4096,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 100,
    progress: bool | None = None,
) -> VANResult:
    """Train a variational autoregressive network q on p = exp(-E/T) / Z by minimising F_q.

    ``network``: "made" (:class:`~thermolearn.neural.made.MADE` with ``depth`` masked layers of
    ``hidden`` units, default 1 layer of 2 per spin, 16 to 128) or "pixelcnn" (a 2D lattice model only:
    :class:`~thermolearn.neural.pixelcnn.PixelCNN` with ``depth`` masked ``kernel`` x ``kernel``
    convolutions of ``hidden`` channels, default 3 layers of 16); ``symmetric``: symmetrise q
    under s -> -s (default: when the model has no fields). ``steps`` Adam steps of ``batch_size`` exact samples,
    ``anneal``: the fraction of the steps over which beta rises to 1 / T (0: none; default a
    quarter, ``DEFAULT_ANNEAL``). Then the
    bound F_q is re-estimated in float64 on ``n_eval`` fresh samples. With ``checkpoint``, the
    run is saved every ``checkpoint_every`` steps and at the end and resumes bit for bit.
    Temperature T in energy units (k_B = 1); F_q is a total (not per spin).
    """
    check_ising_model(model)
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}, got {network!r}")
    T = check_temperature(temperature)
    if symmetric is None:
        symmetric = bool(not np.any(model.fields))
    config = network_config(model, network, hidden=hidden, depth=depth, kernel=kernel, symmetric=symmetric)
    steps = check_positive_int("steps", steps)
    batch = check_positive_int("batch_size", batch_size, minimum=2)
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATE if model.n_spins <= LARGE_MODEL else DEFAULT_LEARNING_RATE_LARGE
    lr = check_positive_float("learning_rate", learning_rate)
    anneal = float(anneal)
    if not 0.0 <= anneal <= 1.0:
        raise ValueError(f"anneal must be a fraction in [0, 1] of the steps, got {anneal!r}")
    n_eval = check_positive_int("n_eval", n_eval, minimum=2)
    seed = check_int_seed(seed)
    every = check_positive_int("checkpoint_every", checkpoint_every)
    check_checkpoint_path(checkpoint)

    import jax
    import jax.numpy as jnp

    ei, ej, w = model.edges()
    graph = (
        jnp.asarray(ei, dtype=jnp.int32),
        jnp.asarray(ej, dtype=jnp.int32),
        jnp.asarray(w, dtype=jnp.float32),
        jnp.asarray(model.fields, dtype=jnp.float32),
    )
    step, init = _compiled_step(config, batch, lr, steps, int(ei.size))
    params = {k: jnp.asarray(v) for k, v in _family(config).init_params(config, numpy_generator(seed)).items()}
    opt_state = init(params)
    betas = annealed_betas(1.0 / T, steps, anneal)
    history = np.full(steps, np.nan)
    run_id = {
        "model": model_digest(model),
        "temperature": T,
        "network": network,
        "architecture": config.as_dict(),
        "steps": steps,
        "batch_size": batch,
        "learning_rate": lr,
        "anneal": anneal,
        "seed": seed,
    }
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        params, opt_state, history, start = _resume(checkpoint, run_id, steps, params, opt_state)
    root = jax.random.key(seed)
    with progress_bar(
        total=steps, initial=start, desc="van", unit="step", progress=progress, worthwhile=steps > 50
    ) as bar:
        for k in range(start, steps):
            new_params, new_state, f = step(
                params, opt_state, jax.random.fold_in(root, k), jnp.float32(betas[k]), *graph
            )
            value = float(f)
            if not math.isfinite(value):  # NaN also when a parameter became NaN or infinite
                where = f"; the last good checkpoint {checkpoint} is kept" if checkpoint is not None else ""
                raise ValueError(
                    f"VAN training diverged at step {k} (F_q estimate {value}, NaN or infinite parameters); "
                    f"lower the learning rate{where}"
                )
            params, opt_state, history[k] = new_params, new_state, value
            bar.update()
            bar.set_postfix_str(f"F_q = {value:.6g}", refresh=False)
            done = k + 1
            if checkpoint is not None and (done % every == 0 or done == steps):
                _save_checkpoint(checkpoint, run_id, done, params, opt_state, history)
    final = network_from(config, {k: np.asarray(v) for k, v in params.items()})
    bound = free_energy_bound(final, model, T, n_samples=n_eval, seed=seed + 1)
    history.setflags(write=False)
    betas.setflags(write=False)
    return VANResult(final, T, run_id, history, betas, bound, start)


# ----------------------------------------------------------------------------- checkpoints
def _save_checkpoint(path, run_id, done, params, opt_state, history) -> None:
    import jax

    arrays = {f"param:{k}": np.asarray(v) for k, v in params.items()}
    for i, leaf in enumerate(jax.tree.leaves(opt_state)):
        arrays[f"opt:{i}"] = np.asarray(leaf)
    arrays["history"] = history
    save_run(path, CHECKPOINT_FORMAT, run_id, arrays, done)


def _resume(path, run_id, steps, params, opt_state):
    """Parameters, optimiser state, history and steps done of a checkpoint of this run, checked."""
    import jax
    import jax.numpy as jnp

    contents, done = load_run(path, CHECKPOINT_FORMAT, run_id, steps, what="VAN checkpoint")
    leaves, treedef = jax.tree.flatten(opt_state)
    names = [f"param:{k}" for k in params] + [f"opt:{i}" for i in range(len(leaves))] + ["history"]
    contents.expect_names(names)
    new_params = {
        k: jnp.asarray(contents.array(f"param:{k}", shape=v.shape, dtype=np.float32)) for k, v in params.items()
    }
    new_leaves = []
    for i, leaf in enumerate(leaves):
        like = np.asarray(leaf)
        kinds = "iu" if like.dtype.kind in "iu" else "f"
        new_leaves.append(jnp.asarray(contents.array(f"opt:{i}", kinds=kinds, shape=like.shape, dtype=like.dtype)))
    history = contents.array("history", shape=(steps,), dtype=np.float64, finite=False).copy()
    if not np.all(np.isfinite(history[:done])):
        raise contents.fail(f"array 'history' must be finite for the {done} steps done")
    return new_params, jax.tree.unflatten(treedef, new_leaves), history, done
