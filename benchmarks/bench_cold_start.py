"""Cold start: how long a command takes on a fresh machine (empty Numba and JAX caches) and the
second time (caches full), and what each kernel it compiles costs.

Each command runs as its own process with a fresh, empty ``NUMBA_CACHE_DIR`` and
``JAX_COMPILATION_CACHE_DIR`` (cold), then again with the caches the first run filled (warm). The
child registers a listener on Numba's ``numba:compile`` event, so the table lists every kernel
compiled (not loaded from the cache) with its wall and CPU seconds; a compilation nested in
another (a kernel's callees, Numba's own helpers) is counted inside its caller, and the table
shows thermolearn's own callees indented under the caller. With ``--demo`` the
demo's sections are timed too, with the kernels each section compiles.

    .venv/bin/python benchmarks/bench_cold_start.py [--demo | --only-demo] [--json PATH]
    .venv/bin/python benchmarks/bench_cold_start.py --command "rbm train --data digits ..." ...

Timings on a loaded machine are rough; the CPU seconds of a compile are steadier than its wall
seconds there (compiling is single-threaded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba

import thermolearn
from thermolearn.storage import write_text_atomic

COMMANDS: list[list[str]] = [
    ["--version"],
    ["--help"],
    ["ising", "-L", "16", "-T", "2.269", "--sweeps", "200", "--no-progress"],
    ["ising", "-L", "16", "-T", "2.269", "--sweeps", "200", "--no-progress", "--algorithm", "wolff"],
    ["ising", "-L", "8", "--dim", "3", "-T", "4.5", "--sweeps", "200", "--no-progress", "--algorithm", "heatbath"],
]
DEMO = ["demo", "--output", "demo-report"]

# The child: runs `thermolearn ARGV` in this process with a listener on Numba's compile event
# (fired for a compilation and for a load from the cache; told apart by the dispatcher's cache
# counters) and, for the demo, the section that runs. It writes what it saw to $COLD_START_OUT.
CHILD = r"""
import importlib.abc, importlib.util, json, os, sys, time
t0 = time.perf_counter()
compiles, section = [], ["(start)"]


def listen():
    from numba.core import event

    class Listener(event.Listener):
        stack = []

        def on_start(self, ev):
            d = ev.data["dispatcher"]
            self.stack.append((time.perf_counter(), time.process_time(), sum(d._cache_hits.values())))

        def on_end(self, ev):
            wall0, cpu0, hits0 = self.stack.pop()
            d = ev.data["dispatcher"]
            f = getattr(d, "py_func", None)
            name = f"{f.__module__}.{f.__qualname__}" if f else str(d)
            if self.stack and not name.startswith("thermolearn."):
                return  # one of Numba's own helpers: its time is inside its caller's
            compiles.append({
                "kernel": name,
                "loaded": sum(d._cache_hits.values()) > hits0,
                "wall": time.perf_counter() - wall0,
                "cpu": time.process_time() - cpu0,
                "section": section[0],
                "nested": len(self.stack),  # > 0: a callee compiled inside its caller (counted there)
            })

    event.register("numba:compile", Listener())


class AfterNumba(importlib.abc.MetaPathFinder):
    # listen once Numba is imported by the command itself: importing it here would add its
    # import time to commands that never need it (--version, --help)
    def find_spec(self, name, path, target=None):
        if name != "numba":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            listen()

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, AfterNumba())
argv = sys.argv[1:]
sections = []
if argv and argv[0] == "demo":
    from thermolearn.demo import tour

    def timed(fn):
        def run(report):
            section[0] = tour.section_label(fn)
            start = time.perf_counter()
            try:
                return fn(report)
            finally:
                sections.append({"section": section[0], "wall": time.perf_counter() - start})
                section[0] = "(after the sections: the explorer)"
        run.__name__ = fn.__name__
        return run

    tour.SECTIONS[:] = [timed(fn) for fn in tour.SECTIONS]
from thermolearn.cli.main import main

try:
    code = main(argv)
finally:
    with open(os.environ["COLD_START_OUT"], "w") as out:
        json.dump({"compiles": compiles, "sections": sections, "total": time.perf_counter() - t0}, out)
sys.exit(code)
"""


def run_command(argv: list[str], caches: Path, cwd: Path) -> dict:
    """Run ``thermolearn argv`` in a child process with its Numba and JAX caches under ``caches``;
    the wall seconds seen from outside and what the child reported."""
    report = cwd / "cold-start-report.json"
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(caches / "numba"),
        "JAX_COMPILATION_CACHE_DIR": str(caches / "jax"),
        "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0.1",
        "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
        "MPLBACKEND": "Agg",
        "COLD_START_OUT": str(report),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"thermolearn {' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    seen = json.loads(report.read_text())
    report.unlink()
    return {"wall": wall, **seen}


def cold_and_warm(argv: list[str]) -> dict:
    """The first run of ``argv`` on empty caches, then a second on the caches it filled."""
    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        folder = Path(tmp)
        cold = run_command(argv, folder, folder)
        warm = run_command(argv, folder, folder)
        shutil.rmtree(folder / "numba", ignore_errors=True)
    return {"command": "thermolearn " + " ".join(argv), "cold": cold, "warm": warm}


def _with_callees(compiles: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Top-level compilations, the most CPU first, each with the thermolearn kernels compiled inside
    it (a callee's compilation ends before its caller's, so it is listed just before it)."""
    groups, pending = [], []
    for c in compiles:
        if c["nested"]:
            pending.append(c)
        else:
            groups.append((c, sorted(pending, key=lambda p: -p["cpu"])))
            pending = []
    return sorted(groups, key=lambda g: -g[0]["cpu"])


def print_results(results: list[dict]) -> None:
    print("\n| command | cold s | warm s | kernels compiled | their compile s (wall / CPU) |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        compiled = [c for c in r["cold"]["compiles"] if not c["loaded"] and not c["nested"]]
        wall = sum(c["wall"] for c in compiled)
        cpu = sum(c["cpu"] for c in compiled)
        print(
            f"| `{r['command']}` | {r['cold']['wall']:.2f} | {r['warm']['wall']:.2f} | {len(compiled)} | {wall:.1f} / {cpu:.1f} |"
        )
    print("\nPer kernel (cold runs; a kernel compiled by several commands is listed once, at its first):")
    print("\n| kernel | first compiled by | wall s | CPU s |")
    print("|---|---|---:|---:|")
    seen: set[str] = set()
    for r in results:
        for top, callees in _with_callees(r["cold"]["compiles"]):
            if top["loaded"] or top["kernel"] in seen or top["cpu"] < 0.05:
                continue
            seen.add(top["kernel"])
            where = top["section"] if r["cold"]["sections"] else r["command"].removeprefix("thermolearn ")
            print(
                f"| `{top['kernel'].removeprefix('thermolearn.')}` | {where} | {top['wall']:.2f} | {top['cpu']:.2f} |"
            )
            for c in callees:
                if c["cpu"] >= 0.05:
                    name = c["kernel"].removeprefix("thermolearn.")
                    print(f"| &nbsp;&nbsp;inside it: `{name}` | | {c['wall']:.2f} | {c['cpu']:.2f} |")
    for r in results:
        if not r["cold"]["sections"]:
            continue
        print(f"\n`{r['command']}` by section (Numba compile: kernels compiled in the cold run):")
        print("\n| section | cold s | warm s | Numba compile s (CPU) |")
        print("|---|---:|---:|---:|")
        warm = {s["section"]: s["wall"] for s in r["warm"]["sections"]}
        for s in r["cold"]["sections"]:
            cpu = sum(
                c["cpu"]
                for c in r["cold"]["compiles"]
                if c["section"] == s["section"] and not c["loaded"] and not c["nested"]
            )
            print(f"| {s['section']} | {s['wall']:.1f} | {warm.get(s['section'], float('nan')):.1f} | {cpu:.1f} |")
        cold_total = sum(s["wall"] for s in r["cold"]["sections"])
        warm_total = sum(s["wall"] for s in r["warm"]["sections"])
        print(f"| all sections | {cold_total:.1f} | {warm_total:.1f} | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="also the whole demo (several minutes cold)")
    parser.add_argument("--only-demo", action="store_true", help="the demo and nothing else")
    parser.add_argument(
        "--command",
        action="append",
        metavar="ARGS",
        help="a thermolearn command line (one quoted string) instead of the default ones; repeatable",
    )
    parser.add_argument("--json", metavar="PATH", help="write every measurement as JSON to PATH")
    args = parser.parse_args()
    print(
        f"thermolearn {thermolearn.__version__}, Numba {numba.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; each command cold (empty caches) then warm, one process each"
    )
    commands = [] if args.only_demo else [shlex.split(c) for c in args.command] if args.command else list(COMMANDS)
    if args.demo or args.only_demo:
        commands.append(DEMO)
    results = []
    for argv in commands:
        print(f"  thermolearn {' '.join(argv)} ...", file=sys.stderr, flush=True)
        results.append(cold_and_warm(argv))
    print_results(results)
    if args.json:
        write_text_atomic(args.json, json.dumps({"thermolearn": thermolearn.__version__, "results": results}, indent=1))


if __name__ == "__main__":
    main()
