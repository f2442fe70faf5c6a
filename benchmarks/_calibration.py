"""The calibration check of the predictor benchmarks: 90% coverage and NLL against fixed bounds.

A learned predictor's standard deviation is used by Bayesian search, so it is held to two
bounds on the same splits as its Kendall tau: its central 90% interval holds
:data:`COVERAGE_BOUNDS` of the test values (mean over seeds, per training size), and its
Gaussian NLL is at most :data:`NLL_RATIO` times the reference's (XGBoost, whose spread was the
first to be calibrated on cross-fitted residuals) on every split. Predictors with one residual
scale for every input are shown but not bounded (see :data:`UNBOUNDED_NOTE`).
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
    ref = ok[ok[label] == reference].set_index(split)["nll"].rename("ref_nll")
    ok = ok.join(ref, on=split)
    ok = ok.assign(ratio=np.where(ok["ref_nll"] > 0, ok["nll"] / ok["ref_nll"], np.nan))
    levels = [c for c in ("coverage_50", "coverage_80", "coverage_90", "coverage_95") if c in ok]
    head = "| " + " | ".join([label, *keys, "n", *(f"cover {c.split('_')[1]}%" for c in levels), "NLL mean",
                              "NLL min-max", f"worst NLL / {reference}'s (same split)", "within bounds"]) + " |"
    lines = [head, "|" + "---|" * (len(keys) + len(levels) + 6)]
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
        cells = [*map(str, group), *(f"{part[c].mean():.3f}" for c in levels), f"{nll.mean():.2f}",
                 f"{nll.min():.2f}-{nll.max():.2f}", "" if name == reference or np.isnan(worst) else f"{worst:.2f}",
                 verdict]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def bounds_text(reference: str = "xgb") -> str:
    """The sentence that states the bounds above a calibration table."""
    return (f"Calibration check, mean over seeds: the central 90% normal interval `mean ± 1.645 std` should hold "
            f"{COVERAGE_BOUNDS[0]}-{COVERAGE_BOUNDS[1]} of the test values, and the Gaussian NLL should stay within "
            f"{NLL_RATIO:g}x {reference}'s on every split (the worst ratio over the seeds is shown; blank where "
            f"{reference}'s NLL is not positive). Every learned predictor calibrates its std on two-fold cross-fitted "
            "residuals (`surrogate_nas.predictors.calibration`).")
