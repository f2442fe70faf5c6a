"""Random forest surrogate (scikit-learn), std across trees.

The spread of per-tree predictions is SMAC's classic uncertainty estimate for
tree models; it is cheap and needs no tuning.

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((30, 2)); y = X[:, 0]
    >>> RandomForestPredictor(n_estimators=10).fit(X, y).predict(X[:3])[0].shape
    (3,)
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from surrogate_nas.predictors.base import Predictor


class RandomForestPredictor(Predictor):
    """``RandomForestRegressor`` with the per-tree standard deviation as ``std``.

    Args:
        n_estimators: Number of trees.
        max_features: Features tried per split (sklearn's meaning).
        min_samples_leaf: Rows per leaf.
        n_jobs: Parallel jobs.
        random_state: Seed.
    """

    name = "rf"

    def __init__(
        self,
        n_estimators: int = 200,
        max_features: float | str = 0.5,
        min_samples_leaf: int = 1,
        n_jobs: int = 2,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        self.model_ = RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
        ).fit(X, y)

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_tree = np.stack([tree.predict(X) for tree in self.model_.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)
