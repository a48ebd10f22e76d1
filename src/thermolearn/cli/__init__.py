"""The ``thermolearn`` command: one subcommand per job; the entry point is
``thermolearn.cli.main:main``. The package itself exports nothing."""

from thermolearn.lazy_exports import lazy_exports

__all__: list[str] = []
__getattr__, __dir__ = lazy_exports(__name__, {})
