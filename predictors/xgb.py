"""XGBoost ensemble: a gradient-boosted tree surrogate with an uncertainty estimate.

One boosted model has no predictive variance, so we fit ``n_members`` models,
each on a bootstrap resample of the training set with its own seed and
row/column subsampling, and report the mean and standard deviation across
members. The spread is a rough epistemic signal; it is fine for ranking and
for UCB-style exploration, but under-covers (see the calibration columns in
docs/benchmarks.md), so use :class:`~surrogate_nas.predictors.gp.GPPredictor`
when calibrated intervals matter.

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
from surrogate_nas.predictors.base import Predictor


class XGBEnsemble(Predictor):
    """Bootstrap ensemble of ``xgboost.XGBRegressor`` models.

    Args:
        n_members: Ensemble size; the std is taken across members.
        n_estimators: Boosting rounds per member.
        max_depth: Tree depth.
        learning_rate: Shrinkage.
        subsample: Row subsampling per tree.
        colsample_bytree: Column subsampling per tree.
        min_child_weight: Minimum hessian (here: rows) per leaf.
        bootstrap: Resample rows with replacement for each member.
        n_jobs: Threads per member (small: the machines are shared).
        random_state: Seed of member ``i`` is ``random_state + i``.
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

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if int(self.n_members) < 1:
            raise InputDataError(f"n_members must be >= 1, got {self.n_members}")
        rng = np.random.default_rng(self.random_state)
        self.models_ = []
        for i in range(int(self.n_members)):
            rows = rng.integers(0, len(y), len(y)) if self.bootstrap else np.arange(len(y))
            model = xgb.XGBRegressor(
                n_estimators=self.n_estimators,
                max_depth=self.max_depth,
                learning_rate=self.learning_rate,
                subsample=self.subsample,
                colsample_bytree=self.colsample_bytree,
                min_child_weight=self.min_child_weight,
                tree_method="hist",
                n_jobs=self.n_jobs,
                random_state=int(self.random_state) + i,
            )
            self.models_.append(model.fit(X[rows], y[rows]))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        preds = np.stack([m.predict(X) for m in self.models_]).astype(np.float64)
        return preds.mean(axis=0), preds.std(axis=0)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """Each member in XGBoost's own UBJSON model format."""
        return {}, {f"member_{i}.ubj": bytes(m.get_booster().save_raw("ubj")) for i, m in enumerate(self.models_)}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.models_ = []
        for i in range(len(blobs)):
            model = xgb.XGBRegressor(n_jobs=self.n_jobs)
            model.load_model(bytearray(blobs[f"member_{i}.ubj"]))
            self.models_.append(model)
