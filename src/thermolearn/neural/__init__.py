"""Neural samplers for statistical mechanics: autoregressive networks as trial distributions.

- :class:`MADE`, :class:`MADEConfig` — a masked autoregressive network over spins: exact samples
  and exact, normalised log q(s) (its depth-0 case is the autoregressive family of black-box VI).
- :class:`PixelCNN`, :class:`PixelCNNConfig` — masked convolutions over a 2D lattice, the same
  interface; :class:`AutoregressiveNetwork` — what both offer (exact samples, exact log q).
- :func:`train_van`, :class:`VANResult` — a variational autoregressive network (Wu, Wang and
  Zhang 2019) trained by REINFORCE on F_q = E_q[E] - T S(q) >= F with beta annealing and
  bit-identical checkpoints; :func:`free_energy_bound`, :class:`FreeEnergyBound`.
- :func:`neural_importance_sampling`, :class:`NISResult` — ln Z and observables from q reweighted
  by p / q (unbiased Z), with the effective sample size and error bars.
- :class:`NeuralMCMC` — independence Metropolis-Hastings with q as the proposal, mixed with local
  Metropolis sweeps (exact); :func:`neural_mcmc`, :class:`NeuralMCMCResult` — acceptance, tau_int.
- :func:`hs_relaxation`, :class:`HSRelaxation` — the Hubbard-Stratonovich relaxation of an Ising
  model (a density over R^n whose spin conditionals give back exp(-beta E)/Z);
  :func:`train_flow`, :class:`FlowResult` — a RealNVP on it trained by reverse or forward KL
  (Hartnett and Mohseni 2020); :func:`overlap_histogram` — P(q) of its spin samples.
- :func:`save_network`, :func:`load_network` — a trained network as .npz + JSON header (checked on load).
- :func:`exact_log_z`, :func:`exact_solution`, :func:`mean_field_log_z` — the references an estimate
  is measured against (Kaufman, transfer matrices, enumeration up to 24 spins; naive mean field).
"""

from typing import TYPE_CHECKING

from thermolearn.lazy_exports import lazy_exports

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from thermolearn.neural.flows import FlowResult, HSRelaxation, hs_relaxation, overlap_histogram, train_flow
    from thermolearn.neural.importance import NISResult, neural_importance_sampling
    from thermolearn.neural.made import MADE, MADEConfig
    from thermolearn.neural.mcmc import NeuralMCMC, NeuralMCMCResult, neural_mcmc
    from thermolearn.neural.network import AutoregressiveNetwork
    from thermolearn.neural.network_files import load_network, save_network
    from thermolearn.neural.pixelcnn import PixelCNN, PixelCNNConfig
    from thermolearn.neural.reference import exact_log_z, exact_solution, mean_field_log_z
    from thermolearn.neural.van import FreeEnergyBound, VANResult, free_energy_bound, train_van

_EXPORTS = {
    "AutoregressiveNetwork": "network",
    "FlowResult": "flows",
    "hs_relaxation": "flows",
    "HSRelaxation": "flows",
    "overlap_histogram": "flows",
    "train_flow": "flows",
    "PixelCNN": "pixelcnn",
    "PixelCNNConfig": "pixelcnn",
    "exact_log_z": "reference",
    "exact_solution": "reference",
    "load_network": "network_files",
    "mean_field_log_z": "reference",
    "save_network": "network_files",
    "FreeEnergyBound": "van",
    "free_energy_bound": "van",
    "MADE": "made",
    "MADEConfig": "made",
    "neural_importance_sampling": "importance",
    "neural_mcmc": "mcmc",
    "NeuralMCMC": "mcmc",
    "NeuralMCMCResult": "mcmc",
    "NISResult": "importance",
    "train_van": "van",
    "VANResult": "van",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
