"""thermolearn's samplers as dimod samplers (``pip install 'thermolearn[dimod]'``).

(Under construction: the modules of this package are listed here as they land.)
"""

from thermolearn.lazy_exports import lazy_exports

_EXPORTS: dict[str, str] = {}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
