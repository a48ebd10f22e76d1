"""thermolearn: the physics of machine learning, runnable.

Conventions: spins int8 in {-1, +1}; E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i;
k_B = 1, beta = 1/T; p(s) = exp(-beta E) / Z; batches put the sample axis first.

Everything here loads on first use (``thermolearn.Ising``, ``thermolearn.exact``), so
``import thermolearn`` and ``thermolearn.__version__`` cost almost nothing.
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.models import Ising, MaxCut
    from thermolearn.runs import compare, sample, sweep


__version__ = "0.6.14"

_EXPORTS = {
    "Ising": "models",
    "MaxCut": "models",
    "compare": "runs",
    "sample": "runs",
    "sweep": "runs",
}
_SUBPACKAGES = (
    "cli",
    "datasets",
    "demo",
    "diffusion",
    "dimod",
    "dynamics",
    "estimators",
    "exact",
    "learning",
    "models",
    "neural",
    "pbits",
    "quantum",
    "randomness",
    "rg",
    "runs",
    "samplers",
    "spinglass",
    "testing",
    "variational",
    "viz",
)

__all__ = [*sorted(_EXPORTS), "__version__", *_SUBPACKAGES]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, submodules=_SUBPACKAGES)
