"""benchmarks/_calibration.py: the calibration table's verdicts against its bounds."""

from __future__ import annotations

import pandas as pd

from bench_scripts import load_script


def _rows(name: str, covers: list[float], nlls: list[float]) -> list[dict]:
    return [{"predictor": name, "train_size": 50, "seed": seed, "status": "ok", "coverage_90": c, "nll": n,
             "coverage_90_normal": c, "nll_normal": n} for seed, (c, n) in enumerate(zip(covers, nlls))]


def test_each_verdict_names_the_bound_it_misses():
    module = load_script("_calibration")
    df = pd.DataFrame(_rows("xgb", [0.9, 0.9], [2.0, 2.0]) + _rows("wide", [0.97, 0.99], [2.0, 2.0])
                      + _rows("wild", [0.9, 0.9], [2.0, 4.5]) + _rows("mean", [1.0, 1.0], [9.0, 9.0]))
    lines = module.calibration_table(df, "predictor", "xgb")
    verdict = {line.split(" | ")[0].strip("| "): line for line in lines[2:]}
    assert "| yes |" in verdict["xgb"]
    assert "no: coverage outside 0.85-0.95" in verdict["wide"] and "0.980 ± 0.010" in verdict["wide"]
    assert "no: NLL above 2x xgb's" in verdict["wild"] and "| 2.25 |" in verdict["wild"]
    assert "not bounded" in verdict["mean"]
