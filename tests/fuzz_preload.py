"""Every library module a command can reach, imported once by the fuzz suites' fork server.

A forked case then starts with the modules in memory instead of importing them again (scipy,
optax, each command's own modules: about a second per case). Importing runs no JAX computation
and starts no thread (checked below), so the server stays safe to fork; the demo, the explorer
and the plots are left out (no refused case reaches them).
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

import thermolearn

_LEFT_OUT = ("thermolearn.demo", "thermolearn.viz", "thermolearn.explorer", "thermolearn.__main__")

for _module in pkgutil.walk_packages(thermolearn.__path__, "thermolearn."):
    if not _module.name.startswith(_LEFT_OUT):
        importlib.import_module(_module.name)

if threading.active_count() != 1:  # a thread would make every fork of this process unsafe
    raise RuntimeError(f"importing thermolearn started threads: {[t.name for t in threading.enumerate()]}")
