"""Variational Monte Carlo with stochastic reconfiguration for RBM neural quantum states.

Each iteration samples |psi_theta(s)|^2 by single-spin-flip Metropolis on many chains at once
(``n_discard`` sweeps thrown away, then one sample per sweep of N proposals per chain), computes
the local energies E_loc and log-derivatives O_k, and moves theta by stochastic reconfiguration
(imaginary-time evolution projected on the ansatz, Sorella 1998):

    (S + eps I) x = F,   S_kl = Re <dO_k^* dO_l>,   F_k = 2 Re <dO_k^* dE_loc>,   theta -= lr x,

where dX = X - <X> and F is the gradient of the energy <H> with respect to the real parameters.
eps is the diagonal shift, eps_k = max(eps_0 decay^k, eps_min) at iteration k. The solve is direct
(Cholesky) or by conjugate gradients with S applied matrix-free. With ``full_summation`` the
averages are exact sums over all 2^N states weighted by |psi|^2 (N <= 16): the same update with
no noise, the reference the sampled estimator is tested against.

Randomness: iteration k draws from ``fold_in(key(seed), k)``, the chains carry over from one
iteration to the next, and one compiled program runs one iteration; so a run checkpointed
(parameters, optimiser state, chains, history) and resumed is bit-identical to one never stopped.
Everything runs in float64 (``jax.enable_x64`` for the duration of the call).
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from thermolearn.file_contents import FileContents
from thermolearn.progress import progress_bar
from thermolearn.quantum.hamiltonian import spin_table
from thermolearn.quantum.nqs import (
    RBMWaveFunction,
    TransverseIsing,
    local_energies,
    log_cosh,
)
from thermolearn.randomness.seeds import check_int_seed, jax_key
from thermolearn.resources import check_memory
from thermolearn.storage import load_arrays, save_arrays
from thermolearn.validation import check_finite_float, check_positive_float, check_positive_int

SR_SOLVERS = ("auto", "direct", "cg")
"""How the SR system is solved: direct (Cholesky of S), cg (matrix-free conjugate gradients),
auto (direct up to DIRECT_SOLVE_LIMIT parameters, else cg)."""

DIRECT_SOLVE_LIMIT = 3000
MAX_FULL_SUMMATION_SPINS = 16
CHECKPOINT_FORMAT = "thermolearn-vmc-checkpoint"
CHECKPOINT_VERSION = 1
HISTORY_NAMES = ("energy", "energy_imag", "variance", "stderr", "acceptance", "seconds")


@dataclass
class VMCResult:
    """A VMC run: the energy estimate of each iteration (totals, k_B = 1) and the final state.

    ``energy[k]``, ``stderr[k]``: the mean local energy at iteration k's parameters and its
    error bar (from the spread of the chains' means; 0 under full summation); ``variance[k]``:
    the variance of E_loc (zero at an eigenstate); ``acceptance[k]``: Metropolis acceptance.
    """

    ansatz: RBMWaveFunction
    theta: np.ndarray
    chains: np.ndarray
    energy: np.ndarray
    energy_imag: np.ndarray
    variance: np.ndarray
    stderr: np.ndarray
    acceptance: np.ndarray
    seconds: np.ndarray
    resumed_from: int
    settings: dict = field(default_factory=dict)

    @property
    def iterations(self) -> int:
        """Number of optimisation iterations recorded."""
        return int(self.energy.shape[0])

    def final_energy(self, fraction: float = 0.1) -> tuple[float, float]:
        """(mean, stderr) of the energy over the last ``fraction`` of the iterations: the spread of
        the per-iteration estimates over their number (which includes the parameters' jitter)."""
        k = max(1, int(round(self.iterations * fraction)))
        tail = self.energy[-k:]
        if k == 1:
            return float(tail[0]), float(self.stderr[-1])
        return float(np.mean(tail)), float(np.std(tail, ddof=1) / math.sqrt(k))

    @property
    def chains_stuck(self) -> bool:
        """Whether the Metropolis chains all but stopped over the last tenth (acceptance < 1%): then
        |psi|^2 is sharply peaked, the samples repeat one state and the energy's error bar means
        nothing (a step too large for the system size: lower the learning rate or keep a larger shift)."""
        if self.settings.get("full_summation"):
            return False
        k = max(1, int(round(self.iterations * 0.1)))
        return bool(np.mean(self.acceptance[-k:]) < 0.01)

    @property
    def seconds_per_iteration(self) -> float:
        """Median wall time of an iteration over the whole run (a resumed run keeps the times of the
        iterations before the stop); the median leaves out the compilation of the first."""
        return float(np.median(self.seconds[1:] if self.seconds.size > 1 else self.seconds))

    def as_dict(self) -> dict:
        """The run as a JSON-ready dict: final energy with error (units of J) and per-iteration traces."""
        mean, err = self.final_energy()
        return {
            "ansatz": self.ansatz.as_dict(),
            "settings": self.settings,
            "energy": {"mean": mean, "stderr": err},
            "energy_per_iteration": self.energy.tolist(),
            "stderr_per_iteration": self.stderr.tolist(),
            "variance_per_iteration": self.variance.tolist(),
            "acceptance_per_iteration": self.acceptance.tolist(),
            "seconds_per_iteration": self.seconds_per_iteration,
            "resumed_from": self.resumed_from,
            "chains_stuck": self.chains_stuck,
        }


# ------------------------------------------------------------------------------ the pieces
@functools.partial(jax.jit, static_argnums=(0, 4, 5))
def metropolis_sweeps(
    ansatz: RBMWaveFunction, theta: jax.Array, chains: jax.Array, key: jax.Array, n_discard: int, n_keep: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Single-spin-flip Metropolis on |psi(s)|^2 for every chain (rows of ``chains``, +-1).

    A sweep is N proposals at uniformly drawn sites; a flip of spin i is accepted with
    probability min(1, |psi(s^i) / psi(s)|^2), from the hidden pre-activations kept current.
    Returns (samples (n_keep, n_chains, N) after each kept sweep, the final chains, acceptance).
    """
    a, b, w = ansatz.dense(theta)
    dtype = w.real.dtype
    s = chains.astype(dtype)
    n_chains, n = s.shape
    hidden = s @ w + b
    n_sweeps = n_discard + n_keep
    rows = jnp.arange(n_chains)

    def propose(carry, inp):
        s, hidden, lc, accepted = carry
        i, lu = inp
        si = s[rows, i]
        new_hidden = hidden - 2.0 * si[:, None].astype(w.dtype) * w[i]
        new_lc = log_cosh(new_hidden)
        delta = -2.0 * a[i] * si + jnp.sum(new_lc - lc, axis=-1)
        accept = lu < 2.0 * jnp.real(delta)  # ln of |psi'/psi|^2
        s = s.at[rows, i].set(jnp.where(accept, -si, si))
        hidden = jnp.where(accept[:, None], new_hidden, hidden)
        lc = jnp.where(accept[:, None], new_lc, lc)
        return (s, hidden, lc, accepted + accept.astype(dtype)), None

    # every sweep's sites and uniforms drawn at once: one threefry call instead of one per sweep
    k_site, k_u = jax.random.split(key)
    sites = jax.random.randint(k_site, (n_sweeps, n, n_chains), 0, n)
    log_u = jnp.log(jax.random.uniform(k_u, (n_sweeps, n, n_chains), dtype=dtype))

    def sweep(carry, inp):
        carry, _ = jax.lax.scan(propose, carry, inp)
        return carry, carry[0]

    init = (s, hidden, log_cosh(hidden), jnp.zeros(n_chains, dtype=dtype))
    # the discarded sweeps record nothing, so only the kept ones are held in memory
    carry, _ = jax.lax.scan(lambda c, inp: (sweep(c, inp)[0], None), init, (sites[:n_discard], log_u[:n_discard]))
    (s, _, _, accepted), kept = jax.lax.scan(sweep, carry, (sites[n_discard:], log_u[n_discard:]))
    return kept, s, jnp.mean(accepted) / (n_sweeps * n)


@functools.partial(jax.jit, static_argnums=0)
def energy_and_gradient(
    ansatz: RBMWaveFunction, theta: jax.Array, h: TransverseIsing, states: jax.Array, weights: jax.Array
) -> dict[str, jax.Array]:
    """Weighted averages over ``states`` (weights summing to 1): the energy <E_loc>, its variance,
    the gradient F_k = 2 Re <dO_k^* dE_loc> of <H> in the real parameters, and the weighted centred
    log-derivatives sqrt(w) dO from which S = Re(dO^H dO) is formed."""
    e_loc = local_energies(ansatz, theta, h, states)
    energy = jnp.sum(weights * e_loc)
    d_e = e_loc - energy
    o = ansatz.log_derivatives(theta, states)
    o_centred = o - weights @ o
    force = 2.0 * jnp.real(jnp.conj(o_centred).T @ (weights * d_e))
    return {
        "e_loc": e_loc,
        "energy": energy,
        "variance": jnp.sum(weights * jnp.abs(d_e) ** 2),
        "force": force,
        "o_weighted": jnp.sqrt(weights)[:, None] * o_centred,
    }


def sr_direction(o_weighted: jax.Array, force: jax.Array, shift: jax.Array, solver: str) -> jax.Array:
    """x solving (S + shift I) x = F with S = Re(dO^H dO): Cholesky or matrix-free conjugate gradients."""
    if solver == "direct":
        s = jnp.real(jnp.conj(o_weighted).T @ o_weighted)
        s = s + shift * jnp.eye(s.shape[0], dtype=s.dtype)
        factor = jax.scipy.linalg.cho_factor(s)
        return jax.scipy.linalg.cho_solve(factor, force)

    def apply_s(v):
        return jnp.real(jnp.conj(o_weighted).T @ (o_weighted @ v.astype(o_weighted.dtype))) + shift * v

    x, _ = jax.scipy.sparse.linalg.cg(apply_s, force, x0=jnp.zeros_like(force), tol=1e-10, maxiter=1000)
    return x


@functools.lru_cache(maxsize=32)
def _compiled_step(ansatz: RBMWaveFunction, plan: tuple, optimizer_spec: tuple) -> Any:
    """One compiled VMC iteration for this ansatz and plan (cached, so a run compiles once)."""
    full_summation, n_chains, n_keep, n_discard, solver = plan
    optimizer = _optimizer(*optimizer_spec)

    def step(theta, opt_state, chains, root, k, shift, h):
        key = jax.random.fold_in(root, k)
        if full_summation:
            states = jnp.asarray(spin_table(ansatz.n_spins), dtype=theta.dtype)
            log_p = 2.0 * jnp.real(ansatz.log_psi(theta, states))
            weights = jax.nn.softmax(log_p)
            acceptance = jnp.asarray(1.0, dtype=theta.dtype)
            new_chains = chains
            stderr = jnp.asarray(0.0, dtype=theta.dtype)
        else:
            samples, new_chains, acceptance = metropolis_sweeps(ansatz, theta, chains, key, n_discard, n_keep)
            states = samples.reshape(n_keep * n_chains, ansatz.n_spins)
            weights = jnp.full(states.shape[0], 1.0 / states.shape[0], dtype=theta.dtype)
        stats = energy_and_gradient(ansatz, theta, TransverseIsing(*h), states, weights)
        if not full_summation:
            chain_means = jnp.mean(jnp.real(stats["e_loc"]).reshape(n_keep, n_chains), axis=0)
            stderr = (
                jnp.std(chain_means, ddof=1) / jnp.sqrt(n_chains)
                if n_chains > 1
                else jnp.sqrt(stats["variance"] / states.shape[0])
            )
        x = sr_direction(stats["o_weighted"], stats["force"], shift, solver)
        updates, opt_state = optimizer.update(x, opt_state, theta)
        theta = optax.apply_updates(theta, updates)
        record = jnp.stack(
            [jnp.real(stats["energy"]), jnp.imag(stats["energy"]), stats["variance"], stderr, acceptance]
        )
        return theta, opt_state, new_chains.astype(jnp.int8), record

    return jax.jit(step)


@functools.lru_cache(maxsize=32)
def _initial_state(ansatz: RBMWaveFunction, n_chains: int, scale: float, optimizer_spec: tuple) -> Any:
    """theta ~ N(0, scale^2) from fold_in(root, 2^31 - 1), random chains from fold_in(root, 2^31 - 2) and
    the optimiser's initial state, as one compiled program (eager JAX would compile each piece apart)."""

    def init(root):
        theta = ansatz.init(jax.random.fold_in(root, 2**31 - 1), scale)
        flips = jax.random.bernoulli(jax.random.fold_in(root, 2**31 - 2), 0.5, (n_chains, ansatz.n_spins))
        return theta, (1 - 2 * flips).astype(jnp.int8), _optimizer(*optimizer_spec).init(theta)

    return jax.jit(init)


def _optimizer(learning_rate: float, momentum: float) -> optax.GradientTransformation:
    """Gradient descent along the SR direction (theta -= lr x), with heavy-ball momentum if asked."""
    return optax.sgd(learning_rate, momentum=momentum if momentum > 0 else None)


# ------------------------------------------------------------------------------ the run
def run_vmc(
    hamiltonian: TransverseIsing,
    ansatz: RBMWaveFunction,
    *,
    iterations: int,
    n_samples: int = 1008,
    n_chains: int = 16,
    n_discard: int | None = None,
    learning_rate: float = 0.1,
    diag_shift: float = 1.0,
    diag_shift_decay: float = 0.97,
    diag_shift_min: float = 0.01,
    momentum: float = 0.0,
    solver: str = "auto",
    full_summation: bool = False,
    init_scale: float = 0.01,
    seed: int = 0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 50,
    progress: bool | None = None,
) -> VMCResult:
    """Minimise <psi|H|psi> / <psi|psi> over the RBM ``ansatz`` by SR; energies are totals (k_B = 1).

    ``n_samples`` samples per iteration, ``n_samples / n_chains`` from each of ``n_chains`` Metropolis
    chains after ``n_discard`` sweeps (default a tenth of that, at least 1). The diagonal shift starts
    large (1, a cautious first step from the random start: a translation-symmetric RBM with a
    constant shift of 0.1 can jump to a sharply peaked state whose chains stop moving) and decays
    by 0.97 per iteration to 0.01. With ``checkpoint``, a
    file written by the same arguments is resumed from (bit-identical) and rewritten every
    ``checkpoint_every`` iterations and at the end.
    """
    plan = _check_plan(
        hamiltonian,
        ansatz,
        iterations=iterations,
        n_samples=n_samples,
        n_chains=n_chains,
        n_discard=n_discard,
        learning_rate=learning_rate,
        diag_shift=diag_shift,
        diag_shift_decay=diag_shift_decay,
        diag_shift_min=diag_shift_min,
        momentum=momentum,
        solver=solver,
        full_summation=full_summation,
        init_scale=init_scale,
        checkpoint_every=checkpoint_every,
    )
    seed = check_int_seed(seed)  # checkpointed: the run is reproducible from this int
    if checkpoint is not None and not Path(checkpoint).resolve().parent.is_dir():
        raise ValueError(f"cannot write checkpoint {checkpoint}: its folder does not exist")
    args = {**plan, "seed": seed, "ansatz": ansatz.as_dict(), "hamiltonian": _digest(hamiltonian)}
    with jax.enable_x64(True):
        return _run(hamiltonian, ansatz, plan, args, seed, iterations, checkpoint, progress)


def _check_plan(hamiltonian: TransverseIsing, ansatz: RBMWaveFunction, **kw: Any) -> dict:
    if not isinstance(ansatz, RBMWaveFunction):
        raise TypeError(f"ansatz must be an RBMWaveFunction, got {type(ansatz).__name__}")
    if not isinstance(hamiltonian, TransverseIsing):
        raise TypeError(
            f"hamiltonian must be a TransverseIsing (nqs.transverse_ising or nqs.chain), got {hamiltonian!r}"
        )
    if hamiltonian.n_spins != ansatz.n_spins:
        raise ValueError(f"the ansatz has {ansatz.n_spins} spins but the Hamiltonian {hamiltonian.n_spins}")
    iterations = check_positive_int("iterations", kw["iterations"])
    n_samples = check_positive_int("n_samples", kw["n_samples"])
    n_chains = check_positive_int("n_chains", kw["n_chains"])
    full = kw["full_summation"]
    if not isinstance(full, bool):
        raise TypeError(f"full_summation must be True or False, got {full!r}")
    n = ansatz.n_spins
    if full and n > MAX_FULL_SUMMATION_SPINS:
        raise ValueError(
            f"full summation runs over all 2^N states and allows N <= {MAX_FULL_SUMMATION_SPINS}, got N = {n}; "
            "use Metropolis sampling (full_summation=False)"
        )
    if n_samples % n_chains:
        raise ValueError(
            f"n_samples ({n_samples}) must be a multiple of n_chains ({n_chains}): each chain gives the same number"
        )
    n_keep = n_samples // n_chains
    n_discard = kw["n_discard"]
    n_discard = max(1, n_keep // 10) if n_discard is None else check_positive_int("n_discard", n_discard, minimum=0)
    learning_rate = check_positive_float("learning_rate", kw["learning_rate"])
    diag_shift = check_positive_float("diag_shift", kw["diag_shift"])
    decay = check_positive_float("diag_shift_decay", kw["diag_shift_decay"])
    if decay > 1:
        raise ValueError(f"diag_shift_decay must be in (0, 1] (the shift shrinks or stays), got {decay}")
    shift_min = check_positive_float("diag_shift_min", kw["diag_shift_min"])
    momentum = check_finite_float("momentum", kw["momentum"])
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    solver = kw["solver"]
    if solver not in SR_SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SR_SOLVERS)}, got {solver!r}")
    if solver == "auto":
        solver = "direct" if ansatz.n_parameters <= DIRECT_SOLVE_LIMIT else "cg"
    init_scale = check_positive_float("init_scale", kw["init_scale"])
    checkpoint_every = check_positive_int("checkpoint_every", kw["checkpoint_every"])
    rows = 2**n if full else n_samples
    p = ansatz.n_parameters
    check_memory(
        "VMC (log-derivatives and local energies of every sample" + (", S matrix" if solver == "direct" else "") + ")",
        8.0 * rows * (2 * p + 4 * n * ansatz.n_hidden / max(1, n)) * (2 if ansatz.is_complex else 1)
        + (8.0 * p * p * 2 if solver == "direct" else 0.0)
        + 8.0 * n_keep * n_chains * n
        + 12.0 * (n_discard + n_keep) * n_chains * n,  # the sweeps' random sites and uniforms
        hint="choose fewer samples, a smaller alpha or the symmetric model",
    )
    return {
        "iterations": iterations,
        "n_samples": n_samples,
        "n_chains": n_chains,
        "n_keep": n_keep,
        "n_discard": n_discard,
        "learning_rate": learning_rate,
        "diag_shift": diag_shift,
        "diag_shift_decay": decay,
        "diag_shift_min": shift_min,
        "momentum": momentum,
        "solver": solver,
        "full_summation": full,
        "init_scale": init_scale,
        "checkpoint_every": checkpoint_every,
    }


def _digest(h: TransverseIsing) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for a in h:
        arr = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
        digest.update(str(arr.shape).encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


def _run(hamiltonian, ansatz, plan, args, seed, iterations, checkpoint, progress) -> VMCResult:
    root = jax_key(seed, typed=True)
    optimizer_spec = (plan["learning_rate"], plan["momentum"])
    theta, chains, opt_state = _initial_state(ansatz, plan["n_chains"], plan["init_scale"], optimizer_spec)(root)
    history = {name: np.full(iterations, np.nan) for name in HISTORY_NAMES}
    start = 0
    if checkpoint is not None and Path(checkpoint).is_file():
        theta, opt_state, chains, start, history = _resume(checkpoint, ansatz, args, theta, opt_state, chains, history)
    step = _compiled_step(
        ansatz,
        (plan["full_summation"], plan["n_chains"], plan["n_keep"], plan["n_discard"], plan["solver"]),
        optimizer_spec,
    )
    h = tuple(jnp.asarray(np.asarray(x, dtype=np.float64)) for x in hamiltonian)
    with progress_bar(
        total=iterations, initial=start, desc="vmc", unit="it", progress=progress, worthwhile=iterations > 20
    ) as bar:
        for k in range(start, iterations):
            shift = max(plan["diag_shift"] * plan["diag_shift_decay"] ** k, plan["diag_shift_min"])
            t0 = time.perf_counter()
            theta, opt_state, chains, record = step(theta, opt_state, chains, root, np.int64(k), np.float64(shift), h)
            record = np.asarray(jax.block_until_ready(record))
            elapsed = time.perf_counter() - t0
            for name, value in zip(HISTORY_NAMES, [*record.tolist(), elapsed]):
                history[name][k] = value
            if not np.isfinite(record[0]):
                raise FloatingPointError(
                    f"the VMC energy became {record[0]} at iteration {k}; lower the learning rate or raise diag_shift"
                )
            bar.update()
            bar.set_postfix_str(f"E = {record[0]:.6f}", refresh=False)
            done = k + 1
            if checkpoint is not None and (done % plan["checkpoint_every"] == 0 or done == iterations):
                _save_checkpoint(checkpoint, args, done, theta, opt_state, chains, history)
    return VMCResult(
        ansatz=ansatz,
        theta=np.asarray(theta),
        chains=np.asarray(chains),
        resumed_from=start,
        settings={k: v for k, v in args.items() if k != "hamiltonian"},
        **history,
    )


# ------------------------------------------------------------------------------ checkpoints
def _save_checkpoint(path, args, done, theta, opt_state, chains, history) -> None:
    arrays = {"vmc:theta": np.asarray(theta), "vmc:chains": np.asarray(chains, dtype=np.int8)}
    for i, leaf in enumerate(jax.tree.leaves(opt_state)):
        arrays[f"vmc:opt:{i}"] = np.asarray(leaf)
    for name, values in history.items():
        arrays[f"vmc:history:{name}"] = values
    header = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "checkpoint": {"iteration": int(done), "args": args},
    }
    save_arrays(path, arrays, header)


def _resume(path, ansatz, args, theta, opt_state, chains, history):
    """Parameters, optimiser state, chains, iterations done and history from the checkpoint at
    ``path``, each checked against this run (``FileFormatError`` naming the file)."""
    arrays, header = load_arrays(path)
    contents = FileContents(path, arrays, header)
    contents.expect_format(CHECKPOINT_FORMAT, [CHECKPOINT_VERSION], what="VMC checkpoint")
    ck = contents.value("checkpoint", dict)
    saved_args = contents.value("args", dict, within=ck, label="checkpoint entry 'args'")
    if saved_args != args:
        diff = {k: {"checkpoint": saved_args.get(k), "now": v} for k, v in args.items() if saved_args.get(k) != v}
        raise contents.fail(f"was written with different VMC arguments {diff}; delete it or use the same arguments")
    iterations = len(history["energy"])
    done = contents.value(
        "iteration", int, minimum=0, maximum=iterations, within=ck, label="checkpoint entry 'iteration'"
    )
    leaves, treedef = jax.tree.flatten(opt_state)
    opt_names = [f"vmc:opt:{i}" for i in range(len(leaves))]
    history_names = [f"vmc:history:{name}" for name in HISTORY_NAMES]
    contents.expect_names(["vmc:theta", "vmc:chains", *opt_names, *history_names])
    new_theta = contents.array("vmc:theta", shape=(ansatz.n_parameters,), dtype=np.float64)
    new_chains = contents.array("vmc:chains", kinds="i", shape=tuple(chains.shape), values=(-1, 1), dtype=np.int8)
    new_leaves = []
    for name, leaf in zip(opt_names, leaves):
        like = np.asarray(leaf)
        kinds = "iu" if like.dtype.kind in "iu" else "f"
        new_leaves.append(jnp.asarray(contents.array(name, kinds=kinds, shape=like.shape, dtype=like.dtype)))
    new_history = {}
    for name in HISTORY_NAMES:
        values = contents.array(f"vmc:history:{name}", shape=(iterations,), dtype=np.float64, finite=False)
        if not np.all(np.isfinite(values[:done])):
            raise contents.fail(f"array 'vmc:history:{name}' must be finite for the {done} iterations done")
        new_history[name] = values.copy()
    return (
        jnp.asarray(new_theta),
        jax.tree.unflatten(treedef, new_leaves),
        jnp.asarray(new_chains),
        done,
        new_history,
    )
