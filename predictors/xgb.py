"""XGBoost ensemble: a gradient-boosted tree surrogate with a calibrated uncertainty estimate.

One boosted model has no predictive variance, so we fit ``n_members`` models, each on a
bootstrap resample of the training set with its own seed and row/column subsampling; the mean
across members is the prediction. The raw spread across members under-covers badly (members
fitted on resamples of the same rows agree more than their errors warrant), so by default it
is *calibrated*:

* the members are fitted on the copula scores of the targets (rank normal scores, see
  :mod:`~surrogate_nas.predictors.warping`), where residuals are close to Gaussian, and
  predictions are mapped back to the target's units (ranking unchanged);
* a two-fold cross-fit (an ensemble on each half predicts the other half) gives held-out
  residuals ``r`` and spreads ``s``; the predictive variance is ``a * spread^2 + b`` with
  ``a, b`` fitted by maximum Gaussian likelihood on those pairs
  (:mod:`~surrogate_nas.predictors.calibration`, shared with the GP, the forest and the graph
  network).

The calibration table of ``docs/benchmarks.md`` ("Performance predictors on NAS-Bench-201")
measures the coverage this gives; the cross-fit costs about one more ensemble fit.

Defaults: shallow trees (depth 4), a small learning rate (0.05) and 300 rounds
with 0.8 row/column subsampling, instead of the library's depth 6 / rate 0.3 /
100 rounds, because NAS training sets are tiny (50-500 rows).

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((40, 3)); y = X.sum(1)
    >>> mean, std = XGBEnsemble(n_members=2, n_estimators=20).fit(X, y).predict(X[:5])
    >>> mean.shape, std.shape
    ((5,), (5,))
"""

from __future__ import annotations

import numpy as np
import xgboost as xgb

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import WarpedPredictor
from surrogate_nas.predictors.calibration import calibrated_std, check_calibration, crossfit_variance
from surrogate_nas.predictors.warping import TRANSFORMS, CopulaWarp


class XGBEnsemble(WarpedPredictor):
    """Bootstrap ensemble of ``xgboost.XGBRegressor`` models with a calibrated std.

    Args:
        n_members: Ensemble size; the spread is taken across members.
        n_estimators: Boosting rounds per member.
        max_depth: Tree depth.
        learning_rate: Shrinkage.
        subsample: Row subsampling per tree.
        colsample_bytree: Column subsampling per tree.
        min_child_weight: Minimum hessian (here: rows) per leaf.
        bootstrap: Resample rows with replacement for each member.
        n_jobs: Threads per member (small: the machines are shared).
        random_state: Seed of member ``i`` is ``random_state + i``.
        target_transform: ``"copula"`` (fit rank normal scores, map back) or ``"none"``.
        calibration: ``"crossfit"`` or ``"none"`` (see
            :data:`~surrogate_nas.predictors.calibration.CALIBRATIONS`).
    """

    name = "xgb"

    def __init__(
        self,
        n_members: int = 5,
        n_estimators: int = 300,
        max_depth: int = 4,
        learning_rate: float = 0.05,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        min_child_weight: float = 1.0,
        bootstrap: bool = True,
        n_jobs: int = 1,
        random_state: int = 0,
        target_transform: str = "copula",
        calibration: str = "crossfit",
    ) -> None:
        self.n_members = n_members
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.bootstrap = bootstrap
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.target_transform = target_transform
        self.calibration = calibration

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if int(self.n_members) < 1:
            raise InputDataError(f"n_members must be >= 1, got {self.n_members}")
        if self.target_transform not in TRANSFORMS:
            raise InputDataError(f"target_transform must be one of {', '.join(TRANSFORMS)}, got {self.target_transform!r}")
        check_calibration(self.calibration)
        self.warp_ = CopulaWarp.fit(y) if self.target_transform == "copula" else None
        z = y if self.warp_ is None else self.warp_.scores(y)
        seed = int(self.random_state)
        self.models_ = self._members(X, z, seed)
        self.variance_scale_, self.variance_floor_ = 1.0, 0.0
        if self.calibration == "crossfit":
            self.variance_scale_, self.variance_floor_ = self._crossfit(X, z, seed)

    def _members(self, X: np.ndarray, z: np.ndarray, seed: int) -> list:
        rng = np.random.default_rng(seed)
        models = []
        for i in range(int(self.n_members)):
            rows = rng.integers(0, len(z), len(z)) if self.bootstrap else np.arange(len(z))
            model = xgb.XGBRegressor(
                n_estimators=self.n_estimators,
                max_depth=self.max_depth,
                learning_rate=self.learning_rate,
                subsample=self.subsample,
                colsample_bytree=self.colsample_bytree,
                min_child_weight=self.min_child_weight,
                tree_method="hist",
                n_jobs=self.n_jobs,
                random_state=seed + i,
            )
            models.append(model.fit(X[rows], z[rows]))
        return models

    def _crossfit(self, X: np.ndarray, z: np.ndarray, seed: int) -> tuple[float, float]:
        """``(a, b)`` of the variance ``a * spread^2 + b``, by likelihood on two-fold held-out residuals."""
        def fit_predict(train: np.ndarray, test: np.ndarray, half_seed: int) -> tuple[np.ndarray, np.ndarray]:
            preds = _stack(self._members(X[train], z[train], half_seed), X[test])
            return preds.mean(axis=0), preds.std(axis=0)

        return crossfit_variance(fit_predict, z, seed)

    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        preds = _stack(self.models_, X)
        return preds.mean(axis=0), calibrated_std(preds.std(axis=0), self.variance_scale_, self.variance_floor_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """Each member in XGBoost's own UBJSON model format; the variance calibration and warp as arrays."""
        arrays = {"variance": np.array([self.variance_scale_, self.variance_floor_])}
        if self.warp_ is not None:
            arrays.update(self.warp_.arrays())
        return arrays, {f"member_{i}.ubj": bytes(m.get_booster().save_raw("ubj")) for i, m in enumerate(self.models_)}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.models_ = []
        for i in range(len(blobs)):
            model = xgb.XGBRegressor(n_jobs=self.n_jobs)
            model.load_model(bytearray(blobs[f"member_{i}.ubj"]))
            self.models_.append(model)
        self.variance_scale_, self.variance_floor_ = (float(v) for v in arrays["variance"])
        self.warp_ = CopulaWarp.from_arrays(arrays)


def _stack(models: list, X: np.ndarray) -> np.ndarray:
    """``n_members x n`` predictions."""
    return np.stack([m.predict(X) for m in models]).astype(np.float64)
