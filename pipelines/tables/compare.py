"""Predictor comparison: NASLib's protocol as a library function.

For each train size ``n`` and seed, draw ``n`` random training architectures
and a disjoint random test set, fit every predictor on the same training set,
score it on the same test set. Canonical twins (architectures with the same
canonical key) compute the same function, so a test architecture whose twin is
in the training set would be a leaked answer: the test set is drawn only from
canonical groups absent from the training set. Features come from the table's
search space, so the same comparison runs on NAS-Bench-201, -101, DARTS or a
user's own table.

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

from surrogate_nas.errors import FitError, InputDataError  # noqa: E402
from surrogate_nas.predictors.metrics import evaluate_predictions  # noqa: E402
from surrogate_nas.predictors.predictive import predictive  # noqa: E402
from surrogate_nas.predictors.registry import (  # noqa: E402
    PREDICTOR_PLUGINS,
    expand_names,
    make_predictor,
    predictor_label,
)
from surrogate_nas.tables import BenchmarkTable  # noqa: E402
from surrogate_nas.devices import own_latency_features  # noqa: E402

METRICS: tuple[str, ...] = (
    "kendall_tau", "spearman", "pearson", "mae", "precision_at_10", "precision_top5", "nll",
    "coverage_50", "coverage_80", "coverage_90", "coverage_95", "nll_normal", "coverage_90_normal",
    "fit_seconds", "predict_seconds",
)  # fmt: skip
"""Metric columns of :func:`compare_predictors`'s result, in order."""


TEST_SIZES = ("all", "auto")
"""Test sizes besides a count: every row outside the training groups, or at most 200 of them."""

AUTO_TEST_SIZE = 200


def split_train_test(groups: Sequence[str], train_size: int, test_size: int | str, seed: int):
    """Random disjoint index sets; no canonical group appears on both sides.

    Training rows are a uniform sample of all rows (twins may repeat, as in
    NASLib); test rows are a uniform sample of the rows whose group is not in
    the training set: ``test_size`` of them, all of them (``"all"``, the protocol
    of the graph-predictor papers), or at most 200 (``"auto"``).

    Returns:
        ``(train_idx, test_idx)`` integer arrays.

    Raises:
        InputDataError: Fewer than ``test_size`` rows remain outside the training groups.
    """
    groups = np.asarray(groups)
    order = np.random.default_rng(seed).permutation(len(groups))
    train = order[:train_size]
    free = order[train_size:][~np.isin(groups[order[train_size:]], groups[train])]
    if test_size == "all":
        return train, free
    if test_size == "auto":
        return train, free[:AUTO_TEST_SIZE]
    if len(free) < test_size:
        raise InputDataError(
            f"only {len(free)} architectures are left outside the {train_size} training architectures' "
            f"canonical groups, but test_size={test_size}; use a smaller size, 'auto' or 'all'"
        )
    return train, free[:test_size]


def check_test_size(test_size) -> int | str:
    """A test size as given by a user: a count >= 2, ``"all"`` or ``"auto"``."""
    if isinstance(test_size, str) and test_size in TEST_SIZES:
        return test_size
    try:
        value = int(test_size)
    except (TypeError, ValueError):
        value = 0
    if value < 2 or str(test_size).strip() != str(value):
        raise InputDataError(f"test size must be a count >= 2, 'all' or 'auto', got {test_size!r}")
    return value


def compare_predictors(
    table: BenchmarkTable,
    predictors: list[str],
    train_sizes: list[int],
    seeds: int,
    test_size: int | str = "auto",
    progress: Callable[[str], None] | None = None,
    feature_cache=None,
    transfer_from: BenchmarkTable | None = None,
) -> pd.DataFrame:
    """Fit and score each predictor on shared random splits of ``table``.

    Args:
        table: Architectures and their target (``table.target``).
        predictors: Predictors by name (built-in, registered or installed plug-ins, or
            ``module:Class``) or as objects; ``"all"`` stands for every named one.
        train_sizes: Training-set sizes ``n``.
        seeds: Number of random splits per size (seeds ``0..seeds-1``).
        test_size: Test architectures per split: a count, ``"all"`` (every architecture
            outside the training groups) or ``"auto"`` (at most 200 of them).
        progress: Called with a one-line message after each fit, e.g. ``print``.
        feature_cache: Where the space keeps zero-cost proxies it computes (the database).
        transfer_from: A table of the same space (another dataset's results) whose value of each
            architecture is appended to every predictor's features
            (:func:`~surrogate_nas.pipelines.tables.transfer.prior_column`); more information than
            the data-free features, so report such results apart. Never ``table`` itself
            (:func:`~surrogate_nas.pipelines.tables.transfer.check_transfer_source`).

    Returns:
        One row per ``(predictor, train_size, seed)``: those columns, ``test_size``,
        ``status`` (``ok`` or ``failed``), ``message`` (why it failed), then :data:`METRICS`
        (NaN for a failed fit). A predictor that cannot be fitted on one split never stops
        the comparison.

    Raises:
        InputDataError: Unknown predictor, non-positive sizes or seeds,
            ``train_size + test_size`` larger than the table, or ``transfer_from`` that is ``table`` itself.
    """
    predictors = expand_names(list(predictors))
    for name in predictors:
        PREDICTOR_PLUGINS.resolve(name)  # an unknown name fails here, listing what is installed
    if not predictors or not train_sizes:
        raise InputDataError("give at least one predictor and one train size")
    test_size = check_test_size(test_size)
    if int(seeds) < 1 or min(train_sizes) < 2:
        raise InputDataError(
            f"need seeds >= 1 and train sizes >= 2; got seeds={seeds}, train_sizes={list(train_sizes)}"
        )
    floor = test_size if isinstance(test_size, int) else 2
    if max(train_sizes) + floor > len(table.frame):
        raise InputDataError(
            f"train size {max(train_sizes)} + test size {floor} exceeds the {len(table.frame)} "
            f"architectures of {table.name}"
        )
    space = table.space if feature_cache is None else table.space.with_cache(feature_cache)
    archs = table.architectures()
    y = table.values()
    groups = [a.canonical_key for a in archs]
    prior = None
    if transfer_from is not None:
        from surrogate_nas.pipelines.tables.transfer import check_transfer_source, prior_column

        check_transfer_source(table, transfer_from)
        prior = prior_column(transfer_from, archs, table.space)
    features: dict[str, np.ndarray] = {}
    rows = []
    for n in train_sizes:
        for seed in range(int(seeds)):
            train, test = split_train_test(groups, int(n), test_size, seed)
            for name in predictors:
                kind, predictor = make_predictor(name, space)
                if kind not in features:
                    block = space.features(archs, kind)
                    features[kind] = block if prior is None else np.hstack([block, prior])
                X = features[kind]
                leave_out_target(predictor, space, kind, table.target)
                if hasattr(predictor, "get_params") and "random_state" in predictor.get_params():
                    predictor.set_params(random_state=seed)
                row = {"predictor": predictor_label(name), "train_size": int(n), "seed": seed,
                       "test_size": len(test)}
                rows.append({**row, **score_split(predictor, X, y, train, test)})
                if progress is not None:
                    done = rows[-1]
                    progress(f"{row['predictor']} n={n} seed={seed}: " + (
                        f"tau={done['kendall_tau']:.3f}" if done["status"] == "ok" else f"failed ({done['message']})"))
    return pd.DataFrame(rows, columns=["predictor", "train_size", "seed", "test_size", "status", "message", *METRICS])


def leave_out_target(predictor, space, kind: str, target: str):
    """``predictor``, told not to read the feature columns of ``kind`` that are ``target`` itself.

    On NB-201 the ``latency`` features (``devlat``) hold every packaged device setting's
    latency; fitting one of them (``--metric lat_ms_pixel3``) leaves that setting's own column
    out, and keeps the others (see :func:`~surrogate_nas.devices.own_latency_features`).
    Returns ``predictor``.
    """
    own = own_latency_features(space.feature_names(kind), target)
    if own:
        predictor.set_params(ignore_columns=own)
    return predictor


def score_split(predictor, X: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> dict:
    """Fit on ``train``, score on ``test``: ``status``, ``message`` and :data:`METRICS`.

    A predictor that cannot fit is a failed row (``status="failed"``, NaN metrics) with its reason.
    """
    t0 = time.perf_counter()
    try:
        predictor.fit(X[train], y[train])
        t1 = time.perf_counter()
        distribution = predictive(predictor, X[test])
        mean, std = distribution.summary()  # what predict returns, timed with it
        t2 = time.perf_counter()
        scores = evaluate_predictions(y[test], mean, std, k=10, distribution=distribution)
    except (FitError, ArithmeticError, ValueError, RuntimeError) as exc:  # also a non-PD matrix, an XGBoost error
        message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        return {"status": "failed", "message": message, **{m: np.nan for m in METRICS}}
    scores = {("precision_at_10" if k.startswith("precision_at_") else k): v for k, v in scores.items()}
    return {"status": "ok", "message": "", **scores, "fit_seconds": t1 - t0, "predict_seconds": t2 - t1}


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error of each metric per predictor and train size.

    Failed fits are left out of the means and counted in ``failed``.

    Returns:
        Index ``(predictor, train_size)``; columns ``<metric>_mean``, ``<metric>_se`` and ``failed``.
    """
    missing = {"predictor", "train_size"} - set(df.columns)
    if missing:
        raise InputDataError(f"the results lack columns {sorted(missing)}; pass compare_predictors' output")
    metrics = [m for m in METRICS if m in df.columns]
    ok = df[df["status"] == "ok"] if "status" in df.columns else df
    grouped = ok.groupby(["predictor", "train_size"], sort=False)[metrics]
    mean = grouped.mean().add_suffix("_mean")
    count = grouped.count()
    se = (grouped.std(ddof=1) / np.sqrt(count)).fillna(0.0).add_suffix("_se")
    out = pd.concat([mean, se], axis=1)[[f"{m}_{s}" for m in metrics for s in ("mean", "se")]]
    runs = df.groupby(["predictor", "train_size"], sort=False).size()
    out = out.reindex(runs.index)
    out["failed"] = runs - ok.groupby(["predictor", "train_size"], sort=False).size().reindex(runs.index).fillna(0)
    return out


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
