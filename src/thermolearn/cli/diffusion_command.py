"""``thermolearn diffusion train|sample|bound``: diffusion probabilistic models from the command line.

* ``train``: fit a model to a data set (``--data swiss-roll|moons|gaussians|digits|PATH``) with
  T = ``--steps`` diffusion steps and save it (``--save MODEL.npz``); ``--checkpoint`` resumes
  a killed run.
* ``sample``: ancestral samples from a saved model, with ``--check`` the quality check.
* ``bound``: the log-likelihood lower bound on fresh held-out data, in bits (per sample for 2D
  points, per pixel for images), the paper's convention: higher is better.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_data,
    add_deprecated_alias,
    add_json,
    add_no_progress,
    add_plot,
    add_save,
    add_seed,
    check_distinct_paths,
    nonnegative_float,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table

# thermolearn.diffusion.presets' defaults, named here so that --help does not load JAX
TOY_DEFAULT_ITERATIONS = 3000
IMAGE_DEFAULT_ITERATIONS = 10000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diffusion",
        help="diffusion probabilistic models: train, sample, bound the log likelihood",
        description="Diffusion probabilistic models (Sohl-Dickstein et al. 2015; Ho et al. 2020): a forward process "
        "destroys the data's structure, a network learns the reverse process.",
    )
    dsub = p.add_subparsers(dest="diffusion_command", metavar="ACTION")
    p.set_defaults(run=missing_action("diffusion", "train, sample or bound"))

    t = dsub.add_parser(
        "train",
        help="train a model on a data set and save it",
        description="Train a diffusion model; the table shows the loss and the speed.",
    )
    data = add_data(t, required=True, help="swiss-roll, moons, gaussians, digits, or a folder holding MNIST IDX files")
    add_deprecated_alias(t, "--dataset", data)
    t.add_argument(
        "--steps",
        type=positive_int,
        default=None,
        metavar="T",
        help="diffusion steps T (default 40 for 2D data, as in the paper; 100 for images)",
    )
    add_seed(t, "the data, the initial weights and training")
    add_save(t, "the trained model", required=True, metavar="MODEL.npz")
    t.add_argument(
        "--iterations",
        type=positive_int,
        metavar="N",
        help=f"optimiser steps (default {TOY_DEFAULT_ITERATIONS} for 2D data, {IMAGE_DEFAULT_ITERATIONS} for images)",
    )
    t.add_argument(
        "--batch-size", type=positive_int, default=None, metavar="B", help="minibatch (default 256; 128 for MNIST)"
    )
    t.add_argument(
        "--learning-rate",
        type=positive_float,
        default=None,
        metavar="LR",
        help="Adam step size, decayed by a cosine to 5%% (default 2e-3 for 2D data, 1e-3 for images)",
    )
    t.add_argument(
        "--process",
        choices=("gaussian", "binomial"),
        default="gaussian",
        help="Gaussian diffusion, or binomial diffusion of binarised images",
    )
    t.add_argument(
        "--schedule",
        choices=("paper", "linear", "cosine", "snr", "binomial"),
        default=None,
        help="beta schedule (default: snr, log signal-to-noise linear in t, for Gaussian; binomial for "
        "binomial diffusion)",
    )
    t.add_argument(
        "--beta-1",
        type=positive_float,
        default=None,
        metavar="B1",
        help="variance of the first forward step (default for the snr schedule: 1e-4 for 2D data, "
        "(2/levels)^2 for images, the square of one grey-level bin)",
    )
    t.add_argument(
        "--parameterization",
        choices=("paper", "eps"),
        default=None,
        help="reverse-process parameterisation: the paper's, or noise prediction (default: paper for 2D "
        "data, eps for images)",
    )
    t.add_argument("--fixed-variance", action="store_true", help="fixed instead of learned reverse variance")
    t.add_argument(
        "--objective",
        choices=("vb", "simple", "hybrid"),
        default=None,
        help="training loss: the variational bound, Ho et al.'s simple loss, or Nichol & Dhariwal's hybrid "
        "(default: vb for 2D data, hybrid for images)",
    )
    t.add_argument(
        "--network",
        choices=("mlp", "resmlp", "conv"),
        default=None,
        help="MLP (default up to 256 dimensions), residual MLP with FiLM time conditioning (default for "
        "MNIST), or the small convolutional network (images only; several times slower on a CPU)",
    )
    t.add_argument(
        "--hidden",
        type=positive_int,
        default=None,
        metavar="H",
        help="MLP width (default 128 for 2D data, 512 for digits, 1024 for MNIST)",
    )
    t.add_argument(
        "--depth",
        type=positive_int,
        default=None,
        metavar="N",
        help="hidden layers or blocks (default 3 for 2D data, 4 for images)",
    )
    t.add_argument(
        "--channels", type=positive_int, default=None, metavar="C", help="conv channels (default 32; 16 for MNIST)"
    )
    t.add_argument(
        "--ema",
        type=positive_float,
        default=None,
        metavar="DECAY",
        help="keep a moving average of the weights with this decay (e.g. 0.999) and save it as the model",
    )
    t.add_argument(
        "--noise",
        type=nonnegative_float,
        default=None,
        metavar="SIGMA",
        help="thickness of the swiss-roll or moons: Gaussian noise in raw units (default 0.05); "
        "sample and bound use the same",
    )
    t.add_argument(
        "--n-train", type=positive_int, default=None, metavar="N", help="training set size (2D: points drawn)"
    )
    add_checkpoint(t, "checkpoint file, rewritten as training goes")
    t.add_argument(
        "--checkpoint-every", type=positive_int, default=500, metavar="K", help="checkpoint period (default 500)"
    )
    add_json(t, "a summary")
    add_plot(t, "the training loss")
    add_no_progress(t)
    t.set_defaults(run=run_train)

    s = dsub.add_parser(
        "sample",
        help="draw samples from a saved model (and check them)",
        description="Ancestral sampling from x_T ~ p(x_T) down to x_0.",
    )
    s.add_argument("model", metavar="MODEL.npz", help="a model written by 'diffusion train' (or its checkpoint)")
    s.add_argument(
        "--n",
        type=positive_int,
        default=None,
        metavar="N",
        help="how many samples (default 2000 for 2D, 64 for images)",
    )
    add_seed(s, "the sampling")
    save = add_save(s, "the samples (.npz, model coordinates)", required=False, metavar="SAMPLES.npz")
    add_deprecated_alias(s, "--output", save)
    s.add_argument(
        "--check",
        action="store_true",
        help="quality check against fresh data: energy distance (2D) or 1-NN two-sample test (images)",
    )
    add_json(s, "a summary")
    add_plot(s, "2D: the paper's forward/reverse/drift figure; images: a grid")
    s.set_defaults(run=run_sample)

    b = dsub.add_parser(
        "bound",
        help="log-likelihood lower bound on held-out data (bits)",
        description="The variational lower bound on log p(x) of fresh held-out data, every KL in "
        "closed form: bits per sample for 2D data (unit-variance coordinates), bits per pixel for "
        "images. Higher is better (the paper's Table 1 convention).",
    )
    b.add_argument("model", metavar="MODEL.npz", help="a model written by 'diffusion train' (or its checkpoint)")
    data = add_data(b, required=False, help="held-out data (default: the model's training data set)")
    add_deprecated_alias(b, "--dataset", data)
    b.add_argument(
        "--noise",
        type=nonnegative_float,
        default=None,
        metavar="SIGMA",
        help="thickness of the held-out swiss-roll or moons (default: the training data's)",
    )
    b.add_argument(
        "--n",
        type=positive_int,
        default=None,
        metavar="N",
        help="held-out samples (default 2000 for 2D, all held-out images up to 1000)",
    )
    add_seed(b, "the fresh data and the Monte Carlo draws", default=1)
    b.add_argument(
        "--draws", type=positive_int, default=1, metavar="K", help="draws of x_t per sample and step (default 1)"
    )
    b.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="B",
        help="samples per batch (default 500; 50 for MNIST)",
    )
    add_json(b, "{bound_bits: {mean, stderr}, per_dim, n, ...}")
    add_plot(b, "the bound's terms against t")
    add_checkpoint(b, "file of the finished batches")
    add_no_progress(b)
    b.set_defaults(run=run_bound)


# ---------------------------------------------------------------------------------------------


TOY_DATA = ("swiss-roll", "moons", "gaussians")
"""The continuous 2D data sets (their points are drawn, as many as asked for)."""
_CHECK_MIN_IMAGES = 3
"""Samples the images' 1-NN check needs: with 2, even samples far from every image give p > 0.05."""


def _check_points_memory(option: str, n: int, dim: int, per_point: float = 0.0) -> None:
    """Refuse ``n`` points of ``dim`` coordinates (float64 draws, float32 copies) that cannot fit."""
    from thermolearn.resources import check_memory

    check_memory(f"{option} {n} ({n} points of {dim} coordinates)", float(n) * (dim * 8.0 * 4 + per_point))


def _load_data(name: str, *, seed: int, split: str, n: int | None, binary: bool, noise: float | None = None):
    from thermolearn.datasets import load_dataset

    return load_dataset(name, n=n, seed=seed, split=split, binary=binary, noise=noise)


def run_train(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.diffusion import DiffusionModel, train
    from thermolearn.diffusion.presets import preset_config, preset_training

    check_output_path(args.save, ".npz")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.checkpoint:
        check_output_path(args.checkpoint, ".npz")
    check_distinct_paths(
        {"--data": args.data},
        {"--save": args.save, "--checkpoint": args.checkpoint, "--json": args.json, "--plot": args.plot},
    )
    binary = args.process == "binomial"
    if args.beta_1 is not None:  # before loading data: name the option and its real limit
        from thermolearn.diffusion.schedules import check_beta_1

        check_beta_1(args.schedule or ("binomial" if binary else "snr"), args.beta_1, name="--beta-1")
    if binary and args.data in TOY_DATA:
        raise ValueError(
            f"--process binomial needs binary images (digits or an MNIST path); {args.data} is continuous "
            "2D data: use --process gaussian"
        )
    if args.n_train is not None and args.data in TOY_DATA:  # images are capped by the file; points are drawn
        _check_points_memory("--n-train", args.n_train, 2)
    data = _load_data(args.data, seed=args.seed, split="train", n=args.n_train, binary=binary, noise=args.noise)
    if args.network == "conv" and not data.is_image:
        raise ValueError(f"--network conv needs image data; {data.name} is 2D points")
    config = preset_config(
        data,
        process=args.process,
        steps=args.steps,
        schedule=args.schedule,
        beta_1=args.beta_1,
        parameterization=args.parameterization,
        learn_variance=not args.fixed_variance,
        network=args.network,
        hidden=args.hidden,
        depth=args.depth,
        channels=args.channels,
    )
    preset = preset_training(
        data,
        config,
        iterations=args.iterations,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        objective=args.objective,
    )
    iterations, batch, lr, objective = preset.iterations, preset.batch_size, preset.learning_rate, preset.objective
    model = DiffusionModel.create(config, seed=args.seed)
    data_id = f"{data.name}:{args.data if data.name == 'mnist' else ''}:seed={args.seed}:n={data.n}:binary={binary}"
    if "noise" in data.info:  # a checkpoint of a thicker roll must not resume on a thinner one
        data_id += f":noise={data.info['noise']!r}"
    result = train(
        model,
        data.data,
        iterations=iterations,
        batch_size=batch,
        learning_rate=lr,
        objective=objective,
        seed=args.seed,
        dequantize=(2.0 / data.levels if data.levels else None),
        checkpoint=args.checkpoint,
        checkpoint_every=args.checkpoint_every,
        progress=not args.no_progress,
        data_id=data_id,
        ema_decay=args.ema,
    )
    dataset_header = {**data.header(), "argument": args.data, "seed": args.seed, "n_train": data.n}
    training = {
        "iterations": iterations,
        "batch_size": batch,
        "learning_rate": lr,
        "objective": objective,
        "ema_decay": args.ema,
        "seed": args.seed,
        "final_loss": float(np.mean(result.losses[-100:])),
    }
    result.model.save(args.save, dataset=dataset_header, training=training)
    tail = result.losses[-min(100, len(result.losses)) :]
    print(
        f"diffusion model: {config.process}, T = {config.steps}, schedule {config.schedule}, "
        f"{config.parameterization} parameterisation, {config.network} ({result.model.n_parameters()} parameters), "
        f"data {data.name} ({data.n} x {data.dim})"
    )
    rows = [[iterations, result.resumed_from, float(np.mean(tail)), result.seconds, result.steps_per_second]]
    print(format_table(["iterations", "resumed at", "loss (last 100)", "seconds", "steps/s"], rows))
    if result.resumed_from:
        print(f"resumed from checkpoint {args.checkpoint} at step {result.resumed_from}")
    print(f"wrote {args.save}")
    if args.json:
        write_json(
            args,
            {
                "model": args.save,
                "config": config.as_dict(),
                "dataset": dataset_header,
                "training": training,
                "resumed_from": result.resumed_from,
                "seconds": result.seconds,
                "steps_per_second": result.steps_per_second if math.isfinite(result.steps_per_second) else None,
            },
        )
    if args.plot:
        from thermolearn.viz.diffusion_plots import plot_losses

        plot_losses(args.plot, result.losses, title=f"{data.name}: training loss ({objective})")
        print(f"wrote {args.plot}")
    return 0


def _load_model(path: str) -> tuple[Any, dict]:
    from thermolearn.diffusion import DiffusionModel

    if not Path(path).is_file():
        raise ValueError(f"no such model file: {path}")
    return DiffusionModel.load(path)


def _dataset_of(
    header: dict, override: str | None, noise_override: float | None = None
) -> tuple[str, int, float | None]:
    """``(dataset argument, seed, noise)`` of the data a model was trained on (the overrides replace them)."""
    from thermolearn.datasets.registry import DATASET_NAMES, NOISY_CURVES

    ds = header.get("dataset")
    ds = ds if isinstance(ds, dict) else {}
    name = override or ds.get("argument") or ds.get("name")
    if not name or not isinstance(name, str):
        raise ValueError("the model file does not say what data it was trained on; give --data")
    if override is None and name not in DATASET_NAMES:
        # a file's header is not trusted to choose what is read from disk: a path (MNIST) is
        # read only when the user names it on the command line
        raise ValueError(
            f"the model file says it was trained on data at {name!r}; give --data with that path "
            f"(only a folder given on the command line is read), or one of {', '.join(DATASET_NAMES)}"[:400]
        )

    noise = ds.get("noise") if name in NOISY_CURVES and name == ds.get("name") else None
    if noise_override is not None:
        noise = noise_override
    seed = ds.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"the model file's dataset seed must be an integer >= 0, got {seed!r}"[:200])
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0):
        raise ValueError(f"the model file's dataset noise must be a number >= 0, got {noise!r}"[:200])
    return name, seed, (None if noise is None else float(noise))


def run_sample(args: argparse.Namespace) -> int:
    from thermolearn.storage import save_arrays

    check_output_path(args.save, ".npz")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({"MODEL": args.model}, {"--save": args.save, "--json": args.json, "--plot": args.plot})
    model, header = _load_model(args.model)
    cfg = model.config
    is_image = cfg.image_shape is not None
    n = args.n or (64 if is_image else 2000)
    if args.check and n < (minimum := _CHECK_MIN_IMAGES if is_image else 2):
        raise ValueError(
            f"--check needs --n >= {minimum}, got --n {n}: "
            + (
                "with 2, even samples far from every image are not significant at level 0.05"
                if is_image
                else "the energy distance compares at least 2 samples with 2 fresh points"
            )
        )
    samples = model.sample(n, seed=args.seed)
    summary = {"model": args.model, "n": n, "seed": args.seed, "dim": cfg.dim}
    print(f"{n} samples from {args.model} ({cfg.process}, T = {cfg.steps})")
    if not is_image:
        mean, std = samples.mean(0), samples.std(0)
        print(format_table(["coordinate", "mean", "std"], [[k, float(mean[k]), float(std[k])] for k in range(cfg.dim)]))
        summary.update(mean=mean.tolist(), std=std.tolist())
    else:
        summary.update(mean_value=float(samples.mean()))
    if args.check:
        summary["check"] = _check(model, header, samples, args.seed)
        c = summary["check"]
        if c["test"] == "energy distance":
            print(
                format_table(
                    ["check", "statistic", "threshold (passes: p > 0.05)", "p", "passed"],
                    [[c["test"], c["statistic"], c["threshold"], c["p_value"], str(c["passed"])]],
                )
            )
        else:
            print(
                format_table(
                    [
                        "check",
                        "samples' accuracy",
                        "real images' accuracy",
                        "chance",
                        "p",
                        "pooled (real-vs-real)",
                        "copy ratio",
                        "passed",
                    ],
                    [
                        [
                            c["test"],
                            c["sample_accuracy"],
                            c["real_accuracy"],
                            c["chance"],
                            c["p_value"],
                            f"{c['accuracy']:.3f} ({c['reference_accuracy']:.3f})",
                            c["copy_ratio"],
                            str(c["passed"]),
                        ]
                    ],
                )
            )
    if args.save:
        save_arrays(args.save, {"samples": samples}, {"model": args.model, "seed": args.seed, "n": n})
        print(f"wrote {args.save}")
    if args.json:
        write_json(args, summary)
    if args.plot:
        _plot_samples(args.plot, model, header, samples, args.seed)
        print(f"wrote {args.plot}")
    return 0


def _check(model, header, samples, seed) -> dict:
    from thermolearn.datasets import load_dataset
    from thermolearn.diffusion import nearest_neighbour_check, two_sample_check

    name, data_seed, noise = _dataset_of(header, None)
    if model.config.image_shape is None:

        def fresh(n, s):
            return load_dataset(name, n=n, seed=int(s), split="test", noise=noise).data

        return two_sample_check(samples, fresh, seed=seed).as_dict()
    binary = model.config.process == "binomial"
    held = load_dataset(name, split="test", binary=binary, n=max(2 * len(samples), 200)).data
    train = load_dataset(name, split="train", binary=binary, n=5000).data
    n = min(len(samples), len(held) // 2)
    return nearest_neighbour_check(samples[:n], held, train, seed=seed).as_dict()


def _plot_samples(path, model, header, samples, seed):
    from thermolearn.viz.diffusion_plots import plot_diffusion_2d
    from thermolearn.viz.figures import plot_image_grid

    cfg = model.config
    if cfg.image_shape is not None:
        vmin = 0.0 if cfg.process == "binomial" else -1.0
        plot_image_grid(path, samples[:64], cfg.image_shape, title=f"samples, T = {cfg.steps}", vmin=vmin)
        return
    if cfg.dim != 2:
        raise ValueError("plots of point data need 2D data")
    from thermolearn.datasets import load_dataset

    name, _, noise = _dataset_of(header, None)
    data = load_dataset(name, n=len(samples), seed=seed, split="test", noise=noise).data
    forward = model.forward_trajectory(data, seed=seed)
    reverse = model.sample(len(samples), seed=seed, trajectory=True)
    plot_diffusion_2d(path, forward, reverse, model.drift)


def run_bound(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.diffusion import PAPER_SWISS_ROLL_BITS, PAPER_SWISS_ROLL_GAIN_BITS

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    if args.checkpoint:
        check_output_path(args.checkpoint, ".npz")
    check_distinct_paths(
        {"MODEL": args.model, "--data": args.data},
        {"--checkpoint": args.checkpoint, "--json": args.json, "--plot": args.plot},
    )
    model, header = _load_model(args.model)
    cfg = model.config
    name, _, noise = _dataset_of(header, args.data, args.noise)
    binary = cfg.process == "binomial"
    is_image = cfg.image_shape is not None
    n = args.n or (1000 if is_image else 2000)
    # the points, their bound terms per step and the per-sample bits are held whole
    _check_points_memory("--n", n, cfg.dim, per_point=8.0 * (cfg.steps + 4))
    data = _load_data(name, seed=args.seed, split="test", n=n, binary=binary, noise=noise)
    if data.dim != cfg.dim:
        raise ValueError(f"data set {name} has dimension {data.dim}, the model {cfg.dim}")
    batch = args.batch_size or (50 if cfg.dim > 100 else 500)
    result = _bound_with_checkpoint(model, data, name, args, batch)
    out = result.as_dict()
    out.update(
        dataset=data.name,
        dataset_argument=name,
        steps=cfg.steps,
        model=args.model,
        unit="bits per pixel" if result.per_dim else "bits per sample",
    )
    unit = "bits/pixel" if result.per_dim else "bits/sample"
    rows = [
        ["bound K (held-out)", result.mean, result.stderr],
        ["L_null (N(0, I) or fair coins)", result.null_bits, None],
        ["K - L_null", result.mean - result.null_bits, result.stderr],
    ]
    if data.name == "swiss-roll" and not result.per_dim:
        from thermolearn.datasets import swiss_roll_log_density

        if data.info["noise"] > 0:  # a roll of zero thickness has no density
            exact = swiss_roll_log_density(data.data, noise=data.info["noise"]) / math.log(2)
            out["exact_log_likelihood_bits"] = _mean_and_stderr(exact)
            rows.append(
                [
                    f"exact log p(x) of this roll, noise {data.info['noise']:g} (ceiling)",
                    float(exact.mean()),
                    out["exact_log_likelihood_bits"]["stderr"],
                ]
            )
        out["noise"] = data.info["noise"]
        rows.append([f"paper, Table 1 (T = 40; K - L_null {PAPER_SWISS_ROLL_GAIN_BITS})", PAPER_SWISS_ROLL_BITS, None])
        out["paper_bits"] = PAPER_SWISS_ROLL_BITS
    elif data.name == "gaussians" and not result.per_dim:
        from thermolearn.datasets import gaussian_mixture_log_density

        exact = gaussian_mixture_log_density(data.data) / math.log(2)
        out["exact_log_likelihood_bits"] = _mean_and_stderr(exact)
        rows.append(["exact log p(x) (ceiling)", float(exact.mean()), out["exact_log_likelihood_bits"]["stderr"]])
    print(
        f"log-likelihood lower bound of {args.model} on {result.n} held-out {data.name} samples, T = {cfg.steps} "
        f"({unit}; higher is better)"
    )
    print(format_table(["quantity", unit, "stderr"], rows))
    print(
        f"terms: log p(x0|x1) {result.reconstruction_bits:.4f}, -sum KL(t=2..T) {float(np.sum(result.kl_bits)):.4f}, "
        f"-KL prior {result.prior_bits:.4f}"
        + (f", log bin width {result.offset_bits:.4f}" if result.offset_bits else "")
    )
    if args.json:
        write_json(args, out)
    if args.plot:
        from thermolearn.viz.diffusion_plots import plot_bound_terms

        plot_bound_terms(args.plot, result.kl_bits, result.reconstruction_bits, result.prior_bits, unit=unit)
        print(f"wrote {args.plot}")
    return 0


def _mean_and_stderr(values) -> dict:
    """``{"mean", "stderr"}`` of per-sample values; the standard error of one sample is undefined (None)."""
    n = len(values)
    stderr = float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else None
    return {"mean": float(values.mean()), "stderr": stderr}


BOUND_CHECKPOINT_FORMAT = "thermolearn.diffusion-bound-checkpoint"
BOUND_CHECKPOINT_VERSION = 2
"""2: quantised images scored dequantised (Theis et al.), and the identity names every input."""


def _file_sha256(path: str) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _bound_identity(data, data_argument: str, args, batch: int) -> dict:
    """Everything the bound's numbers depend on: the model file's contents (a retrained model at the
    same path must not resume), the held-out data (its set, path, thickness, seed and a hash of the
    values themselves), the draws and the batches (each batch has its own seed)."""
    import hashlib

    import numpy as np

    values = np.ascontiguousarray(data.data, dtype=np.float64)
    path = data.info.get("path")
    return {
        "model": str(Path(args.model).resolve()),
        "model_sha256": _file_sha256(args.model),
        "dataset": data.name,
        "dataset_argument": data_argument if path is None else str(Path(path).resolve()),
        "noise": data.info.get("noise"),
        "levels": data.levels,
        "binary": bool(data.binary),
        "data_sha256": hashlib.sha256(values.tobytes() + repr(values.shape).encode()).hexdigest(),
        "n": int(len(values)),
        "seed": args.seed,
        "draws": args.draws,
        "batch": batch,
    }


def _read_bound_checkpoint(path: str, ident: dict, model, data, batch: int):
    """The finished batches of a bound checkpoint, every entry checked against this run first:
    the identity (a different model, data or draws is refused, naming what differs), the count of
    samples done (whole batches), each array's shape and finiteness, the per-pixel convention and
    log bin width this model and data give."""
    import numpy as np

    from thermolearn.diffusion.bound import LN2, BoundResult
    from thermolearn.file_contents import FileContents

    contents = FileContents.read(path)
    if "bound_checkpoint" in contents.header and "format" not in contents.header:
        raise contents.fail(
            "is a bound checkpoint of an older thermolearn, whose identity left out the data and the "
            "model's contents; delete it (the bound is recomputed)"
        )
    contents.expect_format(BOUND_CHECKPOINT_FORMAT, [BOUND_CHECKPOINT_VERSION], what="diffusion bound checkpoint")
    contents.expect_run(ident, key="bound_checkpoint")
    n = ident["n"]
    done = contents.value("done", int, minimum=1, maximum=n)
    if done != n and done % batch:
        raise contents.fail(f"header entry 'done' ({done}) must be a whole number of batches of {batch} or {n}")
    contents.expect_names(["bits", "kl"])
    bits = contents.array("bits", shape=(done,), dtype=np.float64)
    kl = contents.array("kl", shape=(model.T - 1,), dtype=np.float64)
    per_dim = contents.value("per_dim", bool)
    if per_dim != (model.config.image_shape is not None):
        raise contents.fail(f"header entry 'per_dim' ({per_dim}) does not match this model; the file was edited")
    offset = contents.value("offset", float)
    d = model.dim
    want = d * math.log(2.0 / data.levels) / (LN2 * (d if per_dim else 1)) if data.levels else 0.0
    if not math.isclose(offset, want, rel_tol=1e-12, abs_tol=1e-15):
        raise contents.fail(f"header entry 'offset' ({offset}) is not this data's log bin width {want}")
    part = BoundResult(
        bits,
        per_dim,
        contents.value("prior", float),
        kl,
        contents.value("rec", float),
        offset,
        contents.value("null", float),
    )
    return part, done


def _bound_with_checkpoint(model, data, data_argument, args, batch):
    """The bound in batches; with --checkpoint, finished batches are saved and a rerun resumes after them."""
    from thermolearn.diffusion import log_likelihood_bound
    from thermolearn.diffusion.bound import BoundResult
    from thermolearn.progress import progress_bar
    from thermolearn.storage import save_arrays

    x = data.data
    parts: list[BoundResult] = []
    done = 0
    ident = _bound_identity(data, data_argument, args, batch) if args.checkpoint else {}
    if args.checkpoint and Path(args.checkpoint).is_file():
        part, done = _read_bound_checkpoint(args.checkpoint, ident, model, data, batch)
        parts.append(part)
    with progress_bar(
        total=len(x), initial=done, desc="diffusion bound", progress=False if args.no_progress else None
    ) as bar:
        for start in range(done, len(x), batch):
            part = log_likelihood_bound(
                model,
                x[start : start + batch],
                seed=_batch_seed(args.seed, start),
                batch_size=batch,
                draws=args.draws,
                levels=data.levels,
            )
            parts.append(part)
            bar.update(part.n)
            if args.checkpoint:
                merged = _merge(parts)
                save_arrays(
                    args.checkpoint,
                    {"bits": merged.bits, "kl": merged.kl_bits},
                    {
                        "format": BOUND_CHECKPOINT_FORMAT,
                        "version": BOUND_CHECKPOINT_VERSION,
                        "bound_checkpoint": ident,
                        "done": start + part.n,
                        "per_dim": merged.per_dim,
                        "prior": merged.prior_bits,
                        "rec": merged.reconstruction_bits,
                        "offset": merged.offset_bits,
                        "null": merged.null_bits,
                    },
                )
                parts = [merged]
    return _merge(parts)


def _batch_seed(seed: int, start: int) -> int:
    import numpy as np

    return int(np.random.SeedSequence([seed, start]).generate_state(1)[0])


def _merge(parts):
    import numpy as np

    from thermolearn.diffusion.bound import BoundResult

    if len(parts) == 1:
        return parts[0]
    w = np.array([p.n for p in parts], dtype=float)
    w /= w.sum()
    return BoundResult(
        bits=np.concatenate([p.bits for p in parts]),
        per_dim=parts[0].per_dim,
        prior_bits=float(sum(wi * p.prior_bits for wi, p in zip(w, parts))),
        kl_bits=sum(wi * p.kl_bits for wi, p in zip(w, parts)),
        reconstruction_bits=float(sum(wi * p.reconstruction_bits for wi, p in zip(w, parts))),
        offset_bits=parts[0].offset_bits,
        null_bits=float(sum(wi * p.null_bits for wi, p in zip(w, parts))),
    )
