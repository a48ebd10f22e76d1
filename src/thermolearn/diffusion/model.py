"""A diffusion probabilistic model: a forward process plus a learned reverse process.

:class:`DiffusionConfig` says what the model is (process, schedule, number of steps T,
parameterisation, network); :class:`DiffusionModel` holds the config and the network and
computes the reverse kernels, the training losses, the bound's terms and samples.

Reverse kernels p(x_{t-1} | x_t), t = T..1, with network outputs f_mu, f_v (per dimension):

* ``paper`` (Sohl-Dickstein et al. 2015, their reference code): mean = sqrt(1 - beta_t) x_t +
  sqrt(beta_t) f_mu; variance = sigmoid(f_v / sqrt(T) + logit(beta_t)) (learned) or beta_t.
* ``eps`` (Ho et al. 2020): the network predicts the noise, mean = (x_t - beta_t /
  sqrt(1 - alpha_bar_t) f_mu) / sqrt(alpha_t); variance = exp(v log beta_t + (1 - v) log
  beta_tilde_t) with v = (f_v + 1)/2 (learned, Nichol & Dhariwal 2021) or beta_tilde_t (fixed;
  beta_tilde_2 at t = 1).
* binomial: p(x_{t-1} = 1 | x_t) = sigmoid(logit(x_t (1 - beta_t) + beta_t/2) + f).

The last reverse step p(x_0 | x_1) is learned like the others (the paper instead fixes it to
the forward kernel's time reversal); p(x_T) is N(0, I) or fair coins.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from thermolearn.diffusion.binomial import BinomialDiffusion, bernoulli_kl
from thermolearn.diffusion.gaussian import GaussianDiffusion, gaussian_kl, gaussian_log_density
from thermolearn.diffusion.networks import NETWORKS, TimeConvNet, TimeMLP, TimeResMLP
from thermolearn.diffusion.schedules import DIFFUSION_SCHEDULES, check_beta_1
from thermolearn.file_contents import FileContents
from thermolearn.randomness.seeds import int_seed, jax_key
from thermolearn.resources import check_memory
from thermolearn.storage import FileFormatError, load_arrays, save_arrays

if TYPE_CHECKING:
    import os

    from jax.typing import ArrayLike

    from thermolearn.randomness.seeds import SeedLike

PROCESSES = ("gaussian", "binomial")
PARAMETERIZATIONS = ("paper", "eps")
OBJECTIVES = ("vb", "simple", "hybrid")
FILE_FORMAT = "thermolearn.diffusion"
FILE_VERSION = 1
HYBRID_WEIGHT = 1e-3  # Nichol & Dhariwal's lambda for the bound term of the hybrid loss
_PARAM_PREFIX = "net"


@dataclass(frozen=True)
class DiffusionConfig:
    """What a diffusion model is. ``dim`` is the data dimension; images also give ``image_shape``."""

    dim: int
    steps: int = 40
    process: str = "gaussian"
    schedule: str | None = None  # default: "snr" (gaussian) or "binomial"
    beta_1: float | None = None
    parameterization: str = "paper"
    learn_variance: bool = True
    network: str = "mlp"
    hidden: int = 128
    depth: int = 3
    channels: int = 32
    image_shape: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        for name in ("dim", "steps", "hidden", "depth", "channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.steps < 2:
            raise ValueError(f"steps (the number of diffusion steps T) must be >= 2, got {self.steps}")
        if self.process not in PROCESSES:
            raise ValueError(f"process must be one of {', '.join(PROCESSES)}, got {self.process!r}")
        if self.schedule is None:
            object.__setattr__(self, "schedule", "snr" if self.process == "gaussian" else "binomial")
        if self.schedule not in DIFFUSION_SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(DIFFUSION_SCHEDULES)}, got {self.schedule!r}")
        if self.process == "gaussian" and self.schedule == "binomial":
            raise ValueError(
                "the binomial schedule ends with beta_T = 1; Gaussian diffusion needs snr, paper, linear or cosine"
            )
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"parameterization must be one of {', '.join(PARAMETERIZATIONS)}, got {self.parameterization!r}"
            )
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {', '.join(NETWORKS)}, got {self.network!r}")
        if self.image_shape is not None:
            shape = tuple(int(s) for s in self.image_shape)
            if len(shape) != 2 or shape[0] * shape[1] != self.dim:
                raise ValueError(f"image_shape {self.image_shape} does not match dim {self.dim}")
            object.__setattr__(self, "image_shape", shape)
        if self.network == "conv" and self.image_shape is None:
            raise ValueError("the conv network needs image data (image_shape)")
        check_beta_1(self.schedule, self.beta_1)  # here, not when the process is first built

    def as_dict(self) -> dict:
        """The config as a JSON-ready dict (``image_shape`` as a list or None)."""
        d = asdict(self)
        d["image_shape"] = list(self.image_shape) if self.image_shape else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DiffusionConfig:
        """The config from :meth:`as_dict`'s dict; ``ValueError`` on unknown fields."""
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown diffusion config fields {sorted(unknown)}")
        d = dict(d)
        if d.get("image_shape") is not None:
            d["image_shape"] = tuple(d["image_shape"])
        return cls(**d)

    @classmethod
    def for_dataset(cls, data: Any, **overrides: Any) -> DiffusionConfig:
        """The preset model for a :class:`~thermolearn.datasets.Dataset` (see :mod:`thermolearn.diffusion.presets`)."""
        from thermolearn.diffusion.presets import preset_config

        return preset_config(data, **overrides)


def check_objective(config: DiffusionConfig, objective: str) -> None:
    """Raise if ``objective`` cannot train a model of ``config``."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    if objective != "vb":
        if config.process != "gaussian" or config.parameterization != "eps":
            raise ValueError(
                f"objective {objective!r} needs Gaussian diffusion with the eps parameterisation; use 'vb'"
            )
        if objective == "simple" and config.learn_variance:
            raise ValueError("objective 'simple' does not train a learned variance; use 'hybrid' or --fixed-variance")
        if objective == "hybrid" and not config.learn_variance:
            raise ValueError("objective 'hybrid' is for a learned variance; use 'simple'")


class StaticModel:
    """A hashable stand-in for a model as a static argument of compiled functions.

    Two models with the same class and config compile to the same program (the network's
    weights are passed separately), so compiled code is shared between model objects.
    """

    __slots__ = ("model", "key")

    def __init__(self, model) -> None:
        self.model = model
        self.key = model._jit_key()

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, StaticModel) and self.key == other.key


def _logit(p):
    return jnp.log(p) - jnp.log1p(-p)


def param_arrays(tree, prefix: str) -> dict[str, np.ndarray]:
    """The arrays of a pytree (network or optimiser state) as ``{prefix + path: array}``."""
    leaves = jax.tree_util.tree_flatten_with_path(eqx.filter(tree, eqx.is_array))[0]
    return {prefix + jax.tree_util.keystr(path): np.asarray(leaf) for path, leaf in leaves}


def restore_arrays(template, arrays: dict[str, np.ndarray], prefix: str, what: str):
    """A copy of ``template`` whose arrays are taken, by name, from ``arrays`` (shapes checked)."""
    params, static = eqx.partition(template, _is_array_like, is_leaf=_is_abstract)
    paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(params, is_leaf=_is_abstract)
    new = []
    for path, leaf in paths_leaves:
        name = prefix + jax.tree_util.keystr(path)
        if name not in arrays:
            raise ValueError(f"{what} lacks array {name!r}; it was written for a different architecture")
        arr = np.asarray(arrays[name])
        if tuple(arr.shape) != tuple(leaf.shape):
            raise ValueError(f"{what}: array {name!r} has shape {arr.shape}, the model needs {tuple(leaf.shape)}")
        want = np.dtype(leaf.dtype).kind
        # a weight must be real floats (a cast would drop an imaginary part or hide integers
        # where floats were written), a counter non-negative integers; neither may be NaN
        if (want == "f" and arr.dtype.kind != "f") or (want in "iu" and arr.dtype.kind not in "iu"):
            raise ValueError(f"{what}: array {name!r} holds {arr.dtype}, the model needs {np.dtype(leaf.dtype)}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValueError(f"{what}: array {name!r} contains NaN or infinity; only finite values are allowed")
        if arr.dtype.kind in "iu" and arr.size and arr.min() < 0:
            raise ValueError(f"{what}: array {name!r} must be >= 0 (a counter), got {arr.min()}")
        new.append(jnp.asarray(arr, dtype=leaf.dtype))
    expected = {prefix + jax.tree_util.keystr(p) for p, _ in paths_leaves}
    extra = [k for k in arrays if k.startswith(prefix) and k not in expected]
    if extra:
        raise ValueError(f"{what} has arrays the model does not know: {extra[:3]}")
    return eqx.combine(jax.tree_util.tree_unflatten(treedef, new), static)


class DiffusionModel:
    """A config plus its network (an equinox module). Create with :meth:`create` or :meth:`load`."""

    def __init__(self, config: DiffusionConfig, net: eqx.Module) -> None:
        if not isinstance(config, DiffusionConfig):
            raise TypeError(f"config must be a DiffusionConfig, got {type(config).__name__}")
        self._config = config
        self.net = net

    @property
    def config(self) -> DiffusionConfig:
        """The model's settings, fixed: the network was built and the noise process is cached from
        them (:meth:`process`); for other settings make a new model."""
        return self._config

    # construction ------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, config: DiffusionConfig | None = None, *, seed: int | jax.Array = 0, **kwargs: Any
    ) -> DiffusionModel:
        """A new model with freshly initialised weights (``seed``: int or JAX key)."""
        if config is None:
            config = DiffusionConfig(**kwargs)
        elif kwargs:
            raise TypeError("give either a DiffusionConfig or keyword arguments, not both")
        check_model_memory(config)
        return cls(config, cls.build_network(config, seed))

    @staticmethod
    def network_skeleton(config: DiffusionConfig) -> eqx.Module:
        """The network's structure with ``jax.ShapeDtypeStruct`` leaves (nothing computed)."""
        out = 2 if (config.process == "gaussian" and config.learn_variance) else 1
        if config.network == "mlp":

            def ctor(key):
                return TimeMLP(
                    config.dim, out, hidden=config.hidden, depth=config.depth, max_steps=config.steps, key=key
                )
        elif config.network == "resmlp":

            def ctor(key):
                return TimeResMLP(
                    config.dim, out, hidden=config.hidden, depth=config.depth, max_steps=config.steps, key=key
                )
        else:

            def ctor(key):
                return TimeConvNet(
                    config.image_shape,
                    out,
                    channels=config.channels,
                    depth=config.depth,
                    max_steps=config.steps,
                    key=key,
                )

        return eqx.filter_eval_shape(ctor, jax.random.PRNGKey(0))

    @classmethod
    def build_network(cls, config: DiffusionConfig, seed: int | jax.Array) -> eqx.Module:
        """A freshly initialised network: weights uniform in +-1/sqrt(fan_in) (PyTorch's and equinox's
        default), biases likewise, layer norms the identity, the output layer zero; drawn with NumPy from ``seed`` (fast, no
        compilation)."""
        skeleton = cls.network_skeleton(config)
        rng = np.random.default_rng(int_seed(seed))
        paths_leaves, treedef = jax.tree_util.tree_flatten_with_path(skeleton, is_leaf=_is_abstract)
        fan_in = {}
        for path, leaf in paths_leaves:
            name = jax.tree_util.keystr(path)
            if _is_abstract(leaf) and name.endswith(".weight"):
                fan_in[name[: -len(".weight")]] = int(np.prod(leaf.shape[1:]))
        new = []
        for path, leaf in paths_leaves:
            if not _is_abstract(leaf):
                new.append(leaf)
                continue
            name = jax.tree_util.keystr(path)
            owner = name.rsplit(".", 1)[0]
            if owner == ".out":
                value = np.zeros(leaf.shape)
            elif owner.startswith(".norms["):  # layer norms start as the identity
                value = np.ones(leaf.shape) if name.endswith(".weight") else np.zeros(leaf.shape)
            else:
                limit = 1.0 / math.sqrt(max(fan_in.get(owner, 1), 1))
                value = rng.uniform(-limit, limit, size=leaf.shape)
            new.append(jnp.asarray(value, dtype=leaf.dtype))
        return jax.tree_util.tree_unflatten(treedef, new)

    @cached_property
    def process(self) -> GaussianDiffusion | BinomialDiffusion:
        """The forward process (Gaussian or binomial) built from the config's schedule."""
        c = self.config
        kind = GaussianDiffusion if c.process == "gaussian" else BinomialDiffusion
        assert c.schedule is not None  # DiffusionConfig.__post_init__ fills the default
        return kind.from_schedule(c.schedule, c.steps, beta_1=c.beta_1)

    @property
    def T(self) -> int:
        """Number of diffusion steps T."""
        return self.config.steps

    @property
    def dim(self) -> int:
        """Data dimension (coordinates or pixels per sample)."""
        return self.config.dim

    def n_parameters(self) -> int:
        """Number of trainable network parameters (array entries)."""
        return int(sum(np.size(a) for a in jax.tree_util.tree_leaves(eqx.filter(self.net, eqx.is_array))))

    # the reverse process ---------------------------------------------------------------------
    def _outputs(self, net, x_t, t):
        out = jax.vmap(net)(x_t, jnp.asarray(t, dtype=jnp.float32))
        d = self.dim
        return out[:, :d], (out[:, d:] if out.shape[1] > d else None)

    def reverse_mean_var(self, net: eqx.Module, x_t: jax.Array, t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """Mean and variance (broadcastable to x_t) of the Gaussian p(x_{t-1} | x_t)."""
        if self.config.process != "gaussian":
            raise ValueError("reverse_mean_var is for Gaussian diffusion; binomial models have reverse_prob")
        p, c = self.process, self.config
        assert isinstance(p, GaussianDiffusion)  # the process follows config.process
        f_mu, f_v = self._outputs(net, x_t, t)
        beta = p._at(p.beta, t)
        if c.parameterization == "paper":
            mean = jnp.sqrt(1.0 - beta) * x_t + jnp.sqrt(beta) * f_mu
            var = jax.nn.sigmoid(f_v / math.sqrt(c.steps) + _logit(beta)) if f_v is not None else beta
        else:
            mean = (x_t - beta / jnp.sqrt(p._at(p.one_minus_alpha_bar, t)) * f_mu) / jnp.sqrt(1.0 - beta)
            log_small = p._at(p.log_posterior_variance_clipped, t)
            if f_v is not None:
                v = 0.5 * (f_v + 1.0)
                var = jnp.exp(v * jnp.log(beta) + (1.0 - v) * log_small)
            else:
                var = jnp.exp(log_small)
        return mean, var

    def reverse_logits(self, net: eqx.Module, x_t: jax.Array, t: jax.Array) -> jax.Array:
        """Logits of p(x_{t-1} = 1 | x_t) for binomial diffusion."""
        if self.config.process != "binomial":
            raise ValueError("reverse_logits is for binomial diffusion")
        f, _ = self._outputs(net, x_t, t)
        p = self.process
        assert isinstance(p, BinomialDiffusion)  # the process follows config.process
        neutral = jnp.clip(p.step_prob(x_t, t), 1e-6, 1 - 1e-6)
        return _logit(neutral) + f

    # training losses -------------------------------------------------------------------------
    def loss(self, net: eqx.Module, x0: jax.Array, key: jax.Array, objective: str = "vb") -> jax.Array:
        """Mean training loss of a batch ``x0`` at uniformly drawn steps (nats per dimension for 'vb').

        'vb': T times the bound's term at the drawn step (an unbiased estimate of the bound
        without its constant prior term); 'simple': Ho et al.'s noise-prediction MSE; 'hybrid':
        simple + 1e-3 vb with the mean held fixed in the vb part (trains a learned variance).
        """
        check_objective(self.config, objective)
        c, p = self.config, self.process
        n, d = x0.shape
        k_t, k_x = jax.random.split(key)
        t = jax.random.randint(k_t, (n,), 1, c.steps + 1)
        if c.process == "binomial":
            assert isinstance(p, BinomialDiffusion)  # the process follows config.process
            x_t = jax.random.bernoulli(k_x, p.marginal_prob(x0, t)).astype(x0.dtype)
            return c.steps * jnp.mean(self._binomial_term(net, x0, x_t, t)) / d
        assert isinstance(p, GaussianDiffusion)
        noise = jax.random.normal(k_x, x0.shape, dtype=x0.dtype)
        x_t = p.marginal_sample(x0, t, noise)
        if objective == "vb":
            mean, var = self.reverse_mean_var(net, x_t, t)
            return c.steps * jnp.mean(self._gaussian_term(x0, x_t, t, mean, var)) / d
        f_mu, _ = self._outputs(net, x_t, t)
        simple = jnp.mean((f_mu - noise) ** 2)
        if objective == "simple":
            return simple
        mean, var = self.reverse_mean_var(net, x_t, t)
        vb = c.steps * jnp.mean(self._gaussian_term(x0, x_t, t, jax.lax.stop_gradient(mean), var)) / d
        return simple + HYBRID_WEIGHT * vb

    def _gaussian_term(self, x0, x_t, t, mean, var):
        """-log p(x_0|x_1) at t = 1, KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t)) at t >= 2 (nats, per sample)."""
        q_mean, q_var = self.process.posterior_mean_var(x_t, x0, t)
        kl = gaussian_kl(q_mean, jnp.maximum(q_var, 1e-30), mean, var)
        nll = -gaussian_log_density(x0, mean, var)
        return jnp.where(t == 1, nll, kl)

    def _binomial_term(self, net, x0, x_t, t):
        logits = self.reverse_logits(net, x_t, t)
        q = self.process.posterior_prob(x_t, x0, t)
        log_p1, log_p0 = jax.nn.log_sigmoid(logits), jax.nn.log_sigmoid(-logits)
        qc = jnp.clip(q, 0.0, 1.0)
        ent = jnp.where(qc > 0, qc * jnp.log(jnp.maximum(qc, 1e-30)), 0.0) + jnp.where(
            qc < 1, (1 - qc) * jnp.log(jnp.maximum(1 - qc, 1e-30)), 0.0
        )
        kl = jnp.sum(ent - qc * log_p1 - (1 - qc) * log_p0, axis=-1)
        nll = -jnp.sum(jnp.where(x0 > 0.5, log_p1, log_p0), axis=-1)
        return jnp.where(t == 1, nll, kl)

    # the bound, term by term ------------------------------------------------------------------
    def bound_terms(self, x0: ArrayLike, key: SeedLike | jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
        """The bound's terms for each sample of ``x0`` (nats): ``(prior_kl, kl, reconstruction)``.

        ``prior_kl`` (n,) is KL(q(x_T|x_0) || p(x_T)); ``kl`` (n, T-1) holds E KL(q(x_{t-1}|x_t,x_0)
        || p(x_{t-1}|x_t)) for t = 2..T, each with one fresh x_t ~ q(x_t|x_0) and the KL in closed
        form; ``reconstruction`` (n,) is log p(x_0|x_1) at one x_1 ~ q(x_1|x_0). The bound is
        reconstruction - prior_kl - kl.sum(1).
        """
        x0 = jnp.asarray(x0, dtype=jnp.float32)
        jkey = jax_key(key)
        if self.config.network != "conv":
            return _bound_terms(StaticModel(self), self.net, x0, jkey)
        # convolutions run far slower inside compiled loops on the CPU: one compiled call per step t
        static = StaticModel(self)
        keys = jax.random.split(jkey, self.T)
        per_t = jnp.stack(
            [_bound_term_at(static, self.net, x0, jnp.int32(t), keys[t - 1]) for t in range(1, self.T + 1)]
        )
        return _prior_kl_jit(static, x0), per_t[1:].T, -per_t[0]

    def prior_kl(self, x0: jax.Array) -> jax.Array:
        """KL(q(x_T | x_0) || p(x_T)) per sample of ``x0`` (nats); p(x_T) is N(0, I) or fair coins."""
        p = self.process
        T = self.T
        t = jnp.full((x0.shape[0],), T)
        if self.config.process == "gaussian":
            assert isinstance(p, GaussianDiffusion)  # the process follows config.process
            mean, var = p.marginal_mean_var(x0, t)
            return gaussian_kl(mean, var, 0.0, 1.0)
        assert isinstance(p, BinomialDiffusion)
        return bernoulli_kl(p.marginal_prob(x0, t), 0.5)

    # sampling -------------------------------------------------------------------------------
    def sample(
        self, n: int, *, seed: SeedLike | jax.Array = 0, trajectory: bool = False, denoise_last: bool = False
    ) -> np.ndarray:
        """Ancestral samples ``(n, dim)`` of p(x_0), or the whole reverse path ``(T + 1, n, dim)`` (index t)."""
        from thermolearn.validation import check_positive_int

        n = check_positive_int("n", n)
        # XLA aborts or raises its own error on a buffer it cannot get: estimate first (float32
        # states, noise and network activations per step, the whole path with ``trajectory``)
        width = self.dim + 2 * max(self.config.hidden, self.config.channels * self.dim)
        kept = (self.T + 1) * self.dim if trajectory else 0
        check_memory(f"sampling n = {n} points", float(n) * 4.0 * (4 * width + kept), hint="choose a smaller n")
        if self.config.network != "conv":
            out = _sample_jit(StaticModel(self), self.net, n, jax_key(seed), trajectory, denoise_last)
        else:  # one compiled call per step (see bound_terms)
            static = StaticModel(self)
            k0, kloop = jax.random.split(jax_key(seed))
            keys = jax.random.split(kloop, self.T)
            x = _sample_start(static, n, k0)
            path = [x]
            for k, t in enumerate(range(self.T, 0, -1)):
                x = _sample_step(static, self.net, x, jnp.int32(t), keys[k], denoise_last)
                path.append(x)
            out = jnp.stack(path[::-1]) if trajectory else x
        return np.asarray(out, dtype=np.float64)

    def forward_trajectory(self, x0: ArrayLike, *, seed: SeedLike | jax.Array = 0) -> np.ndarray:
        """Run the forward kernels from ``x0``: array ``(T + 1, n, dim)`` with index t."""
        x0 = jnp.asarray(x0, dtype=jnp.float32)
        return np.asarray(_forward_jit(StaticModel(self), x0, jax_key(seed)), dtype=np.float64)

    def drift(self, x_t: ArrayLike, t: int) -> np.ndarray:
        """The reverse step's mean displacement mu(x_t, t) - x_t (Gaussian models)."""
        if self.config.process != "gaussian":
            raise ValueError("drift is defined for Gaussian diffusion")
        x_t = jnp.asarray(x_t, dtype=jnp.float32)
        mean, _ = _reverse_jit(StaticModel(self), self.net, x_t, jnp.full((x_t.shape[0],), int(t)))
        return np.asarray(mean - x_t, dtype=np.float64)

    def reverse_entropy(self, x_t: ArrayLike, t: int) -> np.ndarray:
        """Entropy per dimension (nats) of the learned p(x_{t-1} | x_t) at each point ``x_t``."""
        x_t = jnp.asarray(x_t, dtype=jnp.float32)
        out = _reverse_jit(StaticModel(self), self.net, x_t, jnp.full((x_t.shape[0],), int(t)))
        if self.config.process == "gaussian":
            var = np.broadcast_to(np.asarray(out[1], dtype=np.float64), x_t.shape)
            return np.mean(0.5 * (math.log(2 * math.pi) + 1 + np.log(var)), axis=1)
        from thermolearn.diffusion.binomial import binary_entropy

        prob = 1.0 / (1.0 + np.exp(-np.asarray(out, dtype=np.float64)))
        return binary_entropy(prob).mean(axis=1)

    def _jit_key(self):
        """What compiled code depends on besides the weights: the class and the config."""
        return (type(self), self.config)

    # files ------------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """The network's weights as named NumPy arrays (as :meth:`save` writes them)."""
        return param_arrays(self.net, _PARAM_PREFIX)

    def header(self, **extra: Any) -> dict:
        """The JSON header :meth:`save` writes: format, version, config, the schedule's betas and ``extra``."""
        # the betas themselves, so that a file never loads with a schedule whose constants changed
        betas = [float(b) for b in np.asarray(self.process.betas_in, dtype=np.float64)]
        return {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "config": self.config.as_dict(),
            "betas": betas,
            **extra,
        }

    def save(self, path: str | os.PathLike, **extra_header: Any) -> None:
        """Write the model to ``path`` (.npz: named weight arrays + JSON header; atomic, no pickle).

        ``extra_header`` (JSON-serialisable) is stored too, e.g. ``dataset=...``, ``training=...``.
        """
        save_arrays(path, self.arrays(), self.header(**extra_header))

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple[DiffusionModel, dict]:
        """``(model, header)`` from a file written by :meth:`save` (or a training checkpoint).

        A checkpoint of a run with a moving average (``ema_decay``) gives the averaged weights,
        the model that run returns and saves, not the raw weights it keeps to resume from.
        """
        arrays, header = load_arrays(path)
        arrays = _with_average_as_network(arrays, header, str(path))
        return cls.from_arrays(arrays, header, what=str(path)), header

    @classmethod
    def from_arrays(
        cls, arrays: dict[str, np.ndarray], header: dict[str, Any], what: str = "model file"
    ) -> DiffusionModel:
        """The model in ``arrays`` and ``header`` (as :meth:`save` writes them), every entry checked.

        The config must be a valid :class:`DiffusionConfig` whose network and schedule fit in
        memory, the betas a list of numbers equal to the schedule's, every weight of the
        network's shape, real and finite. Anything else raises ``FileFormatError`` naming ``what``.
        """
        contents = FileContents(what, arrays, header)
        contents.expect_format(FILE_FORMAT, [FILE_VERSION], what="thermolearn diffusion model")
        raw = contents.value("config", dict)
        try:
            config = DiffusionConfig.from_dict(raw)
        except (TypeError, ValueError) as exc:
            raise contents.fail(f"invalid config: {exc}"[:400]) from None
        try:
            check_model_memory(config)
            net = restore_arrays(cls.network_skeleton(config), arrays, _PARAM_PREFIX, what)
        except ValueError as exc:
            message = str(exc)
            raise contents.fail(message.removeprefix(f"{what}: ").removeprefix(f"{what} ")) from None
        model = cls(config, net)
        if "betas" in header:  # files from before 0.5 do not record them
            betas = contents.value("betas", list)
            if not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in betas):
                raise contents.fail("header entry 'betas' must be a list of numbers")
            saved = np.asarray(betas, dtype=np.float64)
            now = np.asarray(model.process.betas_in, dtype=np.float64)
            if saved.shape != now.shape or not np.allclose(saved, now, rtol=1e-12, atol=0.0):
                raise contents.fail(
                    f"was trained with a {config.schedule} noise schedule that this thermolearn "
                    "computes differently (its constants changed, or the betas were edited); use the version that wrote it"
                )
        return model


_AVERAGE_PREFIX = "ema"  # the moving average's arrays in a training checkpoint (training.py writes them)


def _with_average_as_network(arrays: dict, header: dict, what: str) -> dict:
    """``arrays`` with a training checkpoint's moving average in place of its raw network.

    Training with ``ema_decay`` returns the average as the model, but its checkpoints must also
    keep the raw weights (the optimiser continues from them); a model loaded from such a
    checkpoint is the average, as the finished run's model file is. Other files pass unchanged.
    """
    record = header.get("checkpoint")
    run_args = record.get("args") if isinstance(record, dict) else None
    decay = run_args.get("ema_decay") if isinstance(run_args, dict) else None
    averaged = [name for name in arrays if name.startswith(_AVERAGE_PREFIX)]
    if not decay and not averaged:
        return arrays
    if not decay or not averaged:
        raise FileFormatError(
            f"{what}: a moving average needs both a checkpoint record with ema_decay and the "
            f"'{_AVERAGE_PREFIX}' arrays; this file has "
            + ("only the arrays" if averaged else "only the record")
            + " (damaged or edited)"
        )
    out = {name: value for name, value in arrays.items() if not name.startswith(_PARAM_PREFIX)}
    out.update({_PARAM_PREFIX + name[len(_AVERAGE_PREFIX) :]: arrays[name] for name in averaged})
    return out


def check_model_memory(config: DiffusionConfig, copies: float = 8.0) -> None:
    """Raise ``ValueError`` if a model of ``config`` cannot fit in memory, before building it.

    Counts ``copies`` float32 copies of the parameters (weights, Adam's two moments, gradients,
    the moving average, a checkpoint) from the network's abstract shapes, and the schedule's
    per-step arrays; nothing is allocated.
    """
    # per-step schedule constants (float64, a dozen arrays) and the time embedding's table
    schedule_bytes = 8.0 * 16 * config.steps
    check_memory(f"a diffusion model with T = {config.steps} steps", schedule_bytes, hint="choose fewer --steps")
    n_params = sum(
        float(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(DiffusionModel.network_skeleton(config))
    )
    check_memory(
        f"a diffusion network of {n_params:.3g} parameters (hidden {config.hidden}, depth {config.depth})",
        4.0 * copies * n_params + schedule_bytes,
        hint="choose a smaller --hidden or --depth",
    )


def _is_abstract(x) -> bool:
    return isinstance(x, jax.ShapeDtypeStruct)


def _is_array_like(x) -> bool:
    return eqx.is_array(x) or isinstance(x, jax.ShapeDtypeStruct)


def _term_at(model, net, x0, t_scalar, k):
    c, p = model.config, model.process
    t = jnp.full((x0.shape[0],), t_scalar)
    if c.process == "gaussian":
        x_t = p.marginal_sample(x0, t, jax.random.normal(k, x0.shape, dtype=x0.dtype))
        mean, var = model.reverse_mean_var(net, x_t, t)
        return model._gaussian_term(x0, x_t, t, mean, var)
    x_t = jax.random.bernoulli(k, p.marginal_prob(x0, t)).astype(x0.dtype)
    return model._binomial_term(net, x0, x_t, t)


@eqx.filter_jit
def _bound_term_at(static, net, x0, t_scalar, k):
    return _term_at(static.model, net, x0, t_scalar, k)


@eqx.filter_jit
def _prior_kl_jit(static, x0):
    return static.model.prior_kl(x0)


@eqx.filter_jit
def _bound_terms(static, net, x0, key):
    model = static.model
    keys = jax.random.split(key, model.T)
    ts = jnp.arange(1, model.T + 1)
    per_t = jax.lax.map(lambda a: _term_at(model, net, x0, a[0], a[1]), (ts, keys))  # (T, n)
    return model.prior_kl(x0), per_t[1:].T, -per_t[0]


@eqx.filter_jit
def _reverse_jit(static, net, x_t, t):
    model = static.model
    if model.config.process == "gaussian":
        return model.reverse_mean_var(net, x_t, t)
    return model.reverse_logits(net, x_t, t)


@eqx.filter_jit
def _forward_jit(static, x0, key):
    model = static.model
    p = model.process

    def step(x, args):
        t_scalar, k = args
        t = jnp.full((x0.shape[0],), t_scalar)
        if model.config.process == "gaussian":
            x_new = p.step_sample(x, t, jax.random.normal(k, x.shape))
        else:
            x_new = jax.random.bernoulli(k, p.step_prob(x, t)).astype(jnp.float32)
        return x_new, x_new

    _, path = jax.lax.scan(step, x0, (jnp.arange(1, model.T + 1), jax.random.split(key, model.T)))
    return jnp.concatenate([x0[None], path], axis=0)


def _start(model, n, k0):
    if model.config.process == "gaussian":
        return jax.random.normal(k0, (n, model.dim))
    return jax.random.bernoulli(k0, 0.5, (n, model.dim)).astype(jnp.float32)


def _reverse_step(model, net, x, t_scalar, k, denoise_last):
    t = jnp.full((x.shape[0],), t_scalar)
    if model.config.process == "gaussian":
        mean, var = model.reverse_mean_var(net, x, t)
        noise = jax.random.normal(k, x.shape)
        scale = jnp.where((t_scalar == 1) & denoise_last, 0.0, 1.0)
        return mean + scale * jnp.sqrt(var) * noise
    prob = jax.nn.sigmoid(model.reverse_logits(net, x, t))
    return jnp.where(
        (t_scalar == 1) & denoise_last,
        (prob > 0.5).astype(jnp.float32),
        jax.random.bernoulli(k, prob).astype(jnp.float32),
    )


@eqx.filter_jit
def _sample_start(static, n, k0):
    return _start(static.model, n, k0)


@eqx.filter_jit
def _sample_step(static, net, x, t_scalar, k, denoise_last):
    return _reverse_step(static.model, net, x, t_scalar, k, denoise_last)


@eqx.filter_jit
def _sample_jit(static, net, n, key, trajectory, denoise_last):
    model = static.model
    c = model.config
    k0, kloop = jax.random.split(key)
    x_T = _start(model, n, k0)

    def step(x, args):
        x_new = _reverse_step(model, net, x, args[0], args[1], denoise_last)
        return x_new, x_new

    ts = jnp.arange(c.steps, 0, -1)
    x0, path = jax.lax.scan(step, x_T, (ts, jax.random.split(kloop, c.steps)))
    if trajectory:
        # path[k] is x_{T-1-k}; stack as index t = 0..T
        return jnp.concatenate([path[::-1], x_T[None]], axis=0)
    return x0
