"""The RBM-as-RG experiment (Mehta and Schwab 2014), made to pass or fail.

Claim under test: a deep belief network trained layer by layer on critical Ising configurations
learns a coarse-graining like block spins, so its hidden layers are coarser Ising models whose
couplings flow as the renormalisation group says. The experiment:

1. Cluster-sample the periodic L x L Ising model at K_c (1 - delta), K_c and K_c (1 + delta)
   (K = J / T reduced couplings).
2. Train RBMs L^2 -> (L/b)^2 -> (L/b^2)^2 ... by CD-k with an L1 penalty on the K_c samples, each
   layer on the previous layer's hidden draws h ~ p(h | v).
3. Geometry: each hidden unit's receptive field, its locality (the fraction of |W| in the b x b
   block nearest its centre; 1 for majority-rule blocks) and a lattice site for each unit (the
   block nearest its centre, one unit per site). A unit's sign is a gauge (h -> 1 - h is the
   same coarse-graining): it is fixed so that each unit aligns with the spins it sees.
4. Flow: push each ensemble through the trained layers (h ~ p(h | v)), fit an Ising model to
   every layer's spins by pseudo-likelihood (all pairs) and read off its nearest-neighbour
   coupling K^(m); do the same with majority-rule blocks of the same configurations. RG says
   that K^(m)(K_c + dK) - K^(m)(K_c - dK) grows by b^{y_T} = b (y_T = 1 in 2D) per level, with
   the sign of dK: the ordered side flows to order, the disordered side to disorder.
5. Free energy: ln Z / N of each layer's nearest-neighbour effective model (Kaufman's exact sum
   on its lattice), against the exact ln Z / N of the sampled model for the visible layer.

Morningstar and Melko (2017, "Deep learning the Ising model near criticality") found that deep
stacks do not beat shallow ones near K_c; whatever the verdict here, it is measured, with the
block-spin flow of the same samples as the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from thermolearn.exact.enumeration import enumerate_exact
from thermolearn.exact.kaufman import kaufman
from thermolearn.file_contents import FileContents
from thermolearn.learning.contrastive_divergence import TrainingState, train_rbm
from thermolearn.learning.inverse_ising import pseudo_likelihood
from thermolearn.models.ising import Ising
from thermolearn.models.rbm import PARAM_NAMES, RBM
from thermolearn.progress import progress_bar
from thermolearn.randomness.seeds import check_int_seed
from thermolearn.rg.block_spins import block_spins
from thermolearn.rg.critical_sampling import MCRG_SAMPLERS, critical_coupling, sample_configurations
from thermolearn.rg.receptive_fields import (
    assign_to_lattice,
    block_spin_kernels,
    check_layer_sides,
    nearest_neighbour_coupling,
    receptive_field_centres,
    receptive_field_locality,
)
from thermolearn.runs.checkpoint import read_checkpoint, save_checkpoint
from thermolearn.validation import check_finite_float, check_positive_float, check_positive_int

__all__ = ["ENSEMBLES", "SAMPLES_PER_FITTED_SPIN", "RBMRenormalisationResult", "rbm_renormalisation"]

#: The three sampled ensembles, in order: below, at and above the critical coupling.
ENSEMBLES = ("below", "critical", "above")
#: Samples per spin a pseudo-likelihood fit of all n (n - 1) / 2 pairs needs: each spin's
#: conditional is a logistic regression on n - 1 others, which overfits (couplings inflated by
#: about n / M_eff: 17% for 256 spins and 4000 samples 2 SW sweeps apart at K_c) unless M >> n.
#: The visible layer, whose coupling is known, is fitted only when M allows (a check of the fit).
SAMPLES_PER_FITTED_SPIN = 40
#: Largest layer whose fitted model's ln Z is also summed exactly over all 2^n states.
MAX_ENUMERATED_SPINS = 20
#: A layer's fields are called block-like when, on average, at least this fraction of |W| lies
#: in the b x b block at each unit's centre, and local when it lies in the 2b x 2b block there
#: (a field a little wider than one block, as an RBM's usually are, is local, not block-like).
LOCALITY_THRESHOLD = 0.5
_Y_T_2D = 1.0  # Onsager: nu = 1


@dataclass
class RBMRenormalisationResult:
    """The experiment's record (:meth:`as_dict` is the JSON of ``thermolearn rg rbm``) and, for
    plots, each layer's receptive fields in lattice order (``fields[m - 1]``: (side_{m-1}^2,
    side_m^2), column of the unit on each coarse site, gauge-fixed) and the trained RBMs."""

    record: dict[str, Any]
    fields: list[np.ndarray] = field(repr=False)
    models: list[RBM] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The experiment's JSON record (``record`` itself)."""
        return self.record


def _json(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _plan(size, levels, b, n_samples, delta, epochs, batch_size, learning_rate, momentum, l1_penalty, k, sampler,
          burn_in, sweeps_between, seed) -> dict[str, Any]:  # fmt: skip
    sides = check_layer_sides(size, b, levels)
    n_samples = check_positive_int("n_samples", n_samples)
    delta = check_positive_float("delta", delta)
    if delta >= 1.0:
        raise ValueError(f"delta must be in (0, 1) (a relative offset from K_c), got {delta}")
    batch_size = check_positive_int("batch_size", batch_size)
    if batch_size > n_samples:
        raise ValueError(f"batch_size ({batch_size}) must be at most n_samples ({n_samples})")
    if n_samples < SAMPLES_PER_FITTED_SPIN * sides[1] ** 2:
        raise ValueError(
            f"n_samples = {n_samples} is too few to fit the first hidden layer's {sides[1] ** 2}-spin model by "
            f"pseudo-likelihood: need at least {SAMPLES_PER_FITTED_SPIN * sides[1] ** 2}"
        )
    momentum = check_finite_float("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    l1_penalty = check_finite_float("l1_penalty", l1_penalty)
    if l1_penalty < 0:
        raise ValueError(f"l1_penalty must be >= 0, got {l1_penalty}")
    if sampler not in MCRG_SAMPLERS:
        raise ValueError(f"sampler must be one of {', '.join(MCRG_SAMPLERS)}, got {sampler!r}")
    return {
        "experiment": "rbm-renormalisation",
        "size": sides[0],
        "levels": len(sides) - 1,
        "b": check_positive_int("b", b, minimum=2),
        "sides": sides,
        "layer_sizes": [s * s for s in sides],
        "samples": n_samples,
        "delta": delta,
        "epochs": check_positive_int("epochs", epochs),
        "batch_size": batch_size,
        "learning_rate": check_positive_float("learning_rate", learning_rate),
        "momentum": momentum,
        "l1_penalty": l1_penalty,
        "cd_k": check_positive_int("k", k),
        "sampler": sampler,
        "burn_in": check_positive_int("burn_in", burn_in, minimum=0),
        "sweeps_between": check_positive_int("sweeps_between", sweeps_between),
        "seed": check_int_seed(seed),
    }


def _int_seed(seq: np.random.SeedSequence) -> int:
    return int(seq.generate_state(1, dtype=np.uint32)[0])


# ---------------------------------------------------------------------------- checkpoints
def _save(path, plan, done: list[RBM], current: RBM | None, state: TrainingState | None, layer: int, epoch: int):
    arrays: dict[str, np.ndarray] = {}
    for m, model in enumerate(done, start=1):
        for name in PARAM_NAMES:
            arrays[f"layer{m}_{name}"] = np.asarray(getattr(model, name))
    if current is not None and state is not None:
        for name in PARAM_NAMES:
            arrays[f"current_{name}"] = np.asarray(getattr(current, name))
            arrays[f"velocity_{name}"] = np.asarray(state.velocity[name])
    save_checkpoint(path, arrays, plan, {"layer": layer, "epoch": epoch})


def _load(path, plan) -> tuple[list[RBM], RBM | None, TrainingState | None, int, int] | None:
    """(finished layers, current layer, its state, current layer number, its epochs done), each
    array checked against the plan's layer sizes: a crafted checkpoint is refused."""
    contents: FileContents | None = read_checkpoint(path, plan)
    if contents is None:
        return None
    progress = contents.value("progress", dict)
    levels = plan["levels"]
    layer = contents.value("layer", int, minimum=1, maximum=levels + 1, within=progress, label="progress 'layer'")
    epoch = contents.value(
        "epoch", int, minimum=0, maximum=plan["epochs"] - 1, within=progress, label="progress 'epoch'"
    )
    if layer == levels + 1 and epoch:
        raise contents.fail(f"progress 'epoch' must be 0 once all {levels} layers are trained, got {epoch}")
    sizes = plan["layer_sizes"]
    shapes = {"weights": lambda m: (sizes[m - 1], sizes[m]), "visible_bias": lambda m: (sizes[m - 1],),
              "hidden_bias": lambda m: (sizes[m],)}  # fmt: skip
    names = [f"layer{m}_{n}" for m in range(1, layer) for n in PARAM_NAMES]
    current_names = [f"{p}_{n}" for p in ("current", "velocity") for n in PARAM_NAMES] if epoch else []
    contents.expect_names(names + current_names)

    def params(prefix: str, m: int) -> dict[str, np.ndarray]:
        return {n: contents.array(f"{prefix}_{n}", shape=shapes[n](m), dtype=np.float64) for n in PARAM_NAMES}

    done = [RBM(**params(f"layer{m}", m)) for m in range(1, layer)]
    if not epoch:
        return done, None, None, layer, 0
    current = RBM(**params("current", layer))
    import jax.numpy as jnp

    from thermolearn.models.rbm import float_dtype

    velocity = {n: jnp.asarray(v, dtype=float_dtype()) for n, v in params("velocity", layer).items()}
    n_batches = plan["samples"] // plan["batch_size"]
    return done, current, TrainingState(velocity, (), epoch, epoch * n_batches), layer, epoch


# ---------------------------------------------------------------------------- the experiment
def rbm_renormalisation(
    size: int = 16,
    *,
    levels: int = 2,
    b: int = 2,
    n_samples: int = 2000,
    delta: float = 0.05,
    epochs: int = 40,
    batch_size: int = 50,
    learning_rate: float = 0.1,
    momentum: float = 0.5,
    l1_penalty: float = 0.01,
    k: int = 1,
    sampler: str = "sw",
    burn_in: int = 100,
    sweeps_between: int = 5,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 1,
    progress: bool | None = None,
) -> RBMRenormalisationResult:
    """Train a DBN (L^2, (L/b)^2, ..., ``levels`` RBMs) on 2D Ising samples at K_c and compare its
    coarse-graining with majority-rule block spins: locality of receptive fields, the nn coupling
    K^(m) (reduced, J / T) of every layer fitted by pseudo-likelihood for the ensembles at
    K_c (1 -+ ``delta``) and K_c, the flow's direction and rate against b^{y_T} = b, and ln Z / N
    of each layer's nn model (Kaufman). ``checkpoint`` (a file) is written every
    ``checkpoint_every`` epochs; a killed run resumes from it with bit-identical results."""
    plan = _plan(size, levels, b, n_samples, delta, epochs, batch_size, learning_rate, momentum, l1_penalty, k,
                 sampler, burn_in, sweeps_between, seed)  # fmt: skip
    checkpoint_every = check_positive_int("checkpoint_every", checkpoint_every)
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    sides, b, levels = plan["sides"], plan["b"], plan["levels"]
    k_c = critical_coupling(2)
    couplings = {"below": k_c * (1.0 - delta), "critical": k_c, "above": k_c * (1.0 + delta)}
    # the samples' seeds are spawned first, so the ensembles do not depend on the number of levels
    root = np.random.SeedSequence(plan["seed"])
    sample_seqs, init_seqs, train_seqs, hidden_seqs, tie_seq = (
        root.spawn(3),
        *(root.spawn(levels) for _ in range(3)),
        root.spawn(1)[0],
    )
    # a checkpoint is checked before any sampling: a foreign or crafted one is refused at once
    resumed = _load(checkpoint, plan) if checkpoint is not None else None
    configs = {
        name: sample_configurations(
            size,
            couplings[name],
            plan["samples"],
            sampler=sampler,
            burn_in=plan["burn_in"],
            sweeps_between=plan["sweeps_between"],
            seed=_int_seed(seq),
            progress=progress,
        )  # fmt: skip
        for name, seq in zip(ENSEMBLES, sample_seqs)
    }
    flat = {name: c.reshape(plan["samples"], -1) for name, c in configs.items()}

    # ---- training, layer by layer, on the critical ensemble
    models: list[RBM] = []
    start_layer, start_epoch, current, state = 1, 0, None, None
    if resumed is not None:
        models, current, state, start_layer, start_epoch = resumed
    data = ((flat["critical"] + 1) // 2).astype(np.uint8)
    hidden_draw = [_int_seed(s) for s in hidden_seqs]
    for m in range(1, start_layer):  # the finished layers' draws feed the next layer, as in the first run
        data = models[m - 1].sample_hidden(data, seed=hidden_draw[m - 1]).astype(np.uint8)
    total = levels * plan["epochs"]
    with progress_bar(total, desc="rbm-rg training", progress=progress, unit="epoch",
                      initial=(start_layer - 1) * plan["epochs"] + start_epoch) as bar:  # fmt: skip
        for m in range(start_layer, levels + 1):
            if current is None:
                current = RBM.random(
                    sides[m - 1] ** 2, sides[m] ** 2, scale=0.01, data=data, seed=_int_seed(init_seqs[m - 1])
                )
            epoch = start_epoch if m == start_layer else 0
            while epoch < plan["epochs"]:
                chunk = min(checkpoint_every, plan["epochs"] - epoch)
                result = train_rbm(
                    current, data, epochs=chunk, method="cd", k=plan["cd_k"], batch_size=plan["batch_size"],
                    learning_rate=plan["learning_rate"], momentum=plan["momentum"], l1_penalty=plan["l1_penalty"],
                    seed=_int_seed(train_seqs[m - 1]), state=state, exact_log_likelihood=False, progress=False,
                    reconstruction=False, engine="jax",
                )  # fmt: skip
                assert isinstance(result.model, RBM)  # train_rbm returns the family it was given
                current, state, epoch = result.model, result.state, epoch + chunk
                bar.update(chunk)
                if checkpoint is not None and epoch < plan["epochs"]:
                    _save(checkpoint, plan, models, current, state, m, epoch)
            models.append(current)
            current, state = None, None
            if checkpoint is not None:
                _save(checkpoint, plan, models, None, None, m + 1, 0)  # layer levels + 1: training done
            if m < levels:
                data = models[m - 1].sample_hidden(data, seed=hidden_draw[m - 1]).astype(np.uint8)

    record, fields = _analyse(plan, couplings, configs, flat, models, hidden_draw, tie_seq, progress)
    return RBMRenormalisationResult(record, fields, models)


def _fit(spins: np.ndarray, side: int) -> dict[str, Any]:
    """Pseudo-likelihood fit (T = 1: reduced couplings) of one layer's spins (M, side^2), its
    nearest-neighbour coupling, and ln Z / N of the nn model (Kaufman) and of the full fit (n <= 20)."""
    fit = pseudo_likelihood(spins, temperature=1.0)
    k_nn, k_se = nearest_neighbour_coupling(fit.couplings, side)
    out: dict[str, Any] = {"coupling": k_nn, "stderr": k_se, "converged": fit.converged}
    out["log_z_per_spin_nn_model"] = kaufman(side, 1.0 / k_nn).log_z / side**2 if k_nn > 0 else None
    if side * side <= MAX_ENUMERATED_SPINS:
        model = Ising.from_dense(fit.couplings, fit.fields)
        out["log_z_per_spin_fitted_model"] = enumerate_exact(model, 1.0, correlations=False)[0].log_z / side**2
    return out


def _analyse(plan, couplings, configs, flat, models, hidden_draw, tie_seq, progress):
    sides, b, levels = plan["sides"], plan["b"], plan["levels"]
    fit_visible = plan["samples"] >= SAMPLES_PER_FITTED_SPIN * sides[0] ** 2
    n_fits = 3 * (2 * levels + (1 if fit_visible else 0))
    fits: dict[str, dict[str, list[dict[str, Any]]]] = {"rbm": {}, "block": {}}
    layer_records: list[dict[str, Any]] = []
    fields: list[np.ndarray] = []
    with progress_bar(n_fits, desc="rbm-rg fits", progress=progress, unit="fit") as bar:
        # geometry: unit -> coarse site and gauge sign, layer after layer (in the previous layer's lattice order)
        unit_of_site_prev = np.arange(sides[0] ** 2)
        gauge_prev = np.ones(sides[0] ** 2)
        geometry = []
        for m, model in enumerate(models, start=1):
            w_lattice = np.asarray(model.weights)[unit_of_site_prev] * gauge_prev[unit_of_site_prev][:, None]
            centres = receptive_field_centres(w_lattice, sides[m - 1])
            site_of_unit = assign_to_lattice(centres, sides[m - 1], b)
            gauge = np.where(w_lattice.sum(axis=0) < 0, -1.0, 1.0)  # each unit aligned with the spins it sees
            unit_of_site = np.argsort(site_of_unit)
            locality = receptive_field_locality(w_lattice, sides[m - 1], b)
            fields.append(w_lattice[:, unit_of_site] * gauge[unit_of_site])
            geometry.append((unit_of_site, gauge))
            layer_records.append(
                {
                    "level": m,
                    "n_visible": sides[m - 1] ** 2,
                    "n_hidden": sides[m] ** 2,
                    "side": sides[m],
                    "locality": {
                        "mean": float(np.nanmean(locality)),
                        "min": float(np.nanmin(locality)),
                        "max": float(np.nanmax(locality)),
                        "uniform_baseline": b * b / sides[m - 1] ** 2,
                        "block_spin": float(
                            np.mean(receptive_field_locality(block_spin_kernels(sides[m - 1], b), sides[m - 1], b))
                        ),  # fmt: skip
                        "window": b,
                        # a field local but wider than one block (the RBM's usually are) shows here
                        "mean_window_2b": float(
                            np.nanmean(receptive_field_locality(w_lattice, sides[m - 1], min(2 * b, sides[m - 1])))
                        ),
                    },
                    "mean_abs_weight": float(np.mean(np.abs(model.weights))),
                    "gauge_flipped_units": int((gauge < 0).sum()),
                }
            )
            unit_of_site_prev, gauge_prev = unit_of_site, gauge

        visible: dict[str, Any] = {}
        tie_rng = np.random.default_rng(tie_seq)
        for name in ENSEMBLES:
            k = couplings[name]
            exact = kaufman(sides[0], 1.0 / k).log_z / sides[0] ** 2
            visible[name] = {"coupling": k, "exact_log_z_per_spin": exact}
            if fit_visible:
                fit = _fit(flat[name], sides[0])
                visible[name]["fitted"] = fit
                bar.update(1)
            # RBM coarse-graining: h ~ p(h | v) layer by layer, gauge-fixed spins in lattice order
            h = ((flat[name] + 1) // 2).astype(np.uint8)
            block = configs[name]
            fits["rbm"][name], fits["block"][name] = [], []
            for m, model in enumerate(models, start=1):
                h = model.sample_hidden(h, seed=hidden_draw[m - 1] + 7919 * (1 + ENSEMBLES.index(name))).astype(
                    np.uint8
                )
                unit_of_site, gauge = geometry[m - 1]
                spins = (gauge[unit_of_site] * (2.0 * h[:, unit_of_site] - 1.0)).astype(np.int8)
                fits["rbm"][name].append(_fit(spins, sides[m]))
                bar.update(1)
                block = block_spins(block, b, "majority", tie_rng)
                fits["block"][name].append(_fit(block.reshape(block.shape[0], -1), sides[m]))
                bar.update(1)

    flows = {mapping: _flow(plan, couplings, fits[mapping]) for mapping in ("rbm", "block")}
    for m, rec in enumerate(layer_records, start=1):
        for mapping in ("rbm", "block"):
            rec[mapping] = {
                name: {key: (_json(v) if isinstance(v, float) else v) for key, v in fits[mapping][name][m - 1].items()}
                for name in ENSEMBLES
            }
            rec[mapping]["rate"] = flows[mapping]["rates"][m - 1]
    local = all(rec["locality"]["mean_window_2b"] >= LOCALITY_THRESHOLD for rec in layer_records)
    verdict = {
        "receptive_fields_local": local,
        "receptive_fields_block_like": all(rec["locality"]["mean"] >= LOCALITY_THRESHOLD for rec in layer_records),
        "locality_threshold": LOCALITY_THRESHOLD,
        "rg_rate": float(b**_Y_T_2D),
        "rbm_direction_as_rg": flows["rbm"]["direction_ok"],
        "rbm_rate_as_rg": flows["rbm"]["rate_ok"],
        "block_direction_as_rg": flows["block"]["direction_ok"],
        "block_rate_as_rg": flows["block"]["rate_ok"],
        "rbm_rate_as_block": all(
            _consistent(r["mean"], r["stderr"], q["mean"], q["stderr"])
            for r, q in zip(flows["rbm"]["rates"], flows["block"]["rates"])
        ),
    }
    verdict["rbm_is_rg"] = bool(local and verdict["rbm_direction_as_rg"] and verdict["rbm_rate_as_rg"])
    record = {
        **{k: v for k, v in plan.items() if k != "experiment"},
        "critical_coupling": couplings["critical"],
        "couplings": couplings,
        "visible": {name: _clean(v) for name, v in visible.items()},
        "layers": [_clean(r) for r in layer_records],
        "verdict": verdict,
    }
    return record, fields


def _consistent(a, sa, b_, sb) -> bool:
    """|a - b| within two combined standard errors (both finite)."""
    if a is None or b_ is None or sa is None or sb is None:
        return False
    return abs(a - b_) <= 2.0 * math.hypot(sa, sb)


def _flow(plan, couplings, fits) -> dict[str, Any]:
    """dK^(m) = K^(m)(above) - K^(m)(below) per level (dK^(0) exact), the rate dK^(m) / dK^(m-1)
    with propagated errors, whether every dK^(m) > 2 sigma (direction) and every rate lies within
    2 sigma of b^{y_T} (rate)."""
    b = plan["b"]
    diff, err = [couplings["above"] - couplings["below"]], [0.0]
    for m in range(plan["levels"]):
        hi, lo = fits["above"][m], fits["below"][m]
        diff.append(hi["coupling"] - lo["coupling"])
        err.append(math.hypot(hi["stderr"], lo["stderr"]))
    rates = []
    for m in range(1, len(diff)):
        r = diff[m] / diff[m - 1] if diff[m - 1] else math.nan
        rel = math.hypot(
            err[m] / diff[m] if diff[m] else math.inf, err[m - 1] / diff[m - 1] if diff[m - 1] else math.inf
        )
        rates.append({"level": m, "difference": _json(diff[m]), "difference_stderr": _json(err[m]),
                      "mean": _json(r), "stderr": _json(abs(r) * rel)})  # fmt: skip
    target = float(b**_Y_T_2D)
    for m, r in enumerate(rates, start=1):
        r["direction_as_rg"] = bool(diff[m] > 2.0 * err[m])
        r["rate_as_rg"] = _consistent(r["mean"], r["stderr"], target, 0.0)
    direction = all(r["direction_as_rg"] for r in rates)
    rate = all(r["rate_as_rg"] for r in rates)
    return {"rates": rates, "direction_ok": direction, "rate_ok": rate}


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (float, np.floating)):
        return _json(float(obj))
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
