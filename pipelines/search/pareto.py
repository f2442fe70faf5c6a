"""Pareto fronts and hypervolumes, in the "maximise everything" space.

Minimised objectives are negated before they get here (see
:func:`.history.objective_matrix`); the hypervolume is BoTorch's exact one
(``DominatedPartitioning``) against a fixed reference point, so values from
different searches on the same table are comparable.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning
from botorch.utils.multi_objective.pareto import is_non_dominated

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.history import History, Objective, objective_matrix
from surrogate_nas.pipelines.search.plotting import finish, new_axes


def pareto_mask(Y: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of an ``n x m`` array (maximisation)."""
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return is_non_dominated(torch.as_tensor(Y), deduplicate=True).numpy()


def hypervolume(Y: np.ndarray, ref_point: Sequence[float]) -> float:
    """Hypervolume dominated by the rows of ``Y`` (``n x m``) above ``ref_point`` (``m``)."""
    Y = np.asarray(Y, dtype=np.float64)
    ref = torch.as_tensor(np.asarray(ref_point, dtype=np.float64))
    if Y.ndim != 2 or Y.shape[1] != ref.numel():
        raise InputDataError(f"hypervolume needs an n x {ref.numel()} array, got shape {Y.shape}")
    if Y.shape[0] == 0:
        return 0.0
    partitioning = DominatedPartitioning(ref_point=ref, Y=torch.as_tensor(Y))
    return float(partitioning.compute_hypervolume())


def reference_point(Y: np.ndarray) -> np.ndarray:
    """A hypervolume reference point from evaluated points (``n x m``, "maximise everything" space).

    BoTorch's ``infer_reference_point``: the evaluated nadir moved back by a tenth of the
    range, so every evaluated point counts. It comes only from what the search evaluated,
    never from architectures it has not seen.
    """
    from botorch.utils.multi_objective.hypervolume import infer_reference_point

    return infer_reference_point(torch.as_tensor(np.asarray(Y, dtype=np.float64))).numpy()


def pareto_front(history: History, objectives: Sequence[Objective]) -> pd.DataFrame:
    """The non-dominated trials as a frame: ``arch``, one column per objective (raw values)."""
    Y = objective_matrix(history, objectives)
    mask = pareto_mask(Y)
    rows = [
        {"arch": t.arch.to_string(), **{o.name: t.objectives[o.name] for o in objectives}}
        for t, keep in zip(history, mask)
        if keep
    ]
    frame = pd.DataFrame(rows, columns=["arch", *[o.name for o in objectives]])
    return frame.sort_values(objectives[0].name, ascending=not objectives[0].maximize, ignore_index=True)


def plot_pareto(fronts: dict[str, pd.DataFrame], objectives: Sequence[Objective], path=None, ax=None):
    """Plot Pareto fronts, one series per label; save to ``path`` if given.

    Two objectives: step lines on one axes (``ax`` if given). More: one panel per pair of
    objectives, each showing the fronts' points projected on that pair (a projection of a
    front is not itself a front, so points, not lines); returns the panels.
    """
    if len(objectives) == 2:
        ax = new_axes(ax, figsize=(5, 4))
        x, y = objectives[1].name, objectives[0].name
        for label, front in fronts.items():
            f = front.sort_values(x)
            ax.step(f[x], f[y], where="post", marker="o", markersize=3, label=label)
        ax.set_xlabel(str(objectives[1]))
        ax.set_ylabel(str(objectives[0]))
        return finish(ax, path)
    pairs = list(itertools.combinations(range(len(objectives)), 2))
    first = new_axes(None, figsize=(4.2 * len(pairs), 3.8))
    figure = first.figure
    figure.clear()
    panels = figure.subplots(1, len(pairs), squeeze=False)[0]
    for panel, (i, j) in zip(panels, pairs):
        for label, front in fronts.items():
            panel.scatter(front[objectives[j].name], front[objectives[i].name], s=12, label=label)
        panel.set_xlabel(str(objectives[j]))
        panel.set_ylabel(str(objectives[i]))
        finish(panel)
    if path is not None:
        figure.tight_layout()
        figure.savefig(path, dpi=120)
    return panels
