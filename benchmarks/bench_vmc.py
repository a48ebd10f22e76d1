"""VMC per-iteration time: thermolearn against NetKet on the same problem and settings.

The 1D transverse-field Ising chain H = -J sum sz_i sz_{i+1} - h sum sx_i (periodic, J = 1:
ferromagnetic; NetKet's ``Ising`` is H = -h sum sx + J sum sz sz, antiferromagnetic for its
default J = 1, so it is built here with J = -1), an RBM wave function with real parameters
(alpha hidden units per spin, or the translation-symmetric RBM), single-spin-flip Metropolis
(``n_chains`` chains, ``n_samples`` samples per iteration, ``n_discard`` sweeps thrown away per
chain), stochastic reconfiguration with a constant diagonal shift and plain gradient descent.

One iteration is: sample, local energies, log-derivatives, solve the SR system, update. Each
library is warmed up (compilation) by ``--warmup`` iterations first; the time reported is the
wall clock of the following ``--iterations`` iterations over their number (thermolearn: the mean
of its recorded per-iteration times, each one compiled call waited for). Both run in float64
(NetKet's default; thermolearn enables x64 for its VMC). Energies are printed too, relative to
the free-fermion ground energy, but with a constant shift of 0.1 (NetKet's tutorial) the
symmetric model may need thermolearn's default schedule to converge; the comparison is of time.

NetKet lives in the separate benchmark environment; without it the script says so and times
thermolearn alone.

    .venv-bench/bin/python benchmarks/bench_vmc.py                       # N = 20, alpha = 1, 1008 samples
    .venv-bench/bin/python benchmarks/bench_vmc.py --symmetric --alpha 4
    .venv/bin/python benchmarks/bench_vmc.py --chain 8 --samples 64 --iterations 5 --warmup 2   # smoke test
"""

from __future__ import annotations

import argparse
import os
import platform
import time


def thermolearn_run(args) -> tuple[float, float]:
    """(seconds per iteration, energy of the last iteration) for thermolearn."""
    from thermolearn.quantum.nqs import RBMWaveFunction, chain
    from thermolearn.quantum.vmc import run_vmc

    hamiltonian = chain(args.chain, args.field)
    ansatz = RBMWaveFunction(args.chain, args.alpha, "real", args.symmetric)
    kw = dict(
        n_samples=args.samples,
        n_chains=args.chains,
        n_discard=args.discard,
        learning_rate=args.learning_rate,
        diag_shift=args.diag_shift,
        diag_shift_decay=1.0,
        diag_shift_min=args.diag_shift,
        solver=args.solver,
        seed=args.seed,
        progress=False,
    )
    # the first --warmup iterations include the compilation; each later iteration's wall clock (one
    # compiled call, waited for) is recorded by run_vmc, the loop around it costs microseconds
    result = run_vmc(hamiltonian, ansatz, iterations=args.warmup + args.iterations, **kw)
    return float(result.seconds[args.warmup :].mean()), float(result.energy[-1])


def netket_run(args) -> tuple[float, float] | None:
    """(seconds per iteration, energy of the last iteration) for NetKet, or None if it is not installed."""
    try:
        import netket as nk
    except ImportError:
        return None
    graph = nk.graph.Chain(length=args.chain, pbc=True)
    hilbert = nk.hilbert.Spin(s=0.5, N=args.chain)
    hamiltonian = nk.operator.Ising(hilbert=hilbert, graph=graph, h=args.field, J=-1.0)  # J = -1: ferromagnet
    if args.symmetric:
        model = nk.models.RBMSymm(symmetries=graph.translation_group(), alpha=args.alpha, param_dtype=float)
    else:
        model = nk.models.RBM(alpha=args.alpha, param_dtype=float)
    sampler = nk.sampler.MetropolisLocal(hilbert, n_chains=args.chains)
    n_discard = args.discard if args.discard is not None else max(1, args.samples // args.chains // 10)
    state = nk.vqs.MCState(sampler, model, n_samples=args.samples, n_discard_per_chain=n_discard, seed=args.seed)
    solver = nk.optimizer.solver.cholesky if args.solver == "direct" else nk.optimizer.solver.cg
    driver = nk.driver.VMC(
        hamiltonian,
        nk.optimizer.Sgd(learning_rate=args.learning_rate),
        variational_state=state,
        preconditioner=nk.optimizer.SR(diag_shift=args.diag_shift, solver=solver),
    )
    driver.run(n_iter=args.warmup, show_progress=False)
    start = time.perf_counter()
    driver.run(n_iter=args.iterations, show_progress=False)
    seconds = (time.perf_counter() - start) / args.iterations
    return seconds, float(state.expect(hamiltonian).mean.real)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chain", type=int, default=20, help="spins N (default 20)")
    parser.add_argument("--field", type=float, default=1.0, help="transverse field h (default 1)")
    parser.add_argument("--alpha", type=int, default=1, help="hidden units per spin (default 1)")
    parser.add_argument("--symmetric", action="store_true", help="translation-symmetric RBM")
    parser.add_argument("--samples", type=int, default=1008, help="samples per iteration (default 1008)")
    parser.add_argument("--chains", type=int, default=16, help="Metropolis chains (default 16)")
    parser.add_argument("--discard", type=int, default=None, help="sweeps discarded per iteration")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="SGD step (default 0.1)")
    parser.add_argument("--diag-shift", type=float, default=0.1, help="constant SR diagonal shift (default 0.1)")
    parser.add_argument("--solver", choices=("direct", "cg"), default="direct", help="SR solve (default direct)")
    parser.add_argument("--iterations", type=int, default=50, help="timed iterations (default 50)")
    parser.add_argument("--warmup", type=int, default=10, help="iterations before timing (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    args = parser.parse_args()

    from thermolearn import __version__
    from thermolearn.quantum.free_fermions import chain_ground_energy

    exact = chain_ground_energy(args.chain, args.field)
    kind = ("symmetric " if args.symmetric else "") + f"RBM alpha = {args.alpha}"
    print(
        f"TFIM chain N = {args.chain}, h = {args.field:g}, periodic; {kind}; {args.samples} samples on "
        f"{args.chains} chains; SR ({args.solver}, shift {args.diag_shift:g}) + SGD {args.learning_rate:g}; "
        f"{args.iterations} timed iterations after {args.warmup}"
    )
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; exact E0 = {exact:.8f}")
    rows = []
    ours = thermolearn_run(args)
    rows.append((f"thermolearn {__version__}", *ours))
    theirs = netket_run(args)
    if theirs is None:
        print("NetKet is not installed in this environment: timing thermolearn only (run with the benchmark venv)")
    else:
        import netket

        rows.append((f"netket {netket.__version__}", *theirs))
    print(f"{'library':<24} {'ms / iteration':>15} {'energy (last)':>15} {'rel. error':>11}")
    for name, seconds, energy in rows:
        print(f"{name:<24} {seconds * 1e3:>15.2f} {energy:>15.6f} {abs(energy - exact) / abs(exact):>11.2e}")
    if theirs is not None:
        print(f"thermolearn / netket time per iteration: {ours[0] / theirs[0]:.2f}")


if __name__ == "__main__":
    main()
