"""The one way a thermolearn package lists its public names: a table, loaded on first use.

A package ``__init__`` holds a table {public name: submodule} and lets this module make its
``__getattr__`` and ``__dir__`` (PEP 562)::

    from thermolearn.lazy_exports import lazy_exports

    __all__ = ["Ising", "MaxCut"]
    __getattr__, __dir__ = lazy_exports(__name__, {"Ising": "ising", "MaxCut": "maxcut"})

A name is imported from its submodule the first time it is asked for (``pkg.Ising``,
``from pkg import Ising``), then cached in the package, so importing a package costs only
the package itself: no Numba, JAX or SciPy until something needs them. A table entry
``"name": "module:attribute"`` exports an attribute under another name; ``submodules`` lists
subpackages reachable as attributes (``thermolearn.exact``).

A public name may equal its submodule's name (``exact.solve``, the function, lives in
``exact/solve.py``). Importing the submodule directly would normally rebind the package
attribute to the module; here the exported name wins, as it would with an eager
``from .solve import solve`` in the ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose exported names are not overwritten by their same-named submodules."""

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("_lazy_export_table", {})
        if (
            name in exports
            and isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
            and name not in self.__dict__.get("_lazy_submodules", ())
        ):
            return  # the import system binding the submodule: the export keeps the name
        super().__setattr__(name, value)


def lazy_exports(
    package: str, exports: Mapping[str, str], *, submodules: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the package named ``package`` (pass ``__name__``).

    ``exports`` maps each public name to the submodule that defines it, relative to the
    package (``"ising"``, or ``"boltzmann_learning:train"`` for a renamed attribute);
    ``submodules`` names subpackages or modules that are themselves attributes.
    """
    module = sys.modules[package]
    table = dict(exports)
    subs = tuple(submodules)
    for name, target in table.items():
        if not isinstance(name, str) or not isinstance(target, str) or not target:
            raise TypeError(f"lazy exports of {package} must map names to submodule names, got {name!r}: {target!r}")
    clash = set(table) & set(subs)
    if clash:
        raise ValueError(f"{package}: {sorted(clash)} listed both as exports and as submodules")
    module.__dict__["_lazy_export_table"] = table
    module.__dict__["_lazy_submodules"] = subs
    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        if name in table:
            where, _, attribute = table[name].partition(":")
            value = getattr(importlib.import_module(f"{package}.{where}"), attribute or name)
        elif name in subs:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module.__dict__[name] = value  # later look-ups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        # the exports, the subpackages, the dunders and any submodule already loaded: not the
        # helpers of the __init__ itself (TYPE_CHECKING, the table, this function)
        loaded = {
            k
            for k, v in module.__dict__.items()
            if (k.startswith("__") and k.endswith("__"))
            or (isinstance(v, types.ModuleType) and v.__name__ == f"{package}.{k}")
        }
        return sorted(loaded | set(table) | set(subs))

    return __getattr__, __dir__
