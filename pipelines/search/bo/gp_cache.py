"""The GP a budgeted BO step uses: hyperparameters kept from step to step, refitted as planned.

One :class:`~surrogate_nas.predictors.gp.GPPredictor` per objective lives as long as the
strategy. A :class:`~.budget.StepPlan` says what this step does with them:

* refit on every row with the full iteration count, from scratch: exactly the classic
  step (the model is the fitted one);
* refit, warm-started, on a subset of rows (:func:`~surrogate_nas.predictors.gp_online.subset_rows`),
  then condition on the model rows (:func:`~surrogate_nas.predictors.gp_online.condition_gp`);
* no refit: condition the last hyperparameters on the current model rows.

The model rows are every row while the plan affords it, else the best half and a random
half of the history (a subset-of-data GP), so the posterior's cost stops growing with ``n``.
"""

from __future__ import annotations

import numpy as np
from botorch.models.model import Model
from botorch.models.model_list_gp_regression import ModelListGP

from surrogate_nas.predictors.gp import GPPredictor
from surrogate_nas.predictors.gp_online import condition_gp, subset_rows
from surrogate_nas.pipelines.search.bo.budget import FULL_ITERATIONS, RefitState, StepPlan


class GPCache:
    """Per-objective GPs whose hyperparameters survive between steps.

    Args:
        onehot_columns: leading one-hot columns of the features (see ``GPPredictor``).
        options: further ``GPPredictor`` keyword arguments (``maxiter`` is the plan's).

    Attributes:
        state: rows at the last refit and steps since (see :class:`.budget.RefitState`).
        model_rows: indices (into the history) of the rows the last model conditioned on.
    """

    def __init__(self, onehot_columns: int = 0, options: dict | None = None) -> None:
        self.onehot_columns = int(onehot_columns)
        self.options = {k: v for k, v in (options or {}).items() if k != "maxiter"}
        self.gps: list[GPPredictor] = []
        self.state = RefitState()
        self.model_rows = np.zeros(0, dtype=np.int64)

    def model(self, X: np.ndarray, Y: np.ndarray, plan: StepPlan, rng: np.random.Generator) -> Model:
        """A BoTorch model of ``Y`` (``n x m``) on ``X`` (``n x d``) as ``plan`` says.

        Raises:
            FitError: a planned refit failed (the previous hyperparameters are kept).
        """
        n, m = Y.shape
        if len(self.gps) != m:
            # The search reads each GP's posterior (``model_``), never ``predict``: no calibration to fit.
            self.gps = [GPPredictor(**{"onehot_columns": self.onehot_columns, "threads": 1, "target_transform": "none",
                                       "calibration": "none", **self.options})
                        for _ in range(m)]
            self.state = RefitState()
        classic = plan.refit and plan.fit_points >= n and plan.iterations >= FULL_ITERATIONS
        if plan.refit:
            rows = subset_rows(Y, plan.fit_points, rng)
            for j, gp in enumerate(self.gps):
                gp.set_params(maxiter=plan.iterations, warm_start=not classic).fit(X[rows], Y[rows, j])
        self.state = self.state.after(plan, n)
        self.model_rows = subset_rows(Y, plan.model_points, rng)
        if classic and len(self.model_rows) == n:
            models = [gp.model_ for gp in self.gps]
        else:
            models = [condition_gp(gp.model_, X[self.model_rows], Y[self.model_rows, j])
                      for j, gp in enumerate(self.gps)]
        return models[0] if m == 1 else ModelListGP(*models)
