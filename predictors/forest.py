"""Random forest surrogate (scikit-learn), std across trees.

The spread of per-tree predictions is SMAC's classic uncertainty estimate for
tree models; it is cheap and needs no tuning, but it is a spread, not an error. By
default the forest is fitted, as the other learned predictors are, on the copula scores
of the targets (:mod:`~surrogate_nas.predictors.warping`) and its spread is calibrated
there on two-fold held-out residuals (:mod:`~surrogate_nas.predictors.calibration`).
Calibrated on the accuracies themselves, one Gaussian had to cover their long lower tail
(cells that barely train) and its intervals were too wide for everything else.

scikit-learn grows the trees; the fitted forest is kept as plain node arrays (children,
split feature, threshold, leaf value) and walked with numpy, so a saved forest is arrays,
not a pickle, and predicts exactly as scikit-learn's trees do (features compared as float32).

Example:
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((30, 2)); y = X[:, 0]
    >>> RandomForestPredictor(n_estimators=10).fit(X, y).predict(X[:3])[0].shape
    (3,)
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import WarpedPredictor
from surrogate_nas.predictors.calibration import calibrated_std, check_calibration, crossfit_variance
from surrogate_nas.predictors.warping import TRANSFORMS, CopulaWarp


class RandomForestPredictor(WarpedPredictor):
    """``RandomForestRegressor`` with the (calibrated) per-tree standard deviation as ``std``.

    Args:
        n_estimators: Number of trees.
        max_features: Features tried per split (sklearn's meaning).
        min_samples_leaf: Rows per leaf.
        n_jobs: Parallel jobs.
        random_state: Seed.
        target_transform: ``"copula"`` (fit rank normal scores, map back) or ``"none"``.
        calibration: ``"crossfit"`` (the variance fitted on two-fold held-out residuals) or
            ``"none"`` (the spread across trees as it is; see
            :data:`~surrogate_nas.predictors.calibration.CALIBRATIONS`).
    """

    name = "rf"

    def __init__(
        self,
        n_estimators: int = 200,
        max_features: float | str = 0.5,
        min_samples_leaf: int = 1,
        n_jobs: int = 2,
        random_state: int = 0,
        target_transform: str = "copula",
        calibration: str = "crossfit",
    ) -> None:
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.min_samples_leaf = min_samples_leaf
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.target_transform = target_transform
        self.calibration = calibration

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if self.target_transform not in TRANSFORMS:
            raise InputDataError(
                f"target_transform must be one of {', '.join(TRANSFORMS)}, got {self.target_transform!r}")
        check_calibration(self.calibration)
        self.warp_ = CopulaWarp.fit(y) if self.target_transform == "copula" else None
        if self.warp_ is not None:
            y = self.warp_.scores(y)
        seed = int(self.random_state)
        self.trees_ = self._grow(X, y, seed)
        self.variance_scale_, self.variance_floor_ = 1.0, 0.0
        if self.calibration == "crossfit":
            def fit_predict(train: np.ndarray, test: np.ndarray, half_seed: int) -> tuple[np.ndarray, np.ndarray]:
                per_tree = _walk(self._grow(X[train], y[train], half_seed), X[test])
                return per_tree.mean(axis=0), per_tree.std(axis=0)

            self.variance_scale_, self.variance_floor_ = crossfit_variance(fit_predict, y, seed)

    def _grow(self, X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        forest = RandomForestRegressor(
            n_estimators=self.n_estimators,
            max_features=self.max_features,
            min_samples_leaf=self.min_samples_leaf,
            n_jobs=self.n_jobs,
            random_state=seed,
        ).fit(X, y)
        return _flatten([est.tree_ for est in forest.estimators_])

    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        per_tree = _walk(self.trees_, X)
        return per_tree.mean(axis=0), calibrated_std(per_tree.std(axis=0), self.variance_scale_, self.variance_floor_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        arrays = {**self.trees_, "variance": np.array([self.variance_scale_, self.variance_floor_])}
        if self.warp_ is not None:
            arrays.update(self.warp_.arrays())
        return arrays, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.trees_ = {key: np.asarray(arrays[key]) for key in _TREE_ARRAYS}
        self.warp_ = CopulaWarp.from_arrays(arrays)
        # A file saved before calibration existed predicts as it did: the spread across trees as it is.
        self.variance_scale_, self.variance_floor_ = (float(v) for v in arrays.get("variance", (1.0, 0.0)))


_TREE_ARRAYS = ("roots", "left", "right", "feature", "threshold", "value")


def _flatten(trees) -> dict[str, np.ndarray]:
    """All trees' nodes in one set of arrays; child indices are global, -1 marks a leaf."""
    sizes = [t.node_count for t in trees]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    def shifted(children, offset):
        return np.where(children >= 0, children + offset, -1)

    return {
        "roots": offsets,
        "left": np.concatenate([shifted(t.children_left, o) for t, o in zip(trees, offsets)]).astype(np.int64),
        "right": np.concatenate([shifted(t.children_right, o) for t, o in zip(trees, offsets)]).astype(np.int64),
        "feature": np.concatenate([np.maximum(t.feature, 0) for t in trees]).astype(np.int64),
        "threshold": np.concatenate([t.threshold for t in trees]).astype(np.float64),
        "value": np.concatenate([t.value[:, 0, 0] for t in trees]).astype(np.float64),
    }


def _walk(trees: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Leaf values, ``n_trees x n``: each row of ``X`` sent down every tree."""
    Xf = X.astype(np.float32).astype(np.float64)  # scikit-learn compares float32 features
    n = len(X)
    node = np.repeat(trees["roots"], n)
    row = np.tile(np.arange(n), len(trees["roots"]))
    active = np.arange(node.size)
    left, right, feature, threshold = trees["left"], trees["right"], trees["feature"], trees["threshold"]
    while active.size:
        here = node[active]
        inner = left[here] >= 0
        active, here = active[inner], here[inner]
        go_left = Xf[row[active], feature[here]] <= threshold[here]
        node[active] = np.where(go_left, left[here], right[here])
    return trees["value"][node].reshape(len(trees["roots"]), n)
