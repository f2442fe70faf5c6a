"""Multi-fidelity search on tables: rungs, fidelity columns, resumed cost, promotions, stopping by cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import make_strategy
from surrogate_nas.pipelines.search.strategies.rungs import bracket_weights, choose_rungs
from surrogate_nas.tables import load_benchmark, parse_fidelity_columns, table_from_frame


@pytest.fixture(scope="module")
def nb201():
    return TabularEvaluator(load_benchmark("nb201-cifar10"))


def test_rungs_are_a_tables_levels_or_a_geometric_ladder_of_epochs():
    assert choose_rungs((0.06, 1.0), eta=3) == (0.06, 1.0)
    epochs = [k / 27 for k in range(1, 28)]
    assert np.allclose(choose_rungs(epochs, eta=3), [1 / 27, 3 / 27, 9 / 27, 1.0])
    assert np.allclose(choose_rungs(epochs, eta=3, min_fidelity=2 / 27), [3 / 27, 9 / 27, 1.0])
    assert np.allclose(choose_rungs([k / 10 for k in range(1, 11)], eta=3), [0.1, 0.3, 1.0])
    with pytest.raises(InputDataError, match="full fidelity"):
        choose_rungs((0.1, 0.5), eta=3)
    w = bracket_weights(rungs=4, eta=3, brackets=4)
    assert np.isclose(w.sum(), 1) and list(w) == sorted(w, reverse=True), "Hyperband favours the low brackets"


def test_nb201_tables_know_their_12_and_200_epoch_columns_and_a_csv_declares_its_own(tmp_path):
    table = load_benchmark("nb201-cifar10")
    assert table.fidelity_fractions() == (0.06, 1.0) and table.fidelity_column(0.06) == "cifar10_valid_acc_12ep"
    assert load_benchmark("nb201-cifar10", metric="cifar10_test_acc_200ep").fidelities == ()
    frame = table.frame.head(40)[["arch", "cifar10_valid_acc_12ep", "cifar10_valid_acc_200ep", "train_time_s_cifar10"]]
    path = tmp_path / "mine.csv"
    frame.rename(columns={"cifar10_valid_acc_12ep": "a12", "cifar10_valid_acc_200ep": "a200"}).to_csv(path, index=False)
    mine = load_benchmark(str(path), cost_column="train_time_s_cifar10",
                          fidelity_columns=parse_fidelity_columns("a12:12, a200:200"))
    assert mine.target == "a200" and mine.fidelity_fractions() == (0.06, 1.0)
    for bad, message in (("a12", "COLUMN:EPOCHS"), ("a12:x", "COLUMN:EPOCHS"), ("a12:12", "at least two"),
                         ("a12:12,a200:12", "distinct"), ("a12:12,nope:200", "nope")):
        with pytest.raises(InputDataError, match=message):
            load_benchmark(str(path), fidelity_columns=parse_fidelity_columns(bad))
    with pytest.raises(InputDataError, match="most epochs"):
        load_benchmark(str(path), metric="a12", fidelity_columns={"a12": 12, "a200": 200})
    with pytest.raises(InputDataError, match="knows its own fidelities"):
        load_benchmark("nb201-cifar10", fidelity_columns={"a": 1, "b": 2})


def test_a_low_fidelity_is_its_column_and_a_resumed_one_pays_only_the_rest(nb201):
    arch = nb201.space.enumerate()[100]
    row = nb201.table.row_of(arch)
    frame, cost = nb201.table.frame, nb201.table.frame["train_time_s_cifar10"].iat[row]
    low, full, resumed = nb201.evaluate([Suggestion(arch, 0.06), Suggestion(arch), Suggestion(arch, 1.0, 0.06)])
    assert low.value == frame["cifar10_valid_acc_12ep"].iat[row] and low.test_value is None
    assert full.value == frame["cifar10_valid_acc_200ep"].iat[row]
    assert np.isclose(low.cost_s, 0.06 * cost) and np.isclose(full.cost_s, cost)
    assert np.isclose(resumed.cost_s, 0.94 * cost) and resumed.value == full.value
    with pytest.raises(InputDataError, match="no fidelity 0.5"):
        nb201.evaluate([Suggestion(arch, 0.5)])


@pytest.mark.parametrize("name", ["sh", "hb", "mf-bo"])
def test_multi_fidelity_strategies_promote_the_best_of_a_rung_and_resume_it(nb201, name):
    options = {"n_initial": 4, "surrogate_options": {"maxiter": 20}} if name == "mf-bo" else {}
    strategy = make_strategy(name, nb201.space, seed=1, **options)
    trace = run_search(strategy, nb201, budget=14 if name == "mf-bo" else 80, seed=1)
    frame = trace.frame
    assert set(frame["fidelity"]) <= {0.06, 1.0} and (frame["fidelity"] == 1.0).any()
    assert not frame.duplicated(["canonical_key", "fidelity"]).any()
    low = frame[frame["fidelity"] == 0.06]
    for _, row in frame[frame["fidelity"] == 1.0].iterrows():
        before = low[(low["canonical_key"] == row["canonical_key"]) & (low["step"] < row["step"])]
        if len(before):  # a promotion: it paid the 188 epochs it added, and was in its rung's top third
            table = nb201.table
            full_cost = table.frame["train_time_s_cifar10"].iat[table.row_of(nb201.space.parse(row["arch"]))]
            assert np.isclose(row["cost_s"], 0.94 * full_cost)
            rung = low[low["step"] < row["step"]]
            assert (rung["value"] > before["value"].iloc[0]).sum() < len(rung) // 3
    full_only = frame[frame["fidelity"] == 1.0]
    assert frame["best_so_far"].dropna().iloc[-1] == full_only["value"].max(), "incumbents count full results only"
    if name == "sh":
        assert set(full_only["canonical_key"]) <= set(low["canonical_key"]), "every architecture starts low"
    if name == "hb":
        assert not set(full_only["canonical_key"]) <= set(low["canonical_key"]), "some brackets start in full"


def test_a_search_stops_asking_once_its_cost_limit_is_spent(nb201):
    limit = 5 * float(nb201.table.values("train_time_s_cifar10").mean())
    frame = run_search("sh", nb201, max_cost_s=limit, seed=0).frame
    assert frame["cum_cost_s"].iloc[-2] < limit <= frame["cum_cost_s"].iloc[-1]
    capped = run_search("rs", nb201, budget=3, max_cost_s=limit * 100, seed=0).frame
    assert len(capped) == 3, "the budget still applies"


def test_a_multi_fidelity_strategy_without_fidelities_is_a_clear_error():
    table = table_from_frame("t", pd.DataFrame({"arch": load_benchmark("nb201-cifar10").frame["arch"].head(20),
                                                "acc": np.arange(20.0)}), "acc")
    with pytest.raises(InputDataError, match="needs an evaluator with several fidelities"):
        run_search("mf-bo", TabularEvaluator(table), budget=5)
    with pytest.raises(InputDataError, match="single-objective"):
        make_strategy("mf-bo", "nb201", objectives=["a", "b:min"])


def test_the_joint_model_sees_each_results_fidelity_and_scores_candidates_at_full_fidelity(nb201):
    strategy = make_strategy("mf-bo", nb201.space, seed=0)
    strategy.use_fidelities(nb201.fidelities)
    archs = nb201.space.enumerate()[:3]
    strategy.tell(run_search("rs", nb201, budget=1, seed=0).history)  # one full result
    trials = [t for t in run_search("sh", nb201, budget=2, seed=3).history if t.fidelity < 1]
    strategy.tell(trials)
    view = strategy.bo.step.data
    X = view.train_features(view.trials(strategy.history))
    assert X[:, -1].tolist() == [1.0] + [0.0] * len(trials), "fidelity code: 0 at the lowest rung, 1 at full"
    assert (view.featurize(archs)[:, -1] == 1).all(), "candidates and pending points sit at full fidelity"
    rung = make_strategy("mf-bo", nb201.space, seed=0, model="rung", n_initial=2)
    rung.use_fidelities(nb201.fidelities)
    rung.tell(trials)
    assert [t.fidelity for t in rung.bo.step.data.trials(rung.history)] == [0.06] * len(trials)


def test_without_eta_a_search_uses_the_strategys_own_and_records_it():
    from surrogate_nas.pipelines.jobs.config import SearchConfig

    assert SearchConfig(benchmark="nb201-cifar10", strategy="mf-bo").identity()["eta"] == 6.0
    assert SearchConfig(benchmark="nb201-cifar10", strategy="sh").identity()["eta"] == 3.0
    assert SearchConfig(benchmark="nb201-cifar10", strategy="mf-bo", eta=4.0).identity()["eta"] == 4.0
    assert "eta" not in SearchConfig(benchmark="nb201-cifar10", strategy="bo").identity(), "bo takes no eta"
