"""thermolearn: the physics of machine learning, runnable.

Conventions: spins int8 in {-1, +1}; E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i;
k_B = 1, beta = 1/T; p(s) = exp(-beta E) / Z; batches put the sample axis first.
"""

from thermolearn.models import Ising, MaxCut

__version__ = "0.5.0"

__all__ = ["Ising", "MaxCut", "__version__"]
