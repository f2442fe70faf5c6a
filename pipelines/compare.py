"""Predictor comparison: NASLib's protocol as a library function.

For each train size ``n`` and seed, draw ``n`` random training architectures
and a disjoint random test set, fit every predictor on the same training set,
score it on the same test set. Canonical twins (cells with the same
:attr:`~surrogate_nas.cell.Cell.canonical_key`) compute the same function, so a
test architecture whose twin is in the training set would be a leaked answer:
the test set is drawn only from canonical groups absent from the training set.

    >>> from surrogate_nas.tables import load_benchmark
    >>> df = compare_predictors(load_benchmark("nb201-cifar10"), ["mean"], [20], seeds=1, test_size=50)
    >>> df[["predictor", "train_size", "seed"]].values.tolist()
    [['mean', 20, 0]]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from surrogate_nas.errors import InputDataError  # noqa: E402
from surrogate_nas.predictors.features import featurize  # noqa: E402
from surrogate_nas.predictors.metrics import evaluate_predictions  # noqa: E402
from surrogate_nas.predictors.registry import PREDICTORS, make_predictor  # noqa: E402
from surrogate_nas.tables import BenchmarkTable  # noqa: E402

METRICS: tuple[str, ...] = (
    "kendall_tau", "spearman", "pearson", "mae", "precision_at_10", "nll", "coverage_90",
    "fit_seconds", "predict_seconds",
)  # fmt: skip
"""Metric columns of :func:`compare_predictors`'s result, in order."""


def split_train_test(groups: Sequence[str], train_size: int, test_size: int, seed: int):
    """Random disjoint index sets; no canonical group appears on both sides.

    Training rows are a uniform sample of all rows (twins may repeat, as in
    NASLib); test rows are a uniform sample of the rows whose group is not in
    the training set.

    Returns:
        ``(train_idx, test_idx)`` integer arrays.

    Raises:
        InputDataError: Fewer than ``test_size`` rows remain outside the training groups.
    """
    groups = np.asarray(groups)
    order = np.random.default_rng(seed).permutation(len(groups))
    train = order[:train_size]
    free = order[train_size:][~np.isin(groups[order[train_size:]], groups[train])]
    if len(free) < test_size:
        raise InputDataError(
            f"only {len(free)} architectures are left outside the {train_size} training architectures' "
            f"canonical groups, but test_size={test_size}; use smaller sizes"
        )
    return train, free[:test_size]


def compare_predictors(
    table: BenchmarkTable,
    predictors: list[str],
    train_sizes: list[int],
    seeds: int,
    test_size: int = 200,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Fit and score each predictor on shared random splits of ``table``.

    Args:
        table: Architectures and their target (``table.target``).
        predictors: Names from :data:`~surrogate_nas.predictors.registry.PREDICTORS`.
        train_sizes: Training-set sizes ``n``.
        seeds: Number of random splits per size (seeds ``0..seeds-1``).
        test_size: Test architectures per split.
        progress: Called with a one-line message after each fit, e.g. ``print``.

    Returns:
        One row per ``(predictor, train_size, seed)``: those columns, then :data:`METRICS`.

    Raises:
        InputDataError: Unknown predictor, non-positive sizes or seeds, or
            ``train_size + test_size`` larger than the table.
    """
    for name in predictors:
        if name not in PREDICTORS:
            raise InputDataError(f"unknown predictor {name!r}; expected one of {', '.join(PREDICTORS)}")
    if not predictors or not train_sizes:
        raise InputDataError("give at least one predictor and one train size")
    if int(seeds) < 1 or int(test_size) < 2 or min(train_sizes) < 2:
        raise InputDataError(
            f"need seeds >= 1, test_size >= 2 and train sizes >= 2; got seeds={seeds}, "
            f"test_size={test_size}, train_sizes={list(train_sizes)}"
        )
    if max(train_sizes) + test_size > len(table.frame):
        raise InputDataError(
            f"train size {max(train_sizes)} + test size {test_size} exceeds the {len(table.frame)} "
            f"architectures of {table.name}"
        )
    cells = table.cells()
    y = table.values()
    groups = [c.canonical_key for c in cells]
    features: dict[str, np.ndarray] = {}
    rows = []
    for n in train_sizes:
        for seed in range(int(seeds)):
            train, test = split_train_test(groups, int(n), int(test_size), seed)
            for name in predictors:
                kind, predictor = make_predictor(name)
                if kind not in features:
                    features[kind] = featurize(cells, kind)
                X = features[kind]
                if hasattr(predictor, "random_state"):
                    predictor.random_state = seed
                t0 = time.perf_counter()
                predictor.fit(X[train], y[train])
                t1 = time.perf_counter()
                mean, std = predictor.predict(X[test])
                t2 = time.perf_counter()
                scores = evaluate_predictions(y[test], mean, std, k=10)
                scores = {("precision_at_10" if k.startswith("precision_at_") else k): v for k, v in scores.items()}
                rows.append(
                    {"predictor": name, "train_size": int(n), "seed": seed, **scores,
                     "fit_seconds": t1 - t0, "predict_seconds": t2 - t1}  # fmt: skip
                )
                if progress is not None:
                    progress(f"{name} n={n} seed={seed}: tau={scores['kendall_tau']:.3f} fit={t1 - t0:.2f}s")
    return pd.DataFrame(rows, columns=["predictor", "train_size", "seed", *METRICS])


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error of each metric per predictor and train size.

    Returns:
        Index ``(predictor, train_size)``; columns ``<metric>_mean`` and ``<metric>_se``.
    """
    missing = {"predictor", "train_size"} - set(df.columns)
    if missing:
        raise InputDataError(f"the results lack columns {sorted(missing)}; pass compare_predictors' output")
    metrics = [m for m in METRICS if m in df.columns]
    grouped = df.groupby(["predictor", "train_size"], sort=False)[metrics]
    mean = grouped.mean().add_suffix("_mean")
    count = grouped.count()
    se = (grouped.std(ddof=1) / np.sqrt(count)).fillna(0.0).add_suffix("_se")
    out = pd.concat([mean, se], axis=1)
    return out[[f"{m}_{s}" for m in metrics for s in ("mean", "se")]]


def plot_tau_vs_size(df: pd.DataFrame, path, metric: str = "kendall_tau") -> None:
    """Line plot of ``metric`` against train size per predictor, with standard-error bars."""
    summary = summarize(df).reset_index()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, part in summary.groupby("predictor", sort=False):
        ax.errorbar(part["train_size"], part[f"{metric}_mean"], yerr=part[f"{metric}_se"], marker="o",
                    capsize=3, label=name)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("training architectures")
    ax.set_ylabel(metric.replace("_", " "))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_scatter(y_true, mean, path, std=None, title: str = "") -> None:
    """Predicted against true values, with optional 90% interval bars and the identity line."""
    y_true = np.asarray(y_true, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if y_true.shape != mean.shape:
        raise InputDataError(f"y_true has shape {y_true.shape} but mean has {mean.shape}")
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    yerr = None if std is None else 1.645 * np.asarray(std, dtype=float)
    ax.errorbar(y_true, mean, yerr=yerr, fmt="o", ms=3, alpha=0.6, elinewidth=0.5)
    lo, hi = float(min(y_true.min(), mean.min())), float(max(y_true.max(), mean.max()))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
