"""An ensemble of the GP and the XGBoost ensemble: smooth where the GP is good, sharp where trees are.

The GP (categorical kernel on the one-hot operations plus ARD Matern on the continuous
features) and the boosted trees (on the continuous features only) err differently: the GP
interpolates smoothly between similar cells, the trees capture thresholds (a dead path, a
missing convolution). Both are fitted on the copula scores of the targets, so their
predictions share units; the ensemble's predictive distribution is their mixture,

    mean = w m_gp + (1 - w) m_xgb
    var  = w s_gp^2 + (1 - w) s_xgb^2 + w (1 - w) (m_gp - m_xgb)^2,

mapped back to the target's units. Averaging two models that err differently ranks better
than either alone: the section "Choosing the predictor" of ``docs/benchmarks.md`` measures
it against the GP (``gp-cat``) and XGBoost on cross-validation splits of NB-201 CIFAR-10, and
"Performance predictors on NAS-Bench-201" on the reported splits. The members' own
spreads are raw; the mixture's variance is what gets calibrated, ``scale * var + floor``
on two-fold held-out residuals of the whole mixture
(:mod:`~surrogate_nas.predictors.calibration`).

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.column_stack([np.eye(2)[rng.integers(2, size=30)], rng.random((30, 2))])
    >>> y = X[:, 0] + X[:, 2]
    >>> GPXGBEnsemble(onehot_columns=2, xgb_estimators=30).fit(X, y).predict(X[:4])[0].shape
    (4,)
"""

from __future__ import annotations

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import WarpedPredictor
from surrogate_nas.predictors.calibration import calibrated_std, check_calibration, crossfit_variance
from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.warping import CopulaWarp
from surrogate_nas.predictors.xgb import XGBEnsemble


class GPXGBEnsemble(WarpedPredictor):
    """Mixture of :class:`GPPredictor` and :class:`XGBEnsemble` on copula scores.

    Args:
        onehot_columns: Leading one-hot columns: the GP's categorical kernel reads them, the
            trees skip them (the continuous features summarise them better for splits).
        gp_weight: Weight ``w`` of the GP in the mixture (the trees get ``1 - w``).
        maxiter: L-BFGS iterations of the GP's marginal-likelihood fit.
        xgb_estimators: Boosting rounds of each tree member.
        threads: Torch and XGBoost threads.
        random_state: Seed of both members.
        calibration: ``"crossfit"`` (the mixture's variance fitted on two-fold held-out
            residuals) or ``"none"`` (the mixture of the members' raw spreads; see
            :data:`~surrogate_nas.predictors.calibration.CALIBRATIONS`).
    """

    name = "gp+xgb"

    def __init__(
        self,
        onehot_columns: int = 0,
        gp_weight: float = 0.5,
        maxiter: int = 60,
        xgb_estimators: int = 300,
        threads: int = 1,
        random_state: int = 0,
        calibration: str = "crossfit",
    ) -> None:
        self.onehot_columns = onehot_columns
        self.gp_weight = gp_weight
        self.maxiter = maxiter
        self.xgb_estimators = xgb_estimators
        self.threads = threads
        self.random_state = random_state
        self.calibration = calibration

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if not 0.0 <= float(self.gp_weight) <= 1.0:
            raise InputDataError(f"gp_weight must be in [0, 1], got {self.gp_weight}")
        k = int(self.onehot_columns)
        if not 0 <= k < X.shape[1]:
            raise InputDataError(f"onehot_columns must be in 0..{X.shape[1] - 1} (the trees need a column), got {k}")
        check_calibration(self.calibration)
        self.warp_ = CopulaWarp.fit(y)
        z = self.warp_.scores(y)
        seed = int(self.random_state)
        self.gp_, self.xgb_ = self._members(seed)
        self.gp_.fit(X, z)
        self.xgb_.fit(X[:, k:], z)
        self.variance_scale_, self.variance_floor_ = 1.0, 0.0
        if self.calibration == "crossfit":
            def fit_predict(train: np.ndarray, test: np.ndarray, half_seed: int) -> tuple[np.ndarray, np.ndarray]:
                gp, trees = self._members(half_seed)
                gp.fit(X[train], z[train])
                trees.fit(X[train][:, k:], z[train])
                return self._mixture(gp, trees, X[test])

            self.variance_scale_, self.variance_floor_ = crossfit_variance(fit_predict, z, seed)

    def _members(self, seed: int) -> tuple[GPPredictor, XGBEnsemble]:
        """Unfitted members with raw spreads (the mixture is calibrated as a whole)."""
        gp = GPPredictor(onehot_columns=int(self.onehot_columns), maxiter=self.maxiter, threads=self.threads,
                         random_state=seed, target_transform="none", calibration="none")
        trees = XGBEnsemble(n_estimators=self.xgb_estimators, n_jobs=self.threads, random_state=seed,
                            target_transform="none", calibration="none")
        return gp, trees

    def _mixture(self, gp: GPPredictor, trees: XGBEnsemble, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mixture's mean and (uncalibrated) std in copula scores."""
        w = float(self.gp_weight)
        m_gp, s_gp = gp.predict(X)
        m_xgb, s_xgb = trees.predict(X[:, int(self.onehot_columns):])
        var = w * s_gp**2 + (1 - w) * s_xgb**2 + w * (1 - w) * (m_gp - m_xgb) ** 2
        return w * m_gp + (1 - w) * m_xgb, np.sqrt(var)

    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, spread = self._mixture(self.gp_, self.xgb_, X)
        return mean, calibrated_std(spread, self.variance_scale_, self.variance_floor_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """Both members' states under ``gp/`` and ``xgb/``, the shared warp and the mixture's calibration."""
        gp_arrays, _ = self.gp_.export_state()
        xgb_arrays, xgb_blobs = self.xgb_.export_state()
        arrays = {**{f"gp/{k}": v for k, v in gp_arrays.items()}, **{f"xgb/{k}": v for k, v in xgb_arrays.items()},
                  **self.warp_.arrays(), "variance": np.array([self.variance_scale_, self.variance_floor_])}
        return arrays, {f"xgb/{k}": v for k, v in xgb_blobs.items()}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        def part(items: dict, prefix: str) -> dict:
            return {k[len(prefix):]: v for k, v in items.items() if k.startswith(prefix)}

        k = int(self.onehot_columns)
        self.warp_ = CopulaWarp.from_arrays(arrays)
        # A file saved before the mixture was calibrated predicts as it did: the mixture as it is.
        self.variance_scale_, self.variance_floor_ = (float(v) for v in arrays.get("variance", (1.0, 0.0)))
        self.gp_, self.xgb_ = self._members(int(self.random_state))
        self.gp_.import_state(part(arrays, "gp/"), {})
        self.xgb_.import_state(part(arrays, "xgb/"), part(blobs, "xgb/"))
        width = self.gp_.train_X_.shape[1]
        self.gp_.n_features_in_, self.xgb_.n_features_in_ = width, width - k
