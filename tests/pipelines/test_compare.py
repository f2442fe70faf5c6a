import numpy as np
import pandas as pd
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.tables.compare import (
    METRICS,
    compare_predictors,
    plot_scatter,
    plot_tau_vs_size,
    split_train_test,
    summarize,
)
from surrogate_nas.tables import load_benchmark


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def results(table):
    return compare_predictors(table, ["xgb-onehot", "params", "mean"], [20, 40], seeds=2, test_size=60)


def test_one_row_per_predictor_size_seed_with_all_columns(results):
    assert len(results) == 3 * 2 * 2
    assert list(results.columns[:3]) == ["predictor", "train_size", "seed"]
    assert set(METRICS) <= set(results.columns)
    assert results.groupby(["predictor", "train_size", "seed"]).size().eq(1).all()
    assert (results["fit_seconds"] >= 0).all()


def test_learned_predictor_beats_mean_floor(results):
    tau = results.groupby("predictor")["kendall_tau"].mean()
    assert tau["mean"] == 0.0
    assert tau["params"] > 0.1 and tau["xgb-onehot"] > 0.1


def test_split_is_disjoint_on_canonical_groups(table):
    groups = [c.canonical_key for c in table.architectures()]
    train, test = split_train_test(groups, 500, 200, seed=3)
    assert len(train) == 500 and len(test) == 200
    g = np.asarray(groups)
    assert not set(g[train]) & set(g[test])
    again = split_train_test(groups, 500, 200, seed=3)
    assert np.array_equal(train, again[0]) and np.array_equal(test, again[1])


def test_too_large_sizes_and_unknown_names_raise(table):
    with pytest.raises(InputDataError, match="exceeds"):
        compare_predictors(table, ["mean"], [15600], seeds=1, test_size=200)
    with pytest.raises(InputDataError, match="unknown predictor"):
        compare_predictors(table, ["nope"], [20], seeds=1)


def test_summarize_gives_mean_and_standard_error(results):
    s = summarize(results)
    assert len(s) == 6
    row = results[(results.predictor == "params") & (results.train_size == 20)]["kendall_tau"]
    assert s.loc[("params", 20), "kendall_tau_mean"] == pytest.approx(row.mean())
    assert s.loc[("params", 20), "kendall_tau_se"] == pytest.approx(row.std(ddof=1) / np.sqrt(2))


def test_plots_write_png_files(results, tmp_path):
    plot_tau_vs_size(results, tmp_path / "tau.png")
    y = np.linspace(0, 1, 10)
    plot_scatter(y, y + 0.1, tmp_path / "scatter.png", std=np.full(10, 0.05), title="t")
    for name in ("tau.png", "scatter.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputDataError):
        plot_scatter(y, y[:3], tmp_path / "bad.png")


def test_summarize_rejects_foreign_frames():
    with pytest.raises(InputDataError, match="lack columns"):
        summarize(pd.DataFrame({"x": [1]}))


def _table_with_target(values, n=120):
    from surrogate_nas.tables.table import table_from_frame

    frame = load_benchmark("nb201-cifar10").frame.iloc[:n][["arch"]].copy()
    frame["acc"] = values(n)
    return table_from_frame("mine", frame, "acc")


def test_a_predictor_that_cannot_fit_is_a_failed_row_with_its_reason_and_the_rest_goes_on():
    flat = _table_with_target(lambda n: np.full(n, 70.0))
    rows = compare_predictors(flat, ["gp", "xgb", "mean"], [30], seeds=2, test_size=40)
    assert len(rows) == 6
    failed = rows[rows["status"] == "failed"]
    assert set(failed["predictor"]) == {"gp", "xgb"}
    assert failed["message"].str.contains("all equal").all() and failed["kendall_tau"].isna().all()
    assert (rows.loc[rows["predictor"] == "mean", "status"] == "ok").all()
    assert summarize(rows).loc[("gp", 30), "failed"] == 2


def test_pure_noise_targets_never_stop_the_comparison():
    noise = _table_with_target(lambda n: np.random.default_rng(0).normal(50.0, 5.0, n))
    rows = compare_predictors(noise, ["gp", "xgb"], [30], seeds=2, test_size=40)
    assert len(rows) == 4 and set(rows["status"]) <= {"ok", "failed"}
    assert (rows.loc[rows["status"] == "failed", "message"].str.len() > 0).all()


def test_transfer_from_another_dataset_adds_its_values_as_a_feature(table):
    c100 = load_benchmark("nb201-cifar100")
    plain = compare_predictors(c100, ["rf"], [30], seeds=2, test_size=100)
    prior = compare_predictors(c100, ["rf"], [30], seeds=2, test_size=100, transfer_from=table)
    assert prior["kendall_tau"].mean() > plain["kendall_tau"].mean() + 0.05
    darts = load_benchmark("darts-cifar10-subset")
    with pytest.raises(InputDataError, match="same space"):
        compare_predictors(darts, ["mean"], [20], seeds=1, test_size=20, transfer_from=table)


def test_whole_space_split_tests_every_architecture_outside_the_training_groups(table):
    groups = np.asarray([c.canonical_key for c in table.architectures()])
    train, test = split_train_test(groups, 156, "all", seed=0)
    outside = ~np.isin(groups, groups[train])
    assert len(test) == outside.sum() and set(test) == set(np.flatnonzero(outside))


def test_the_transfer_source_may_not_be_the_compared_table_itself(table):
    from surrogate_nas.pipelines.tables.transfer import check_transfer_source

    with pytest.raises(InputDataError, match="same metric column cifar10_valid_acc_200ep"):
        compare_predictors(table, ["mean"], [20], seeds=1, test_size=20, transfer_from=table)
    same_file = load_benchmark("nb201-cifar10-12ep", "cifar10_valid_acc_200ep")  # another name, the same data
    with pytest.raises(InputDataError, match="the target itself"):
        check_transfer_source(table, same_file)
    check_transfer_source(table, load_benchmark("nb201-cifar10-12ep"))  # another metric of the same cells
    check_transfer_source(table, load_benchmark("nb201-cifar100"))


def test_the_latency_predictor_of_a_known_device_does_not_read_its_own_latency():
    pixel3 = load_benchmark("nb201-cifar10", "lat_ms_pixel3")
    tau = compare_predictors(pixel3, ["latency"], [20], seeds=1, test_size=100)["kendall_tau"].iloc[0]
    assert 0.5 < tau < 0.99  # reading log_lat_ms_pixel3 itself ranks perfectly
