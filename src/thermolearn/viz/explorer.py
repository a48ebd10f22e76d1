"""The interactive explorer: one self-contained, offline HTML page whose numbers the browser computes.

The library exports parameters and exact answers as JSON embedded in the page; the page's own
JavaScript (``explorer_assets/``, written here, no third-party code, no network request) computes
everything it shows from them, live:

* two spins, E = -w s1 s2 - h (s1 + s2): the four Boltzmann probabilities against T, w and h;
* the periodic L x L Ising lattice sampled by Metropolis or Wolff at temperature T, its running
  energy per spin (block-averaged, with an error bar) against Kaufman's exact finite-L value and
  |m| against Yang's infinite-lattice magnetisation;
* the Weiss self-consistency graph m = tanh(beta (z J m + h)), its roots and T_c = z J;
* an RBM trained here on the binarised 8 x 8 digits (CD-1, a few seconds), sampled by block Gibbs
  and repairing held-out digits whose lower half is erased (clamped sampling);
* a Hopfield network (projection rule) storing a few digits and recalling a corrupted one by
  zero-temperature asynchronous updates.

Floats travel as JSON with Python's shortest round-trip repr, so the page holds the library's
parameters bit for bit. :func:`write_explorer` is the entry point; ``thermolearn explore`` calls it.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EXPLORER_FILENAME",
    "LATTICE_SIZES",
    "MAX_RBM_HIDDEN",
    "explorer_data",
    "render_explorer",
    "write_explorer",
]

EXPLORER_FILENAME = "thermolearn-explorer.html"
"""Name of the page that :func:`write_explorer` writes inside its output folder."""
LATTICE_SIZES = (8, 16, 32, 64)
"""Sides L of the periodic lattices the page offers (Kaufman's exact energy is exported for each)."""
LATTICE_TEMPERATURES = np.round(np.arange(100, 401) / 100.0, 2)
"""The lattice's temperature slider: 1.00 to 4.00 in steps of 0.01 (units of J), the exact grid."""
COORDINATIONS = (2, 3, 4, 6, 8)
"""Coordination numbers z offered by the mean-field panel (chain, honeycomb, square, cubic, bcc)."""
HOPFIELD_DIGITS = (0, 1, 2, 3, 4)
"""Digits stored in the Hopfield panel (the first example of each in scikit-learn's digits)."""
REPAIR_DIGITS = 10
"""Held-out digits the RBM panel offers for repair."""
MAX_RBM_HIDDEN = 1024
"""Most hidden units the page's RBM may have. The page inlines the 64 x n_hidden weights as JSON
(about 20 bytes a float: 1.3 MB at 1,024, against 68 MB and about 1 GB of memory to write at
50,000), and the browser's block Gibbs sweeps nine chains through them every few frames; 16 times
the 64 visible units is far more than the digits' panel can use."""
_ASSETS = "explorer_assets"


def _floats(values: Any) -> list:
    """Nested lists of Python floats (their repr round-trips: the page sees the same doubles)."""
    return np.asarray(values, dtype=np.float64).tolist()


def _lattice_data() -> dict[str, Any]:
    from thermolearn.exact.kaufman import kaufman
    from thermolearn.exact.onsager import critical_temperature, spontaneous_magnetization

    temps = LATTICE_TEMPERATURES
    exact = {}
    for L in LATTICE_SIZES:
        rows = [kaufman(L, float(T)) for T in temps]
        n = L * L
        exact[str(L)] = {
            "energy_per_spin": _floats([r.energy / n for r in rows]),
            "specific_heat_per_spin": _floats([r.specific_heat / n for r in rows]),
        }
    return {
        "temperatures": _floats(temps),
        "sizes": list(LATTICE_SIZES),
        "kaufman": exact,
        "onsager_magnetization": _floats(spontaneous_magnetization(temps)),
        "critical_temperature": float(critical_temperature()),
    }


def _mean_field_data() -> dict[str, Any]:
    from thermolearn.variational.lattice_mean_field import mean_field_critical_temperature

    return {
        "coordinations": list(COORDINATIONS),
        "critical_temperature": {str(z): float(mean_field_critical_temperature(z)) for z in COORDINATIONS},
    }


def _rbm_data(hidden: int, epochs: int, seed: int) -> dict[str, Any]:
    from thermolearn.datasets.binary_images import load_binary_images
    from thermolearn.learning.contrastive_divergence import train_rbm
    from thermolearn.models.rbm import RBM

    train = load_binary_images("digits", split="train").data
    test = load_binary_images("digits", split="test").data
    model = RBM.random(train.shape[1], hidden, data=train, seed=seed)
    # the JAX engine compiles in about a second; the sparse kernels would compile for a minute cold
    result = train_rbm(
        model,
        train,
        epochs=epochs,
        method="cd",
        k=1,
        batch_size=20,
        learning_rate=0.1,
        momentum=0.5,
        seed=seed,
        progress=False,
        exact_log_likelihood=False,
        engine="jax",
    )
    rbm = result.model
    return {
        "n_visible": int(rbm.n_visible),
        "n_hidden": int(rbm.n_hidden),
        "image_shape": [8, 8],
        "weights": _floats(rbm.weights),
        "visible_bias": _floats(rbm.visible_bias),
        "hidden_bias": _floats(rbm.hidden_bias),
        "epochs": int(epochs),
        "reconstruction_error": float(result.history.reconstruction_error[-1]),
        "repair_digits": np.asarray(test[:REPAIR_DIGITS], dtype=int).tolist(),
    }


def _hopfield_data() -> dict[str, Any]:
    from thermolearn.datasets.digits import load_digits
    from thermolearn.learning.hebbian import binarize_images, store

    images, labels = load_digits(return_labels=True)
    first = np.array([np.flatnonzero(labels == d)[0] for d in HOPFIELD_DIGITS])
    xi = binarize_images(images[first], 8.0)
    net = store(xi, "projection", image_shape=(8, 8))
    return {
        "n_neurons": int(net.n_neurons),
        "image_shape": [8, 8],
        "rule": net.rule,
        "labels": list(HOPFIELD_DIGITS),
        "couplings": _floats(net.couplings),
        "biases": _floats(net.biases),
        "patterns": np.asarray(xi, dtype=int).tolist(),
    }


def explorer_data(*, seed: int = 0, rbm_hidden: int = 16, rbm_epochs: int = 10) -> dict[str, Any]:
    """Everything the page loads: exact lattice answers, mean-field T_c, a trained RBM, a Hopfield net.

    The RBM (``rbm_hidden`` hidden units, 1 to :data:`MAX_RBM_HIDDEN`, ``rbm_epochs`` epochs of
    CD-1 on the 1,497 training digits, seeded by ``seed``) trains in a few seconds. Returns a
    JSON-ready dict.
    """
    from thermolearn import __version__
    from thermolearn.randomness.seeds import check_int_seed
    from thermolearn.validation import check_positive_int

    seed = check_int_seed(seed)
    rbm_hidden = check_positive_int("rbm_hidden", rbm_hidden)
    if rbm_hidden > MAX_RBM_HIDDEN:
        # refused before training: the page would grow with the weights (tens of MB, GBs to write)
        raise ValueError(
            f"rbm_hidden (--hidden) must be between 1 and {MAX_RBM_HIDDEN} for the explorer's RBM (the page "
            f"inlines its 64 x n_hidden weights and samples them in the browser), got {rbm_hidden}"
        )
    rbm_epochs = check_positive_int("rbm_epochs", rbm_epochs)

    return {
        "version": __version__,
        "seed": seed,
        "two_spin": {"temperature": 1.0, "coupling": 1.0, "field": 0.0},
        "lattice": _lattice_data(),
        "mean_field": _mean_field_data(),
        "rbm": _rbm_data(rbm_hidden, rbm_epochs, seed),
        "hopfield": _hopfield_data(),
    }


def _asset(name: str) -> str:
    return resources.files("thermolearn.viz").joinpath(_ASSETS, name).read_text(encoding="utf-8")


def render_explorer(data: dict[str, Any]) -> str:
    """The page's HTML: the template with its stylesheet, script and ``data`` (JSON) inlined."""
    payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    # inside <script type="application/json"> only "</" could end the element early
    payload = payload.replace("</", "<\\/")
    html = _asset("explorer.html")
    for key, value in (
        ("/*@STYLE@*/", _asset("explorer.css")),
        ("/*@SCRIPT@*/", _asset("explorer.js")),
        ("@DATA@", payload),
        ("@VERSION@", str(data.get("version", ""))),
    ):
        if key not in html:  # pragma: no cover - the template ships with the package
            raise RuntimeError(f"explorer template lacks its {key} placeholder")
        html = html.replace(key, value, 1)
    return html


def write_explorer(output: str | os.PathLike, *, seed: int = 0, rbm_hidden: int = 16, rbm_epochs: int = 10) -> Path:
    """Write the explorer page into the folder ``output`` (created if needed); return its path.

    The page (:data:`EXPLORER_FILENAME`, about 0.2 MB) works offline from ``file://``: its
    scripts, styles and data are all inline and it makes no network request.
    """
    from thermolearn.storage import write_text_atomic

    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output must be a folder (the page is written inside it), got the file {str(folder)!r}")
    html = render_explorer(explorer_data(seed=seed, rbm_hidden=rbm_hidden, rbm_epochs=rbm_epochs))
    folder.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(folder / EXPLORER_FILENAME, html)
