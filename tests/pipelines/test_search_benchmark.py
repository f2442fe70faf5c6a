"""Strategy comparison on a table: curves, summaries, optimum hits, plots."""

import numpy as np
import pandas as pd
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.benchmark import (
    CURVE_COLUMNS,
    benchmark_search,
    optimum_hits,
    plot_regret,
    summarize_regret,
)
from surrogate_nas.tables import load_benchmark


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def curves(table):
    return benchmark_search(table, ["rs", "ls"], budget=20, seeds=[0, 1], batch_size=2)


def test_curves_have_one_row_per_strategy_seed_and_step(curves, table):
    assert list(curves.columns) == CURVE_COLUMNS
    assert len(curves) == 2 * 2 * 20
    for _, run in curves.groupby(["strategy", "seed"]):
        assert run["step"].tolist() == list(range(1, 21))
        assert np.all(np.diff(run["regret"]) <= 0)
        np.testing.assert_allclose(run["regret"], table.optimum - run["best_so_far"])


def test_summary_is_mean_and_standard_error_over_seeds(curves):
    summary = summarize_regret(curves, steps=[10, 20])
    row = summary[(summary["strategy"] == "rs") & (summary["step"] == 20)].iloc[0]
    at20 = curves[(curves["strategy"] == "rs") & (curves["step"] == 20)]["regret"]
    assert row["mean"] == pytest.approx(at20.mean())
    assert row["se"] == pytest.approx(at20.std(ddof=1) / np.sqrt(2))
    assert row["n"] == 2


def test_optimum_hits_counts_seeds_that_reached_zero_regret():
    curves = pd.DataFrame(
        {
            "strategy": ["a"] * 6,
            "seed": [0, 0, 0, 1, 1, 1],
            "step": [1, 2, 3, 1, 2, 3],
            "regret": [1.0, 0.0, 0.0, 2.0, 1.0, 0.5],
        }
    )
    hits = optimum_hits(curves, within=3).iloc[0]
    assert hits["found_fraction"] == 0.5
    assert hits["mean_evals_to_find"] == 2.0
    assert optimum_hits(curves, within=1).iloc[0]["found_fraction"] == 0.0


def test_plot_is_written(curves, tmp_path):
    path = tmp_path / "regret.png"
    plot_regret(curves, path)
    assert path.stat().st_size > 0


def test_unknown_strategy_is_an_input_error(table):
    with pytest.raises(InputDataError, match="unknown search strategy"):
        benchmark_search(table, ["rs", "hill-climbing"], budget=5, seeds=1)
