"""The project standard, enforced: every public name has a docstring and type hints.

"Public" is what the packages export: the root ``thermolearn.__all__`` and the ``__all__`` of
each subpackage it lists (the ``_EXPORTS`` tables of :mod:`thermolearn.lazy_exports`). For
each exported function, and each exported class with its public methods and properties
(defined in thermolearn, in the class or a thermolearn base; not the ones numpy, the standard
library or the dataclass machinery supply), the check asks for

- a non-empty docstring (a method may take it from the method it overrides in a base class,
  as ``help()`` and the API reference show it; a class needs its own, not the signature text
  that dataclasses and NamedTuples make up when a class has none);
- an annotation on every parameter but ``self``/``cls`` and ``*args``/``**kwargs``, and on
  the return (a property: its getter's return); a class's ``__init__`` parameters count
  (a dataclass's generated ``__init__`` carries its fields' annotations).

Annotations are read as written (strings, under ``from __future__ import annotations``),
never evaluated. A failure lists every offender as ``module.qualname: what is missing``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import importlib.util
import inspect
import sys
import textwrap
import types
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import thermolearn


def exported_names() -> Iterator[tuple[str, Any]]:
    """(qualified export name, object) for every name the root and its subpackages list in
    ``__all__``; a subpackage itself is walked, not reported."""
    packages = [thermolearn]
    for name in thermolearn.__all__:
        value = getattr(thermolearn, name)
        if isinstance(value, types.ModuleType):
            packages.append(importlib.import_module(f"thermolearn.{name}"))
    for package in packages:
        for name in package.__all__:
            value = getattr(package, name)
            if not isinstance(value, types.ModuleType):
                yield f"{package.__name__}.{name}", value


def _python_function(obj: Any) -> types.FunctionType | None:
    """The plain Python function behind a function, a decorated function (functools.wraps,
    jax.jit) or a compiled kernel (numba's ``py_func``); None if ``obj`` is not one."""
    for _ in range(10):  # a few layers of wrapping at most
        if isinstance(obj, types.FunctionType):
            return obj
        if isinstance(obj, functools.partial):
            return None
        inner = getattr(obj, "__wrapped__", None) or getattr(obj, "py_func", None)
        if inner is None:
            return None
        obj = inner
    return None


def _where(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _missing_annotations(function: types.FunctionType, *, bound: bool, is_init: bool = False) -> list[str]:
    """What a function lacks in annotations: its unannotated parameters and its return."""
    annotations = function.__annotations__
    parameters = list(inspect.signature(function, follow_wrapped=False).parameters.values())
    if (
        bound
        and parameters
        and parameters[0].kind in (parameters[0].POSITIONAL_ONLY, parameters[0].POSITIONAL_OR_KEYWORD)
    ):
        parameters = parameters[1:]  # self or cls
    missing = [
        p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in annotations
    ]
    out = [f"type hint on parameter {', '.join(missing)}"] if missing else []
    if "return" not in annotations and not is_init:  # __init__ returns None by definition
        out.append("return type hint")
    return out


def _check_function(function: types.FunctionType, where: str, *, bound: bool, doc: str | None) -> list[str]:
    problems = [] if doc and doc.strip() else ["docstring"]
    problems += _missing_annotations(function, bound=bound)
    return [f"{where}: missing {'; '.join(problems)}"] if problems else []


def _generated_class_doc(cls: type, doc: str) -> bool:
    """Whether ``doc`` is the signature text that dataclasses or namedtuple write for a class
    that has no docstring of its own."""
    if dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        return doc.startswith(f"{cls.__name__}(") and doc.rstrip().endswith(")") and "\n" not in doc.strip()
    return False


def _inherited_doc(cls: type, name: str, home: str) -> str | None:
    """The docstring of the attribute ``name`` in a base class of ``cls`` defined under ``home``."""
    for base in cls.__mro__[1:]:
        if base.__module__.split(".")[0] != home or name not in vars(base):
            continue
        attribute = vars(base)[name]
        target = attribute.fget if isinstance(attribute, property) else getattr(attribute, "__func__", attribute)
        doc = getattr(target, "__doc__", None)
        if doc and doc.strip():
            return doc
    return None


def _check_class(cls: type, home: str, seen: set[str]) -> tuple[list[str], int]:
    """Offenders in a class: its docstring, its ``__init__`` and its public methods and properties
    defined under ``home`` (each reported once, under the class that defines it)."""
    out: list[str] = []
    checked = 0
    if _where(cls) not in seen:
        seen.add(_where(cls))
        checked += 1
        doc = vars(cls).get("__doc__")
        if not doc or not doc.strip() or _generated_class_doc(cls, doc):
            out.append(f"{_where(cls)}: missing docstring")
        init = next((vars(k)["__init__"] for k in cls.__mro__ if "__init__" in vars(k)), None)
        owner = next((k for k in cls.__mro__ if "__init__" in vars(k)), object)
        if owner.__module__.split(".")[0] == home and isinstance(init, types.FunctionType):
            problems = _missing_annotations(init, bound=True, is_init=True)
            if problems:
                out.append(f"{_where(owner)}.__init__: missing {'; '.join(problems)}")
    done: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != home:
            continue
        for name, attribute in vars(klass).items():
            if name.startswith("_") or name in done:
                continue
            done.add(name)
            where = f"{_where(klass)}.{name}"
            if where in seen:
                continue
            if isinstance(attribute, property):
                if attribute.fget is None:
                    continue
                seen.add(where)
                checked += 1
                doc = attribute.fget.__doc__ or _inherited_doc(klass, name, home)
                out += _check_function(attribute.fget, where, bound=True, doc=doc)
            elif isinstance(attribute, functools.cached_property):
                seen.add(where)
                checked += 1
                doc = attribute.func.__doc__ or _inherited_doc(klass, name, home)
                out += _check_function(attribute.func, where, bound=True, doc=doc)
            elif isinstance(attribute, staticmethod | classmethod) or callable(attribute):
                function = _python_function(getattr(attribute, "__func__", attribute))
                if function is None or function.__module__.split(".")[0] != home:
                    continue  # a stored value (a jitted callable, a class attribute), not a method
                seen.add(where)
                checked += 1
                doc = function.__doc__ or _inherited_doc(klass, name, home)
                out += _check_function(function, where, bound=not isinstance(attribute, staticmethod), doc=doc)
    return out, checked


def undocumented(exports: Iterable[tuple[str, Any]], home: str = "thermolearn") -> tuple[list[str], int]:
    """Every offender among ``exports`` (``module.qualname: missing ...``), and how many
    functions, classes, methods and properties were checked. Objects defined outside the
    package ``home`` (a re-exported third-party class) and values that are neither functions
    nor classes (constants, tables) are skipped."""
    out: list[str] = []
    seen: set[str] = set()
    checked = 0
    for _, value in exports:
        if isinstance(value, type):
            if value.__module__.split(".")[0] != home:
                continue
            problems, n = _check_class(value, home, seen)
            out += problems
            checked += n
            continue
        function = _python_function(value)
        if function is None or function.__module__.split(".")[0] != home:
            continue
        where = _where(function)
        if where in seen:
            continue
        seen.add(where)
        checked += 1
        out += _check_function(function, where, bound=False, doc=getattr(value, "__doc__", None) or function.__doc__)
    return sorted(out), checked


def test_every_public_name_has_a_docstring_and_type_hints() -> None:
    problems, checked = undocumented(exported_names())
    assert checked > 300, f"only {checked} public names checked: is the enumeration broken?"
    assert not problems, f"{len(problems)} public names lack a docstring or type hints:\n" + "\n".join(problems)


_SCRATCH = '''
from __future__ import annotations

import dataclasses


def documented(x: float, *args, **kwargs) -> float:
    """Twice x."""
    return 2 * x


def undocumented_helper(x, y: int):
    return x


@dataclasses.dataclass
class Record:
    value: float

    @property
    def double(self):
        """Twice the value."""
        return 2 * self.value

    def scaled(self, factor: float) -> float:
        return factor * self.value


class Good:
    """A class with everything."""

    def __init__(self, size: int) -> None:
        self.size = size

    def area(self) -> int:
        """size squared."""
        return self.size**2


class Child(Good):
    """Inherits its documented method; overrides it without a docstring but typed."""

    def __init__(self, size, name: str):
        super().__init__(size)

    def area(self) -> int:
        return self.size
'''


def test_the_check_flags_an_undocumented_function_in_a_scratch_module(tmp_path: Path) -> None:
    path = tmp_path / "scratch_docs_probe.py"
    path.write_text(textwrap.dedent(_SCRATCH))
    spec = importlib.util.spec_from_file_location("scratch_docs_probe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while building the class
    try:
        spec.loader.exec_module(module)
        exports = [
            (name, getattr(module, name)) for name in ("documented", "undocumented_helper", "Record", "Good", "Child")
        ]
        problems, checked = undocumented(exports, home="scratch_docs_probe")
    finally:
        del sys.modules[spec.name]
    assert problems == [
        "scratch_docs_probe.Child.__init__: missing type hint on parameter size",
        "scratch_docs_probe.Record.double: missing return type hint",
        "scratch_docs_probe.Record.scaled: missing docstring",
        "scratch_docs_probe.Record: missing docstring",
        "scratch_docs_probe.undocumented_helper: missing docstring; type hint on parameter x; return type hint",
    ]
    # documented, undocumented_helper, Record (+ double, scaled), Good (+ area), Child (+ area)
    assert checked == 9
