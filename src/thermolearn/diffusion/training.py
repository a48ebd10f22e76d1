"""Training on the variational bound (or the noise-prediction loss), with checkpoints and resume.

Every step's randomness comes from ``fold_in(key(seed), step)``, so step k draws the same
batch and noise whether the run went straight through or was killed and resumed. Steps run
in compiled chunks (``lax.scan``) whose boundaries are fixed multiples of the chunk length
from step 0 (the chunk length divides ``checkpoint_every``), and checkpoints fall on chunk
boundaries; so a resumed run executes the same
compiled programs on the same inputs and ends with bit-identical parameters.

With ``ema_decay`` the weights' exponential moving average (Polyak averaging, as in Ho et al.
2020) is carried along and becomes the trained model; its decay is warmed up as
min(decay, (1 + k)/(10 + k)) at step k so short runs are not dominated by the initial weights.

A checkpoint is a model file (:meth:`DiffusionModel.save` format) plus the optimiser state,
the moving average, the step, the loss history and the RNG key, written atomically every ``checkpoint_every``
steps and at the end. Its header records the training arguments; resuming with different
arguments is refused.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpy.typing import ArrayLike

from thermolearn.diffusion.model import (
    OBJECTIVES,
    DiffusionModel,
    StaticModel,
    check_objective,
    param_arrays,
    restore_arrays,
)
from thermolearn.file_contents import FileContents
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.resources import check_memory
from thermolearn.storage import load_arrays, save_arrays
from thermolearn.validation import check_positive_float, check_positive_int

CHUNK = 100
"""Steps per compiled chunk (at most; the chunk divides checkpoint_every)."""


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained model, the loss per step, and timings."""

    model: DiffusionModel
    losses: np.ndarray
    steps_done: int
    resumed_from: int
    seconds: float

    @property
    def steps_per_second(self) -> float:
        """Training steps per second of wall time in this run (resumed steps excluded); NaN if no time passed."""
        ran = self.steps_done - self.resumed_from
        return ran / self.seconds if self.seconds > 0 else float("nan")


def make_optimizer(learning_rate: float, iterations: int) -> optax.GradientTransformation:
    """Adam with gradient clipping (norm 1) and a cosine decay of the rate to 5% at the end."""
    schedule = optax.cosine_decay_schedule(learning_rate, max(iterations, 1), alpha=0.05)
    return optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))


def train(
    model: DiffusionModel,
    data: ArrayLike,
    *,
    iterations: int,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    objective: str = "vb",
    seed: int = 0,
    dequantize: float | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 500,
    progress: bool = True,
    callback: Callable[[int, float], None] | None = None,
    data_id: str | None = None,
    ema_decay: float | None = None,
) -> TrainResult:
    """Train ``model`` on ``data`` (array ``(n, dim)``) for ``iterations`` optimiser steps.

    ``dequantize`` adds uniform noise of that full width to each value every step (for
    quantised images). With ``checkpoint``, an existing file written by the same arguments is
    resumed from; the file is rewritten every ``checkpoint_every`` steps and at the end.
    ``callback(step, loss)`` runs after every chunk (an exception there stops training, as a
    kill would). ``data_id`` names the data in the checkpoint's header (checked on resume).
    ``ema_decay`` in (0, 1) returns the moving average of the weights instead of the last ones.
    """
    if not isinstance(model, DiffusionModel):
        raise TypeError(f"model must be a DiffusionModel, got {type(model).__name__}")
    iterations = check_positive_int("iterations", iterations)
    batch_size = check_positive_int("batch_size", batch_size)
    learning_rate = check_positive_float("learning_rate", learning_rate)
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    seed = check_int_seed(seed)  # checkpointed: the run is reproducible from this int
    if ema_decay is not None:
        ema_decay = float(ema_decay)
        if not 0.0 < ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in (0, 1) (typically 0.999), got {ema_decay}")
    x = np.asarray(data, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != model.dim or len(x) == 0:
        raise ValueError(f"data must have shape (n, {model.dim}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("data contains NaN or infinity")
    check_objective(model.config, objective)
    _check_training_memory(model, batch_size, len(x))

    chunk = math.gcd(checkpoint_every, CHUNK)
    spec = _Spec(
        StaticModel(model),
        float(learning_rate),
        iterations,
        batch_size,
        objective,
        float(dequantize) if dequantize else 0.0,
        ema_decay or 0.0,
    )
    optimizer = spec.optimizer()
    net = model.net
    opt_state = optimizer.init(eqx.filter(net, eqx.is_array))
    ema = eqx.filter(net, eqx.is_array) if ema_decay else None
    root = jax.random.PRNGKey(int(seed))
    losses = np.full(iterations, np.nan, dtype=np.float32)
    args = {
        "iterations": iterations,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "objective": objective,
        "seed": int(seed),
        "dequantize": dequantize,
        "checkpoint_every": checkpoint_every,
        "n_data": int(len(x)),
        "data_id": data_id,
    }
    if ema_decay:  # only then, so checkpoints written before the option existed still resume
        args["ema_decay"] = ema_decay
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        net, opt_state, ema, start, losses = _resume(checkpoint, model, args, opt_state, ema, losses, root)
    data_j = jnp.asarray(x)

    t0 = time.perf_counter()
    with progress_bar(total=iterations, initial=start, desc="diffusion train", progress=progress) as bar:
        step = start
        while step < iterations:
            n_done = min(chunk, iterations - step)  # chunks start at multiples of chunk in every run
            net, opt_state, ema, ls = _run_steps(spec, n_done, net, opt_state, ema, jnp.int32(step), data_j, root)
            ls = np.asarray(ls)
            losses[step : step + n_done] = ls
            step += n_done
            if not np.all(np.isfinite(ls)):
                raise ValueError(f"training diverged at step {step} (loss {ls[-1]}); lower the learning rate")
            bar.update(n_done)
            bar.set_postfix(loss=f"{float(np.mean(ls)):.4f}")
            if checkpoint is not None and (step % checkpoint_every == 0 or step == iterations):
                _save_checkpoint(checkpoint, model, net, opt_state, ema, step, losses, root, args)
            if callback is not None:
                callback(step, float(np.mean(ls)))
    trained = DiffusionModel(
        model.config, eqx.combine(ema, eqx.filter(net, eqx.is_array, inverse=True)) if ema_decay else net
    )
    return TrainResult(trained, losses, iterations, start, time.perf_counter() - t0)


@dataclass(frozen=True)
class _Spec:
    """Everything the compiled training steps depend on besides arrays (hashable: a static argument)."""

    model: StaticModel
    learning_rate: float
    iterations: int
    batch_size: int
    objective: str
    dequantize: float
    ema_decay: float  # 0: no moving average

    def optimizer(self) -> optax.GradientTransformation:
        return make_optimizer(self.learning_rate, self.iterations)


def _one_step(spec: _Spec, params, static, opt_state, step, data, root):
    model = spec.model.model
    optimizer = spec.optimizer()
    k_idx, k_deq, k_loss = jax.random.split(jax.random.fold_in(root, step), 3)
    batch = data[jax.random.randint(k_idx, (spec.batch_size,), 0, data.shape[0])]
    if spec.dequantize:
        batch = batch + spec.dequantize * (jax.random.uniform(k_deq, batch.shape) - 0.5)
    loss, grads = jax.value_and_grad(lambda q: model.loss(eqx.combine(q, static), batch, k_loss, spec.objective))(
        params
    )
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def _ema_update(spec: _Spec, ema, params, step):
    if not spec.ema_decay:
        return ema
    decay = jnp.minimum(spec.ema_decay, (1.0 + step) / (10.0 + step))
    return jax.tree_util.tree_map(lambda e, p: decay * e + (1.0 - decay) * p, ema, params)


@eqx.filter_jit
def _scan_steps(spec: _Spec, n_steps: int, net, opt_state, ema, first, data, root):
    params, static = eqx.partition(net, eqx.is_array)

    def body(carry, step):
        p, s, e = carry
        p, s, loss = _one_step(spec, p, static, s, step, data, root)
        return (p, s, _ema_update(spec, e, p, step)), loss

    (params, opt_state, ema), losses = jax.lax.scan(body, (params, opt_state, ema), first + jnp.arange(n_steps))
    return eqx.combine(params, static), opt_state, ema, losses


@eqx.filter_jit
def _single_step(spec: _Spec, net, opt_state, ema, step, data, root):
    params, static = eqx.partition(net, eqx.is_array)
    params, opt_state, loss = _one_step(spec, params, static, opt_state, step, data, root)
    return eqx.combine(params, static), opt_state, _ema_update(spec, ema, params, step), loss


def _run_steps(spec: _Spec, n_steps: int, net, opt_state, ema, first, data, root):
    """``n_steps`` optimiser steps from step ``first`` (step k uses the key fold_in(root, k)).

    MLPs run the steps inside one compiled ``lax.scan``; convolutional networks run one
    compiled step per call, because XLA's CPU backend runs convolutions inside a loop body
    about 15 times slower than at the top level of a program.
    """
    if spec.model.model.config.network != "conv":
        return _scan_steps(spec, n_steps, net, opt_state, ema, first, data, root)
    losses = []
    for k in range(n_steps):
        net, opt_state, ema, loss = _single_step(spec, net, opt_state, ema, first + k, data, root)
        losses.append(loss)
    return net, opt_state, ema, jnp.stack(losses)


def _check_training_memory(model: DiffusionModel, batch_size: int, n_data: int) -> None:
    """Refuse, before compiling or allocating, a run whose parameters and activations cannot fit.

    The parameters come in about eight float32 copies (weights, gradients, Adam's two moments,
    the moving average, a checkpoint); each step holds every layer's activations for the batch
    twice (forward and backward); the data is kept on the device in float32.
    """
    c = model.config
    width = max(c.hidden, c.channels * c.dim if c.network == "conv" else 0)
    activations = 4.0 * 2 * 2 * batch_size * (c.dim + width * (c.depth + 2))
    check_memory(
        f"training a diffusion network of {model.n_parameters()} parameters (hidden {c.hidden}, depth {c.depth}) "
        f"on batches of {batch_size}",
        4.0 * 8 * model.n_parameters() + activations + 4.0 * n_data * c.dim,
        hint="choose a smaller --hidden, --depth or --batch-size",
    )


def _save_checkpoint(path, model, net, opt_state, ema, step, losses, root, args) -> None:
    arrays = param_arrays(net, "net")
    arrays.update(param_arrays(opt_state, "opt"))
    if ema is not None:
        arrays.update(param_arrays(ema, "ema"))
    arrays["train:losses"] = losses
    arrays["train:key"] = np.asarray(jax.random.key_data(root))
    header = DiffusionModel(model.config, net).header(checkpoint={"step": int(step), "args": args})
    save_arrays(path, arrays, header)


def _resume(path, model, args, opt_state, ema, losses, root):
    """Network, optimiser state, moving average, steps done and losses from the checkpoint at
    ``path``, each checked against this run first (``FileFormatError`` naming the file): the
    model and the arguments it was written for, the RNG key of this seed, a step within the
    run, finite losses for every step done, every array of the optimiser's shapes and dtypes."""
    arrays, header = load_arrays(path)
    contents = FileContents(path, arrays, header)
    if "checkpoint" not in header:
        raise contents.fail("is not a training checkpoint (no checkpoint record in its header)")
    ck = contents.value("checkpoint", dict)
    if header.get("config") != model.config.as_dict():
        raise contents.fail(
            f"was written for a different model ({header.get('config')})"[:300]
            + "; delete it or use the same arguments"
        )
    saved_args = contents.value("args", dict, within=ck, label="checkpoint entry 'args'")
    if saved_args != args:
        diff = {k: (saved_args.get(k), v) for k, v in args.items() if saved_args.get(k) != v}
        raise contents.fail(
            f"was written with different training arguments {diff}; delete it or use the same arguments"
        )
    net = DiffusionModel.from_arrays(arrays, header, what=str(path)).net
    try:
        opt_state = restore_arrays(opt_state, arrays, "opt", str(path))
        if ema is not None:
            ema = restore_arrays(ema, arrays, "ema", str(path))
    except ValueError as exc:
        raise contents.fail(str(exc).removeprefix(f"{path}: ").removeprefix(f"{path} ")) from None
    key = np.asarray(jax.random.key_data(root))
    contents.expect_names(["train:losses", "train:key"], [n for n in arrays if n.startswith(("net", "opt", "ema"))])
    saved_key = contents.array("train:key", kinds="u", shape=key.shape)
    if not np.array_equal(saved_key, key):
        raise contents.fail(f"array 'train:key' is not the key of seed {args['seed']}; the file was edited")
    step = contents.value("step", int, minimum=0, maximum=len(losses), within=ck, label="checkpoint entry 'step'")
    saved = contents.array("train:losses", shape=losses.shape, finite=False, dtype=np.float32)
    if not np.all(np.isfinite(saved[:step])):
        raise contents.fail(f"array 'train:losses' must hold a finite loss for each of the {step} steps done")
    return net, opt_state, ema, step, saved.copy()
