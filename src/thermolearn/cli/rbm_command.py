"""``thermolearn rbm train|sample|loglik|repair``: restricted Boltzmann machines from the command line.

``--data`` takes ``digits`` (scikit-learn's 8 x 8 digits, binarised), a folder of MNIST IDX
files (binarised by threshold or, with ``--binarization bernoulli``, dynamically), or a
binarised-MNIST ``.amat`` file or folder (Larochelle & Murray), with ``--split``.

* ``train``: CD-k, persistent CD or PCD with parallel tempering; a table per epoch
  (reconstruction error, exact log-likelihood when the hidden layer is small); ``--checkpoint``
  resumes a killed run with identical results.
* ``sample``: block Gibbs samples from a saved model.
* ``loglik``: average log-likelihood in nats per image, by the exact sum (small layers),
  annealed importance sampling (optimistic) or RAISE (conservative).
* ``repair``: damage images (mask or noise a region), clamp the known pixels and let block
  Gibbs sampling restore the rest; the free energy falls as the image is restored.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from thermolearn.cli.arguments import check_output_path, missing_action
from thermolearn.cli.options import (
    add_checkpoint,
    add_data,
    add_deprecated_alias,
    add_json,
    add_ladder_size,
    add_no_progress,
    add_plot,
    add_save,
    add_seed,
    add_sweeps,
    check_distinct_paths,
    nonnegative_float,
    open_fraction,
    positive_float,
    positive_int,
    write_json,
)
from thermolearn.cli.table import format_table, value_error_parts

# thermolearn.datasets.damage's DAMAGE_KINDS and REGIONS and learning.contrastive_divergence's
# NEGATIVE_PHASE_METHODS, LEARNING_RATE_SCHEDULES and ENGINES, named here so that --help loads neither
DAMAGE_KINDS = ("mask", "noise")
REGIONS = ("random", "top", "bottom", "left", "right")
NEGATIVE_PHASE_CHOICES = ("cd", "pcd", "pt")
LEARNING_RATE_SCHEDULE_CHOICES = ("constant", "linear", "exponential")
ENGINE_CHOICES = ("auto", "jax", "sparse")


def _data_arguments(p: argparse.ArgumentParser, *, split: str, required: bool = True) -> None:
    add_data(
        p,
        required=required,
        help="digits, a folder of MNIST IDX files, or a binarised-MNIST .amat file or folder"
        + ("" if required else " (default: the model's training data)"),
    )
    p.add_argument(
        "--split",
        choices=("train", "valid", "test"),
        default=split,
        help=f"which split of the data (default {split}; valid only for .amat data)",
    )
    p.add_argument(
        "--binarization",
        choices=("threshold", "bernoulli"),
        default="threshold",
        help="for grey images: threshold at half range (default) or Bernoulli-sample each pixel",
    )
    p.add_argument("--limit", type=positive_int, metavar="N", help="use only the first N images")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "rbm",
        help="restricted Boltzmann machines: train, sample, log-likelihood, image repair",
        description="Restricted Boltzmann machines on binary images: contrastive divergence, persistent CD and "
        "parallel tempering; exact and annealed-importance-sampling log-likelihoods; repairing damaged images.",
    )
    rsub = p.add_subparsers(dest="rbm_command", metavar="ACTION")
    p.set_defaults(run=missing_action("rbm", "train, sample, loglik or repair"))

    t = rsub.add_parser(
        "train",
        help="train an RBM on binary images and save it",
        description="Train a Bernoulli-Bernoulli RBM by moment matching; the table shows each epoch.",
    )
    _data_arguments(t, split="train")
    t.add_argument(
        "--hidden",
        type=positive_int,
        default=None,
        metavar="H",
        help="hidden units (required unless --init gives the model)",
    )
    t.add_argument(
        "--method",
        choices=NEGATIVE_PHASE_CHOICES,
        default="cd",
        help="negative phase: cd (CD-k), pcd (persistent chains), pt (persistent chains with parallel tempering)",
    )
    t.add_argument("--k", type=positive_int, default=1, help="Gibbs sweeps per update (default 1)")
    t.add_argument("--epochs", type=positive_int, default=10, help="passes over the data (default 10)")
    t.add_argument("--batch-size", type=positive_int, default=100, metavar="B", help="minibatch (default 100)")
    t.add_argument("--learning-rate", type=positive_float, default=0.05, metavar="LR", help="step size (default 0.05)")
    lr_schedule = t.add_argument(
        "--learning-rate-schedule",
        choices=LEARNING_RATE_SCHEDULE_CHOICES,
        default="constant",
        help="learning-rate schedule over all updates (decays to LR/100; default constant)",
    )
    add_deprecated_alias(t, "--schedule", lr_schedule)
    t.add_argument(
        "--momentum",
        type=nonnegative_float,
        default=None,
        metavar="M",
        help="momentum in [0, 1) (default 0.5 for cd, 0 for pcd and pt, whose persistent chains "
        "fall behind a fast-moving model)",
    )
    t.add_argument(
        "--weight-decay",
        type=nonnegative_float,
        default=0.0,
        metavar="L2",
        help="L2 penalty on the weights (default 0)",
    )
    t.add_argument("--chains", type=positive_int, metavar="N", help="persistent chains for pcd/pt (default: B)")
    ladder = add_ladder_size(t, default=10, help="pt: rungs of the inverse-temperature ladder from 1 to 0 (default 10)")
    add_deprecated_alias(t, "--temperatures", ladder)
    add_seed(t, "the initial weights, minibatches and sampling")
    t.add_argument(
        "--engine",
        choices=ENGINE_CHOICES,
        default="auto",
        help="jax: dense products, any device; sparse: CD/PCD that skip the zeros of binary units "
        "(CPU, float32); auto (default): sparse where it applies on the CPU",
    )
    add_save(t, "the trained model", required=True, metavar="MODEL.npz")
    add_checkpoint(t, "checkpoint written each epoch")
    t.add_argument(
        "--init",
        metavar="MODEL.npz",
        help="start from this saved RBM instead of random weights (e.g. to anneal the rate of a trained model)",
    )
    add_json(t, "the per-epoch history")
    add_plot(t, "the filters (PATH) and the training curves (PATH_training.png)")
    add_no_progress(t)
    t.set_defaults(run=run_train)

    s = rsub.add_parser(
        "sample",
        help="block Gibbs samples from a saved model",
        description="Run independent block Gibbs chains and show their final states.",
    )
    s.add_argument("model", metavar="MODEL.npz", help="a model written by 'rbm train'")
    s.add_argument("--n", type=positive_int, default=64, metavar="N", help="number of samples (default 64)")
    sweeps = add_sweeps(s, default=1000, help="block Gibbs sweeps per chain (default 1000)")
    add_deprecated_alias(s, "--steps", sweeps)
    add_seed(s, "the chains")
    add_save(s, "the samples", required=False, metavar="SAMPLES.npz")
    add_json(s, "a summary")
    add_plot(s, "a grid of the samples (mean of v given the last h)")
    s.set_defaults(run=run_sample)

    ll = rsub.add_parser(
        "loglik",
        help="average log-likelihood of images (nats per image)",
        description="log p(v) = -F(v) - log Z averaged over images, with log Z exact (small layers), "
        "from annealed importance sampling (optimistic) or per image by RAISE (conservative).",
    )
    ll.add_argument("model", metavar="MODEL.npz", help="a model written by 'rbm train'")
    _data_arguments(ll, split="test", required=False)
    ll.add_argument(
        "--method",
        choices=("exact", "ais", "raise"),
        default=None,
        help="exact when the smaller layer has at most 25 units, else ais (default)",
    )
    ll.add_argument(
        "--schedule",
        choices=("salakhutdinov-murray", "fast"),
        default="salakhutdinov-murray",
        help="AIS temperatures: the paper's 14,500 (default) or a 10x coarser schedule",
    )
    ll.add_argument("--runs", type=positive_int, metavar="M", help="AIS runs (default 100); RAISE runs per image (1)")
    add_seed(ll, "the AIS or RAISE chains (and Bernoulli binarisation)")
    add_json(ll, "{method, log_z, log_likelihood, n_images}")
    add_no_progress(ll)
    ll.set_defaults(run=run_loglik)

    r = rsub.add_parser(
        "repair",
        help="restore damaged images by clamped Gibbs sampling",
        description="Damage images, clamp the pixels that are known and Gibbs-sample the rest; the "
        "repaired image is the average of p(v | h) over the second half of the run.",
    )
    r.add_argument("model", metavar="MODEL.npz", help="a model written by 'rbm train'")
    _data_arguments(r, split="test", required=False)
    r.add_argument("--images", type=positive_int, default=8, metavar="K", help="how many images (default 8)")
    r.add_argument(
        "--damage",
        choices=DAMAGE_KINDS,
        default="mask",
        help="mask: damaged pixels erased to 0; noise: replaced by random bits (default mask)",
    )
    r.add_argument(
        "--region",
        choices=REGIONS,
        default="bottom",
        help="which pixels are damaged: a random fraction, or a half of the image (default bottom)",
    )
    r.add_argument(
        "--fraction",
        type=open_fraction,
        default=0.5,
        metavar="F",
        help="fraction damaged for --region random (default 0.5)",
    )
    sweeps = add_sweeps(r, default=200, help="block Gibbs sweeps (default 200)")
    add_deprecated_alias(r, "--steps", sweeps)
    add_seed(r, "the image choice, the damage and the sampling")
    add_json(r, "the per-image accuracies and free-energy traces")
    add_plot(r, "original, damaged and repaired images with F(v) per sweep")
    r.set_defaults(run=run_repair)


# ---------------------------------------------------------------------------------------------- helpers
def _load_data(source: str, args: argparse.Namespace, split: str | None = None):
    from thermolearn.datasets.binary_images import load_binary_images

    return load_binary_images(
        source, split=split or args.split, binarization=args.binarization, seed=args.seed, limit=args.limit
    )


def _load_model(path: str) -> tuple[Any, dict]:
    from thermolearn.models.rbm import RBM
    from thermolearn.storage import load_arrays

    model = RBM.load(path)
    _, header = load_arrays(path)
    return model, header


def _data_of(args: argparse.Namespace, header: dict) -> str:
    source = args.data or header.get("data", {}).get("source")
    if not source:
        raise ValueError("this model file does not say what data it was trained on: give --data")
    return source


def _image_shape(header: dict, n_visible: int) -> tuple[int, int]:
    shape = header.get("data", {}).get("image_shape")
    if shape:
        return int(shape[0]), int(shape[1])
    side = int(round(math.sqrt(n_visible)))
    return (side, side) if side * side == n_visible else (1, n_visible)


# ---------------------------------------------------------------------------------------------- train
def run_train(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.models.rbm import RBM
    from thermolearn.storage import save_arrays

    check_output_path(args.save, ".npz")
    check_output_path(args.checkpoint, ".npz")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths(
        {"--init": args.init, "--data": args.data},
        {"--save": args.save, "--checkpoint": args.checkpoint, "--json": args.json, "--plot": args.plot},
    )
    if args.momentum is None:
        args.momentum = 0.5 if args.method == "cd" else 0.0
    if args.momentum >= 1:
        raise ValueError(f"--momentum must be in [0, 1), got {args.momentum}")
    if args.method == "pt" and args.ladder_size < 2:
        raise ValueError(
            f"--ladder-size must be >= 2 with --method pt (inverse temperatures 1 down to 0), got {args.ladder_size}"
        )
    data = _load_data(args.data, args)
    x = data.data
    model: Any  # an RBM, or with --init whatever kind of RBM the file holds
    if args.init:
        if not Path(args.init).is_file():
            raise ValueError(f"no such model file: {args.init}")
        model = RBM.load(args.init)
        if model.n_visible != x.shape[1]:
            raise ValueError(f"--init model has {model.n_visible} visible units, the data {x.shape[1]} pixels")
        if args.hidden is not None and args.hidden != model.n_hidden:
            raise ValueError(f"--init model has {model.n_hidden} hidden units, not --hidden {args.hidden}")
        args.hidden = model.n_hidden
    elif args.hidden is None:
        raise ValueError("give --hidden H (the number of hidden units) or --init MODEL.npz")
    else:
        model = RBM.random(x.shape[1], args.hidden, data=x, seed=args.seed)
    betas = np.linspace(1.0, 0.0, args.ladder_size) if args.method == "pt" else None
    print(
        f"training an RBM: {x.shape[1]} visible x {args.hidden} hidden units on {len(x)} {data.name} images "
        f"({data.info.get('split')}), {args.method}{'-' + str(args.k)}, {args.epochs} epochs"
    )  # on stdout: stderr carries only the one-line error of a run that fails
    result = train_rbm(
        model,
        x,
        epochs=args.epochs,
        method=args.method,
        k=args.k,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        schedule=args.learning_rate_schedule,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        n_chains=args.chains,
        betas=betas,
        seed=args.seed,
        checkpoint=args.checkpoint,
        progress=not args.no_progress,
        engine=args.engine,
    )
    h = result.history

    def fmt(x: float, spec: str) -> str:
        return format(float(x), spec) if np.isfinite(x) else "-"

    rows = [
        [e + 1, fmt(h.reconstruction_error[e], ".4f"), fmt(h.log_likelihood[e], ".3f"), fmt(h.seconds[e], ".2f")]
        for e in range(result.epochs_done)
    ]
    print(format_table(["epoch", "reconstruction error", "exact log-lik (nats/image)", "seconds"], rows))
    if result.resumed_from:
        print(f"resumed from the checkpoint after epoch {result.resumed_from}")
    # over every epoch done, resumed ones included: a rerun of a finished checkpoint trains no
    # epoch, and must write the same record and model as the run that finished it
    seconds = h.seconds[: result.epochs_done]
    per_epoch = float(np.mean(seconds)) if seconds.size and np.all(np.isfinite(seconds)) else None
    if result.resumed_from >= result.epochs_done:
        print(f"no epoch left to train ({result.engine} engine)")
    elif per_epoch is not None:
        print(f"{per_epoch:.2f} s per epoch ({result.engine} engine)")
    trained = result.model
    record = {
        "source": str(args.data),
        "name": data.name,
        "split": data.info.get("split"),
        "binarization": data.info.get("binarization"),
        "image_shape": list(data.image_shape or ()),
        "n_images": int(len(x)),
    }
    training = {
        "method": args.method,
        "k": args.k,
        "epochs": result.epochs_done,
        "init": args.init,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "schedule": args.learning_rate_schedule,
        "momentum": args.momentum,
        "weight_decay": args.weight_decay,
        "chains": args.chains,
        "seed": args.seed,
        "seconds_per_epoch": per_epoch,
        "engine": result.engine,
    }
    save_arrays(args.save, trained.arrays(), trained.header(data=record, training=training))
    print(f"wrote {args.save}")
    if args.json:
        write_json(args, {"model": str(args.save), "data": record, "training": training, "history": h.as_dict()})
    if args.plot:
        from thermolearn.viz.rbm_plots import plot_filters, plot_training

        shape = data.image_shape or _image_shape({}, x.shape[1])
        plot_filters(args.plot, trained.weights, shape)
        curves = str(Path(args.plot).with_suffix("")) + "_training.png"
        plot_training(curves, h.reconstruction_error[: result.epochs_done], h.log_likelihood[: result.epochs_done])
        print(f"wrote {args.plot} and {curves}")
    return 0


# ---------------------------------------------------------------------------------------------- sample
def run_sample(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.storage import save_arrays

    check_output_path(args.save, ".npz")
    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({"MODEL": args.model}, {"--save": args.save, "--json": args.json, "--plot": args.plot})
    model, header = _load_model(args.model)
    start = time.perf_counter()
    trace = model.gibbs_trace(
        model.sample(args.n, n_steps=1, seed=args.seed), args.sweeps, seed=args.seed + 1, every=args.sweeps
    )
    seconds = time.perf_counter() - start
    samples = trace.visible[-1]
    means = trace.probabilities[-1]
    fe = trace.free_energy[-1]
    print(f"{args.n} samples after {args.sweeps} block Gibbs sweeps ({seconds:.2f} s)")
    print(
        format_table(
            ["quantity", "mean", "min", "max"],
            [
                ["free energy F(v) (nats)", float(fe.mean()), float(fe.min()), float(fe.max())],
                ["pixels on", float(samples.sum(1).mean()), float(samples.sum(1).min()), float(samples.sum(1).max())],
            ],
        )
    )
    if args.save:
        save_arrays(
            args.save,
            {"samples": samples.astype(np.uint8), "means": means},
            {"model": str(args.model), "steps": args.sweeps, "seed": args.seed},
        )
        print(f"wrote {args.save}")
    if args.json:
        write_json(
            args,
            {
                "model": str(args.model),
                "n": args.n,
                "steps": args.sweeps,
                "sweeps": args.sweeps,
                "seed": args.seed,
                "free_energy": {"mean": float(fe.mean()), "min": float(fe.min()), "max": float(fe.max())},
                "seconds": seconds,
            },
        )
    if args.plot:
        from thermolearn.viz.figures import plot_image_grid

        plot_image_grid(
            args.plot,
            means,
            _image_shape(header, model.n_visible),
            title=f"RBM samples after {args.sweeps} Gibbs sweeps",
            vmin=0.0,
            vmax=1.0,
        )
        print(f"wrote {args.plot}")
    return 0


# ---------------------------------------------------------------------------------------------- loglik
def run_loglik(args: argparse.Namespace) -> int:
    from thermolearn.estimators.ais import rbm_log_likelihood
    from thermolearn.models.rbm import EXACT_MAX_UNITS

    check_output_path(args.json, ".json")
    check_distinct_paths({"MODEL": args.model}, {"--json": args.json})
    model, header = _load_model(args.model)
    source = _data_of(args, header)
    data = _load_data(source, args)
    method = args.method or ("exact" if min(model.n_visible, model.n_hidden) <= EXACT_MAX_UNITS else "ais")
    base = None
    if method in ("ais", "raise"):
        # base rates from the training images: RAISE needs images other than those scored
        try:
            base = _load_data(source, args, split="train").data
        except ValueError as exc:
            raise ValueError(
                f"--method {method} takes its base rates from training images other than those scored: {exc}"
            ) from None
    kwargs = {} if args.runs is None else {"n_runs": args.runs}
    est = rbm_log_likelihood(
        model.weights,
        model.visible_bias,
        model.hidden_bias,
        data.data,
        method=method,
        base_data=base,
        schedule=args.schedule,
        seed=args.seed,
        progress=not args.no_progress,
        **kwargs,
    )
    print(f"log-likelihood of {est.n_images} {data.name} images ({data.info.get('split')}) under {args.model}")
    side = {
        "exact": "exact",
        "optimistic": "optimistic (AIS log Z is a stochastic lower bound, so the log-lik an upper one)",
        "conservative": "conservative (RAISE's implied log Z is a stochastic upper bound, so the log-lik a lower one)",
    }.get(est.bound, est.bound)
    print(
        format_table(
            ["method", "log Z", "± stderr", "log-lik (nats/image)", "± stderr", "side", "seconds"],
            [
                [
                    est.method,
                    # an exact log Z has no error bar: "-", not 0.000
                    *value_error_parts(est.log_z, None if est.bound == "exact" else est.log_z_stderr),
                    *value_error_parts(est.mean, est.stderr),
                    side,
                    f"{est.seconds:.1f}",
                ]
            ],
        )
    )
    if est.warning is not None:
        print(f"warning: AIS log Z: {est.warning}")
    if args.json:
        write_json(
            args, {**est.as_dict(), "model": str(args.model), "data": str(source), "split": data.info.get("split")}
        )
    return 0


# ---------------------------------------------------------------------------------------------- repair
def run_repair(args: argparse.Namespace) -> int:
    import numpy as np

    from thermolearn.datasets.damage import damage_mask

    check_output_path(args.json, ".json")
    check_output_path(args.plot, ".png")
    check_distinct_paths({"MODEL": args.model}, {"--json": args.json, "--plot": args.plot})
    model, header = _load_model(args.model)
    source = _data_of(args, header)
    data = _load_data(source, args)
    shape = data.image_shape or _image_shape(header, model.n_visible)
    if shape[0] * shape[1] != model.n_visible:
        raise ValueError(
            f"the model has {model.n_visible} visible units but the images have {shape[0] * shape[1]} pixels"
        )
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(data.data), size=min(args.images, len(data.data)), replace=False)
    original = data.data[np.sort(pick)].astype(np.float64)
    damaged_px = damage_mask(len(original), shape, args.region, args.fraction, rng)
    damaged = original.copy()
    damaged[damaged_px] = 0.0 if args.damage == "mask" else rng.integers(0, 2, size=int(damaged_px.sum()))
    every = max(1, args.sweeps // 100)
    steps = args.sweeps - args.sweeps % every
    trace = model.gibbs_trace(damaged, steps, seed=args.seed + 1, every=every, clamp=~damaged_px)
    half = trace.probabilities[1 + (len(trace.probabilities) - 1) // 2 :]
    repaired_p = half.mean(axis=0)
    repaired = (repaired_p >= 0.5).astype(np.float64)
    n_damaged = damaged_px.sum(axis=1)
    acc_before = ((damaged == original) & damaged_px).sum(axis=1) / np.maximum(n_damaged, 1)
    acc_after = ((repaired == original) & damaged_px).sum(axis=1) / np.maximum(n_damaged, 1)
    fe = trace.free_energy
    print(
        f"repairing {len(original)} {data.name} images: {args.damage} on the {args.region} "
        f"{'pixels' if args.region == 'random' else 'half'}, {steps} Gibbs sweeps with the known pixels clamped"
    )
    rows = [
        [k, int(n_damaged[k]), float(acc_before[k]), float(acc_after[k]), float(fe[0, k]), float(fe[-1, k])]
        for k in range(len(original))
    ]
    print(format_table(["image", "damaged px", "correct before", "correct after", "F start", "F end"], rows))
    print(
        f"damaged pixels correct: {acc_before.mean():.3f} before, {acc_after.mean():.3f} after repair; "
        f"free energy {fe[0].mean():.1f} -> {fe[-1].mean():.1f} nats (mean)"
    )
    if args.json:
        write_json(
            args,
            {
                "model": str(args.model),
                "data": str(source),
                "damage": args.damage,
                "region": args.region,
                "steps": steps,
                "seed": args.seed,
                "correct_before": acc_before.tolist(),
                "correct_after": acc_after.tolist(),
                "mean_correct_before": float(acc_before.mean()),
                "mean_correct_after": float(acc_after.mean()),
                "sweeps": trace.sweeps.tolist(),
                "free_energy": fe.T.tolist(),
            },
        )
    if args.plot:
        from thermolearn.viz.rbm_plots import plot_repair

        shown = damaged.copy()
        if args.damage == "mask":
            shown[damaged_px] = 0.5  # grey: unknown
        plot_repair(
            args.plot,
            [("original", original), ("damaged", shown), ("repaired", repaired_p)],
            shape,
            trace.sweeps,
            fe,
            title=f"RBM image repair ({args.damage}, {args.region})",
        )
        print(f"wrote {args.plot}")
    return 0
