"""RBMs on binarised MNIST: training speed against scikit-learn and test log-likelihoods by AIS.

Reproduces the setting of Salakhutdinov & Murray (2008), "On the quantitative analysis of
deep belief networks": RBMs with 500 hidden units on MNIST binarised stochastically (60,000
training, 10,000 test images), trained by CD-1, CD-k and PCD, scored on the test set by
annealed importance sampling (their schedule: 14,500 temperatures, 100 runs), next to their
published numbers; a 20-hidden-unit RBM scored exactly and by AIS; and the same PCD-1 update
run by scikit-learn's ``BernoulliRBM`` (in float64 and float32) and by both thermolearn
engines, sparse and JAX (seconds per epoch and the log-likelihood each reaches). ``--engine``
picks the engine of the 20- and 500-hidden runs (default: auto, the sparse one on a CPU).

    python benchmarks/bench_rbm.py --mnist ../shared/data/mnist --epochs 20 --k-large 25 \
        --out benchmarks/results/rbm

The trained models are written to ``--out`` (so the scoring can be repeated with
``thermolearn rbm loglik``) together with ``results.json``. ``--quick`` shrinks everything for a
smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

PUBLISHED = {  # Salakhutdinov & Murray 2008 (500 hidden units, AIS test log-likelihood, nats per image)
    "cd-1": -125.5,  # "about -125.5"
    "cd-25": -86.34,
}


def _data(mnist: str, n_train: int | None, n_test: int | None):
    from thermolearn.datasets.binary_images import load_binary_images

    train = load_binary_images(mnist, split="train", binarization="bernoulli", seed=0, limit=n_train).data
    test = load_binary_images(mnist, split="test", binarization="bernoulli", seed=0, limit=n_test).data
    return train, test


def _train(
    train,
    hidden,
    method,
    k,
    epochs,
    seed,
    *,
    momentum=0.5,
    weight_decay=2e-4,
    learning_rate=0.05,
    schedule="constant",
    init=None,
    engine="auto",
):
    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.models.rbm import RBM

    model = RBM.load(init) if init else RBM.random(train.shape[1], hidden, data=train, seed=seed)
    t0 = time.perf_counter()
    result = train_rbm(
        model,
        train,
        epochs=epochs,
        method=method,
        k=k,
        batch_size=100,
        learning_rate=learning_rate,
        schedule=schedule,
        momentum=momentum,
        weight_decay=weight_decay,
        seed=seed,
        progress=True,
        exact_log_likelihood=False,
        reconstruction=False,
        engine=engine,
    )
    seconds = time.perf_counter() - t0
    per_epoch = result.history.seconds
    steady = float(np.median(per_epoch[1:])) if len(per_epoch) > 1 else float(per_epoch[0])
    return result.model, {
        "seconds": seconds,
        "seconds_per_epoch": steady,
        "first_epoch_s": float(per_epoch[0]),
        "engine": result.engine,
    }


def _score(rbm, train, test, *, runs, schedule, seed, raise_images=0):
    from thermolearn.estimators.ais import rbm_log_likelihood

    out = {}
    ais = rbm_log_likelihood(
        rbm.weights,
        rbm.visible_bias,
        rbm.hidden_bias,
        test,
        method="ais",
        base_data=train,
        schedule=schedule,
        n_runs=runs,
        seed=seed,
        progress=False,
    )
    out["ais"] = ais.as_dict()
    if raise_images:
        sub = test[:raise_images]
        rai = rbm_log_likelihood(
            rbm.weights,
            rbm.visible_bias,
            rbm.hidden_bias,
            sub,
            method="raise",
            base_data=train,
            schedule=schedule,
            seed=seed + 1,
            progress=False,
        )
        same = float(np.mean(-rbm.free_energy(sub)) - ais.log_z)
        out["raise"] = {**rai.as_dict(), "ais_on_same_images": same}
    return out


def _threads() -> dict:
    """Numba's threads (thermolearn's sparse engine) and the BLAS pools (scikit-learn's products)."""
    import numba

    out: dict = {"numba": numba.get_num_threads()}
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = {f"{p['internal_api']} ({p['user_api']})": p["num_threads"] for p in threadpool_info()}
    except ImportError:
        out["OPENBLAS_NUM_THREADS"] = os.environ.get("OPENBLAS_NUM_THREADS")
    return out


def _sklearn_epochs(train, hidden, epochs, seed):
    from sklearn.neural_network import BernoulliRBM

    from thermolearn.models.rbm import RBM

    # scikit-learn computes in the data's float type (float64 unless given float32); fit runs
    # n_iter epochs of minibatch PCD-1 (partial_fit would be one update on all the data)
    sk = BernoulliRBM(n_components=hidden, learning_rate=0.05, batch_size=100, n_iter=epochs, random_state=seed)
    t0 = time.perf_counter()
    sk.fit(train)
    seconds = time.perf_counter() - t0
    model = RBM(sk.components_.T, sk.intercept_visible_, sk.intercept_hidden_)
    return model, {"seconds_per_epoch": seconds / epochs, "epochs": epochs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", required=True, help="folder holding the MNIST IDX files")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--k-large", type=int, default=25, help="k of the long CD run (the paper: 25)")
    parser.add_argument("--sklearn-epochs", type=int, default=3)
    parser.add_argument("--momentum", type=float, default=0.5)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--init", metavar="MODEL.npz", help="continue training this model (500-hidden runs)")
    parser.add_argument("--runs", type=int, default=100, help="AIS runs")
    parser.add_argument("--schedule", default="salakhutdinov-murray", help="AIS temperature schedule")
    parser.add_argument(
        "--lr-schedule",
        default="constant",
        choices=("constant", "linear", "exponential"),
        help="learning-rate schedule of the 500-hidden runs (decays to 1/100 of the rate)",
    )
    parser.add_argument("--raise-images", type=int, default=100, help="test images scored by RAISE (0: none)")
    parser.add_argument("--only", default="small,cd1,cdk,pcd,sklearn", help="comma-separated parts to run")
    parser.add_argument(
        "--engine",
        default="auto",
        choices=("auto", "jax", "sparse"),
        help="training engine of the 20- and 500-hidden runs (the scikit-learn comparison runs both)",
    )
    parser.add_argument("--out", default="benchmarks/results/rbm")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    parts = set(args.only.split(","))
    n_train, n_test = (5000, 1000) if args.quick else (None, None)
    if args.quick:
        args.epochs, args.k_large, args.sklearn_epochs, args.runs, args.schedule = 2, 3, 1, 20, "fast"
    train, test = _data(args.mnist, n_train, n_test)
    import jax
    import sklearn

    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results["machine"] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "sklearn": sklearn.__version__,
        "platform": platform.platform(),
        "threads": _threads(),
    }
    # the sparse engine runs on Numba threads, scikit-learn on its BLAS threads (OPENBLAS_NUM_THREADS=1
    # leaves it one core): the speed-ups are like-for-like only when both have the same cores
    print(f"threads: {results['machine']['threads']}", flush=True)
    results["data"] = {"train": int(len(train)), "test": int(len(test)), "binarization": "bernoulli, seed 0"}

    def save():
        from thermolearn.storage import write_json_atomic

        write_json_atomic(results_path, results)

    if "small" in parts:
        from thermolearn.estimators.ais import rbm_log_likelihood

        rbm, timing = _train(train, 20, "cd", 1, args.epochs, seed=0, engine=args.engine)
        rbm.save(out / "rbm20_cd1.npz")
        exact = rbm_log_likelihood(rbm.weights, rbm.visible_bias, rbm.hidden_bias, test, method="exact")
        scored = _score(rbm, train, test, runs=args.runs, schedule=args.schedule, seed=1)
        results["rbm20_cd1"] = {**timing, "exact": exact.as_dict(), **scored}
        save()
        print(f"20 hidden, CD-1: exact {exact.mean:.3f}, AIS {scored['ais']['log_likelihood']['mean']:.3f}", flush=True)
    runs = [("cd1", "cd", 1), ("cdk", "cd", args.k_large), ("pcd", "pcd", 1)]
    for name, method, k in runs:
        if name not in parts:
            continue
        label = f"{method}-{k}" if method == "cd" else "pcd-1"
        rbm, timing = _train(
            train,
            500,
            method,
            k,
            args.epochs,
            seed=0,
            momentum=args.momentum,
            learning_rate=args.learning_rate,
            init=args.init,
            schedule=args.lr_schedule,
            engine=args.engine,
        )
        tag = (
            f"rbm500_{label}_e{args.epochs}_m{args.momentum:g}"
            + ("_continued" if args.init else "")
            + ("" if args.lr_schedule == "constant" else f"_lr-{args.lr_schedule}")
        )
        rbm.save(out / f"{tag}.npz")
        scored = _score(
            rbm, train, test, runs=args.runs, schedule=args.schedule, seed=1, raise_images=args.raise_images
        )
        results[tag] = {
            **timing,
            "epochs": args.epochs,
            "momentum": args.momentum,
            "learning_rate": args.learning_rate,
            "lr_schedule": args.lr_schedule,
            "init": args.init,
            **scored,
            "published": PUBLISHED.get(label),
        }
        save()
        print(
            f"500 hidden, {label}: AIS {scored['ais']['log_likelihood']['mean']:.2f} nats "
            f"({timing['seconds_per_epoch']:.1f} s/epoch)",
            flush=True,
        )
    # the same PCD-1 run by scikit-learn (in float64 and float32) and by each thermolearn engine,
    # one after the other on the same machine
    ours = {}
    if parts & {"sklearn", "sklearn32"}:
        for engine in ("sparse", "jax"):
            model, timing = _train(
                train, 500, "pcd", 1, args.sklearn_epochs, seed=0, momentum=0.0, weight_decay=0.0, engine=engine
            )
            ours[engine] = {**timing, **_score(model, train, test, runs=args.runs, schedule=args.schedule, seed=1)}
            print(f"thermolearn PCD-1 ({engine} engine) {timing['seconds_per_epoch']:.2f} s/epoch", flush=True)
    for dtype in ("float64", "float32"):
        if ("sklearn" if dtype == "float64" else "sklearn32") not in parts:
            continue
        sk_model, sk_timing = _sklearn_epochs(train.astype(dtype), 500, args.sklearn_epochs, seed=0)
        sk_scored = _score(sk_model, train, test, runs=args.runs, schedule=args.schedule, seed=1)
        results[f"sklearn_{dtype}_vs_thermolearn_pcd1"] = {
            "epochs": args.sklearn_epochs,
            "settings": "PCD-1, 500 hidden, batch 100, learning rate 0.05, no momentum, no weight decay",
            "sklearn": {**sk_timing, **sk_scored},
            "thermolearn": ours,
            "speedup": {engine: sk_timing["seconds_per_epoch"] / o["seconds_per_epoch"] for engine, o in ours.items()},
        }
        save()
        print(
            f"sklearn ({dtype} data) {sk_timing['seconds_per_epoch']:.2f} s/epoch; speed-up "
            + ", ".join(f"{e} {r:.2f}x" for e, r in results[f"sklearn_{dtype}_vs_thermolearn_pcd1"]["speedup"].items()),
            flush=True,
        )
    json.dump(results, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
