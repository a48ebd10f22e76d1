"""Settings fixed at construction: objects whose cached work depends on them refuse a new value.

A run, an operator or a memory checks its settings once and builds from them (couplings,
decision tables, compiled plans); a value assigned afterwards would be ignored by what was built
and read by the rest (a result labelled with the new temperature, sampled at the old one). The
classes that hold such settings name them in ``_fixed_settings``; assigning one after it was set
raises an ``AttributeError`` that says to make a new object instead.
"""

from __future__ import annotations


class FixedSettings:
    """Mixin: the attributes named in ``_fixed_settings`` are set once (in ``__init__``, or a
    loader's construction) and refuse any later assignment; every other attribute is as usual."""

    _fixed_settings: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: object) -> None:
        if name in self._fixed_settings and name in self.__dict__:
            kind = type(self).__name__
            raise AttributeError(
                f"{kind}.{name} is fixed at construction (what was built from it would not follow); "
                f"make a new {kind} for another value"
            )
        object.__setattr__(self, name, value)
