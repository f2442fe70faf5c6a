"""The calibration check of the predictor benchmarks: 90% coverage and NLL against fixed bounds.

A learned predictor's uncertainty is used by Bayesian search, so it is held to two bounds on
the same splits as its Kendall tau: the central 90% interval of its predictive distribution
(:class:`~surrogate_nas.predictors.predictive.Predictive`) holds :data:`COVERAGE_BOUNDS` of the
test values (mean over seeds, per training size), and its NLL is at most :data:`NLL_RATIO` times
the reference's (XGBoost, whose spread was the first to be calibrated on cross-fitted residuals)
on every split. The same two figures for the Gaussian ``(mean, std)`` that ``predict`` returns
are shown beside them, unbounded. Predictors with one residual scale for every input are shown
but not bounded (see :data:`UNBOUNDED_NOTE`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGE_BOUNDS = (0.85, 0.95)
NLL_RATIO = 2.0
UNBOUNDED = ("params", "flops", "synflow", "nwot", "mean", "latency")
UNBOUNDED_NOTE = (
    "Not bounded: the rank baselines (`params`, `flops`, `synflow`, `nwot`, `mean`) and `latency` (a latency "
    "model, here fitted to accuracy) report one residual scale for every architecture, the maximum-likelihood "
    "Gaussian of their training residuals. Accuracies have a long lower tail (cells that barely train) which that "
    "one scale must also cover, so it is too wide for the rest, and no single Gaussian scale is right at every "
    "level; they are ranking references, never the surrogate of a search."
)


def calibration_table(df: pd.DataFrame, label: str, reference: str, keys: tuple[str, ...] = ()) -> list[str]:
    """Markdown lines: per ``label`` value (and ``keys``) and training size, the coverages, NLL and the verdict.

    Args:
        df: one row per split with ``label``, ``*keys``, ``train_size``, ``seed``, ``status``,
            ``coverage_90``, ``nll`` and the other ``coverage_*`` levels (``compare_predictors``' columns).
        label: the column naming the predictor (``predictor`` or a benchmark's ``config``).
        reference: the ``label`` value whose NLL on the same split bounds the others'.
        keys: further columns that tell splits apart (a protocol).
    """
    ok = df[df["status"] == "ok"]
    split = [*keys, "train_size", "seed"]
    for nll, ratio in (("nll", "ratio"), ("nll_normal", "ratio_normal")):  # each NLL over the reference's
        ref = ok[ok[label] == reference].set_index(split)[nll].rename("ref").reindex(
            pd.MultiIndex.from_frame(ok[split])).to_numpy()
        ok = ok.assign(**{ratio: np.where(ref > 0, ok[nll] / ref, np.nan)})
    levels = [c for c in ("coverage_50", "coverage_80", "coverage_90", "coverage_95") if c in ok]
    head = "| " + " | ".join([label, *keys, "n", *(f"cover {c.split('_')[1]}%" for c in levels), "NLL mean",
                              "NLL min-max", f"worst NLL / {reference}'s (same split)", "within bounds",
                              "Gaussian summary: cover 90%", f"worst NLL / {reference}'s"]) + " |"
    lines = [head, "|" + "---|" * (len(keys) + len(levels) + 8)]
    for group, part in ok.groupby([label, *keys, "train_size"], sort=False):
        name = group[0]
        cover, nll = part["coverage_90"].mean(), part["nll"]
        worst = part["ratio"].max()
        if name in UNBOUNDED:
            verdict = "not bounded"
        else:
            misses = [what for what, bad in (
                (f"coverage outside {COVERAGE_BOUNDS[0]}-{COVERAGE_BOUNDS[1]}",
                 not COVERAGE_BOUNDS[0] <= cover <= COVERAGE_BOUNDS[1]),
                (f"NLL above {NLL_RATIO:g}x {reference}'s",
                 not (np.isfinite(nll).all() and (np.isnan(worst) or worst <= NLL_RATIO))),
            ) if bad]
            verdict = "yes" if not misses else "no: " + ", ".join(misses)
        worst_normal = part["ratio_normal"].max()
        se = part["coverage_90"].std(ddof=1) / np.sqrt(len(part)) if len(part) > 1 else 0.0
        covers = [f"{part[c].mean():.3f}" + (f" ± {se:.3f}" if c == "coverage_90" else "") for c in levels]
        cells = [*map(str, group), *covers, f"{nll.mean():.2f}",
                 f"{nll.min():.2f}-{nll.max():.2f}", "" if name == reference or np.isnan(worst) else f"{worst:.2f}",
                 verdict, f"{part['coverage_90_normal'].mean():.3f}",
                 "" if name == reference or np.isnan(worst_normal) else f"{worst_normal:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def bounds_text(reference: str = "xgb") -> str:
    """The sentences that state what the calibration table measures and its bounds."""
    return (f"Calibration check, mean over seeds (± its standard error for the 90% interval): the central 90% "
            f"interval of each predictor's predictive "
            f"distribution should hold {COVERAGE_BOUNDS[0]}-{COVERAGE_BOUNDS[1]} of the test values, and its "
            f"negative log-likelihood (NLL, the mean negative log density of the test values) should stay within "
            f"{NLL_RATIO:g}x {reference}'s on every split (the worst ratio over the seeds is shown; blank where "
            f"{reference}'s NLL is not positive). Every learned predictor fits rank normal scores of the targets and "
            "calibrates its std there on two-fold cross-fitted residuals (`surrogate_nas.predictors.calibration`); "
            "its predictive distribution is that normal carried to accuracy by the monotone warp "
            "(`surrogate_nas.predictors.predictive`), skewed where accuracies crowd, with their long lower tail. The "
            "last two columns judge instead the Gaussian `(mean, std)` that `predict` returns (the median and the "
            "local spread, `mean ± 1.645 std`): a cell predicted near the accuracy ceiling that turns out not to "
            "train lies a few score units off but dozens of that Gaussian's narrow stds, so its NLL is shown, "
            "not bounded.")
