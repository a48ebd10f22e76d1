"""A scikit-learn estimator around the Bernoulli-Bernoulli RBM and its moment-matching training.

:class:`BoltzmannRBM` fits with CD-k, PCD or parallel tempering (``learning.contrastive_divergence``)
and slots into pipelines: ``transform`` gives the hidden features p(h = 1 | v), ``gibbs``
takes one block Gibbs sweep, ``score_samples`` gives log p(v) per sample in nats.

``score_samples`` is the *exact* log-likelihood -F(v) - log Z when the smaller layer has at
most ``exact_max_units`` units (log Z summed exactly), otherwise the *pseudo*-log-likelihood
sum_i log p(v_i | v_-i), summed over every unit (deterministic; scikit-learn's BernoulliRBM
instead corrupts one random unit per sample). ``score_method_`` says which one a fitted
estimator uses; ``score_method`` forces one.

Data are binary {0, 1} (``binarize=None``, the default; anything else is refused) or are
binarised as ``X > binarize`` (grey levels: the digits with ``binarize=7``, i.e. >= 8).

``transform`` and ``score_samples`` are evaluated in NumPy float64 from the fitted parameters:
scikit-learn requires a row's result not to depend on what other rows share its call (to
1e-7), which float32 kernels chosen by batch shape do not promise; training runs in JAX.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from thermolearn.exact.rbm_models import rbm_model_log_partition
from thermolearn.learning.contrastive_divergence import ENGINES, NEGATIVE_PHASE_METHODS, TrainingState, train_rbm
from thermolearn.models.rbm import RBM

if TYPE_CHECKING:
    import jax

    from thermolearn.randomness.seeds import SeedLike

SCORE_METHODS = ("auto", "exact", "pseudo")


class BoltzmannRBM(TransformerMixin, BaseEstimator):
    """Bernoulli-Bernoulli RBM, E(v, h) = -v^T W h - b^T v - c^T h, as a scikit-learn transformer.

    Parameters mirror ``train_rbm``: ``n_components`` hidden units; ``method`` in {cd, pcd, pt}
    with ``k`` Gibbs sweeps per update; ``n_iter`` epochs of minibatches of ``batch_size``
    (clipped to the number of samples); ``learning_rate``, ``momentum``, ``weight_decay``;
    ``n_chains`` persistent chains (default ``batch_size``); ``binarize`` threshold (None:
    data must be 0/1); ``score_method`` (auto, exact, pseudo) and ``exact_max_units``;
    ``engine`` (auto, jax, sparse: see ``train_rbm``).

    Fitted attributes: ``components_`` (n_components, n_features) = W^T, ``intercept_hidden_``
    (c), ``intercept_visible_`` (b), ``model_`` (the :class:`RBM`), ``history_``,
    ``score_method_``, ``n_features_in_``.
    """

    def __init__(
        self,
        n_components: int = 64,
        *,
        method: str = "pcd",
        k: int = 1,
        learning_rate: float = 0.05,
        batch_size: int = 10,
        n_iter: int = 10,
        momentum: float = 0.5,
        weight_decay: float = 0.0,
        n_chains: int | None = None,
        binarize: float | None = None,
        score_method: str = "auto",
        exact_max_units: int = 20,
        init_scale: float = 0.01,
        verbose: bool = False,
        random_state: int | np.random.RandomState | None = None,
        engine: str = "auto",
    ):
        self.n_components = n_components
        self.method = method
        self.k = k
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.n_chains = n_chains
        self.binarize = binarize
        self.score_method = score_method
        self.exact_max_units = exact_max_units
        self.init_scale = init_scale
        self.verbose = verbose
        self.random_state = random_state
        self.engine = engine

    # ------------------------------------------------------------------ data
    def _binary(self, X, *, reset: bool) -> np.ndarray:
        X = validate_data(self, X, reset=reset, dtype=(np.float64, np.float32), ensure_min_samples=1)
        if self.binarize is not None:
            return (X > float(self.binarize)).astype(np.float64)
        if not np.all((X == 0) | (X == 1)):
            raise ValueError(
                "BoltzmannRBM needs binary data (0 and 1); set binarize=THRESHOLD to binarise "
                "X > THRESHOLD (grey levels) instead"
            )
        return X.astype(np.float64, copy=False)

    def _check_params(self) -> None:
        if self.method not in NEGATIVE_PHASE_METHODS:
            raise ValueError(f"method must be one of {', '.join(NEGATIVE_PHASE_METHODS)}, got {self.method!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.score_method not in SCORE_METHODS:
            raise ValueError(f"score_method must be one of {', '.join(SCORE_METHODS)}, got {self.score_method!r}")
        for name in ("n_components", "k", "batch_size", "n_iter", "exact_max_units"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    # ------------------------------------------------------------------ fitting
    def _new_model(self, X: np.ndarray, rng: np.random.RandomState) -> None:
        seed = int(rng.randint(0, 2**31 - 1))
        self.model_ = RBM.random(
            X.shape[1], self.n_components, scale=self.init_scale, data=X, seed=np.random.default_rng(seed)
        )
        self._state: TrainingState | None = None
        self._rng = rng
        self.history_: list[float] = []
        self._log_z: float | None = None

    def _train(self, X: np.ndarray, epochs: int) -> None:
        batch = min(self.batch_size, X.shape[0])
        result = train_rbm(
            self.model_,
            X,
            epochs=epochs,
            method=self.method,
            k=self.k,
            batch_size=batch,
            learning_rate=self.learning_rate,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            n_chains=self.n_chains if self.n_chains is not None else self.batch_size,
            seed=int(self._rng.randint(0, 2**31 - 1)),
            progress=bool(self.verbose),
            exact_log_likelihood=False,
            state=self._state,
            engine=self.engine,
        )
        assert isinstance(result.model, RBM)  # training keeps the model's class
        self.model_ = result.model
        self._state = result.state
        self.history_.extend(result.history.reconstruction_error.tolist())
        self._log_z = None
        self._publish()

    def _publish(self) -> None:
        self.components_ = np.array(self.model_.weights.T)
        self.intercept_hidden_ = np.array(self.model_.hidden_bias)
        self.intercept_visible_ = np.array(self.model_.visible_bias)
        small = min(self.model_.n_visible, self.model_.n_hidden) <= self.exact_max_units
        self.score_method_ = ("exact" if small else "pseudo") if self.score_method == "auto" else self.score_method

    def fit(self, X: ArrayLike, y: object = None) -> BoltzmannRBM:
        """Train from scratch for ``n_iter`` epochs on the rows of X (binary, or binarised)."""
        self._check_params()
        X = self._binary(X, reset=True)
        self._new_model(X, check_random_state(self.random_state))
        self._train(X, self.n_iter)
        return self

    def partial_fit(self, X: ArrayLike, y: object = None) -> BoltzmannRBM:
        """One epoch over X continuing from the current parameters, momentum and chains."""
        self._check_params()
        first = not hasattr(self, "model_")
        X = self._binary(X, reset=first)
        if first:
            self._new_model(X, check_random_state(self.random_state))
        self._train(X, 1)
        return self

    # ------------------------------------------------------------------ using the model
    def transform(self, X: ArrayLike) -> np.ndarray:
        """Hidden features p(h_j = 1 | v) = sigmoid(c_j + (v^T W)_j), shape (n_samples, n_components)."""
        check_is_fitted(self)
        X = self._binary(X, reset=False)
        return expit(X @ self.components_.T + self.intercept_hidden_)

    def _free_energy(self, X: np.ndarray) -> np.ndarray:
        x = X @ self.components_.T + self.intercept_hidden_
        return -(X @ self.intercept_visible_) - np.logaddexp(0.0, x).sum(1)

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """log p(v) per sample in nats: exact (-F(v) - log Z) or the pseudo-log-likelihood
        sum_i log p(v_i | v_-i), as ``score_method_`` says."""
        check_is_fitted(self)
        X = self._binary(X, reset=False)
        if self.score_method_ == "exact":
            if self._log_z is None:
                self._log_z = rbm_model_log_partition(self.model_)
            return -self._free_energy(X) - self._log_z
        # F(v with unit i flipped) - F(v), all i at once: the hidden input shifts by +-W_i
        W = self.components_.T  # (V, H)
        x = X @ self.components_.T + self.intercept_hidden_  # (n, H)
        s = 1.0 - 2.0 * X  # (n, V): +1 where a unit would flip on, -1 where off
        base = np.logaddexp(0.0, x).sum(1)
        out = np.empty(X.shape[0])
        rows = max(1, (1 << 22) // W.size)  # bound the (rows, V, H) temporary
        for r in range(0, X.shape[0], rows):
            sl = slice(r, r + rows)
            flipped = np.logaddexp(0.0, x[sl, None, :] + s[sl, :, None] * W[None]).sum(2)
            delta = -s[sl] * self.intercept_visible_ - (flipped - base[sl, None])
            # log p(v_i | v_-i) = -log(1 + exp(-delta_i))
            out[sl] = -np.logaddexp(0.0, -delta).sum(1)
        return out

    def gibbs(self, v: ArrayLike) -> np.ndarray:
        """One block Gibbs sweep from each row: h ~ p(h | v), then v' ~ p(v' | h) (0/1 floats)."""
        check_is_fitted(self)
        X = self._binary(v, reset=False)
        if not hasattr(self, "_rng"):
            self._rng = check_random_state(self.random_state)
        rng = np.random.default_rng(int(self._rng.randint(0, 2**31 - 1)))
        h = (rng.random((X.shape[0], self.n_components)) < self.transform(X)).astype(np.float64)
        pv = expit(h @ self.components_ + self.intercept_visible_)
        return (rng.random(pv.shape) < pv).astype(np.float64)

    def sample(self, n_samples: int, *, n_steps: int = 1000, seed: SeedLike | jax.Array = 0) -> np.ndarray:
        """``n_samples`` model samples after ``n_steps`` sweeps of independent chains (JAX)."""
        check_is_fitted(self)
        return self.model_.sample(n_samples, n_steps=n_steps, seed=seed)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
