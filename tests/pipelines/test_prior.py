"""Searches that start from what is known: other tables as priors (``search --prior``).

Good, shuffled and negated CIFAR-10 values as priors of a CIFAR-100 search, on the real
tables: the good one is trusted and finds the optimum at once, the shuffled one is ignored,
the negated one is used the other way round; resume keeps the priors; bad sources are one
line and exit 2.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from conftest import experiment_runs, run_cli
from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines import api
from surrogate_nas.pipelines.jobs.priors import parse_source
from surrogate_nas.pipelines.search.evaluators import TabularEvaluator
from surrogate_nas.pipelines.search.prior import Prior, trust
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.pipelines.search.strategies import make_strategy
from surrogate_nas.tables import load_benchmark

TARGET, SOURCE = "nb201-cifar100", "nb201-cifar10"


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, str]:
    """CSVs of CIFAR-10's validation accuracy: as it is, shuffled over the rows, and negated."""
    table = load_benchmark(SOURCE)
    frame = table.frame[["arch", table.target]].rename(columns={table.target: "acc"})
    folder = tmp_path_factory.mktemp("priors")
    out = {}
    for kind, values in (("good", frame.acc.to_numpy()),
                         ("shuffled", np.random.default_rng(0).permutation(frame.acc.to_numpy())),
                         ("negated", -frame.acc.to_numpy())):
        out[kind] = str(folder / f"{kind}.csv")
        frame.assign(acc=values).to_csv(out[kind], index=False)
    return out


def _search(db: str, budget: int, prior, **options):
    return api.search(benchmark=TARGET, strategy="bo", budget=budget, prior=prior, db=db, mlflow=False, **options)


def _db(tmp_path, name="a") -> str:
    return f"sqlite:///{tmp_path / name}.db"


def test_a_good_prior_is_trusted_and_starts_from_the_sources_best(tmp_path):
    result = _search(_db(tmp_path), 40, SOURCE)
    optimum = load_benchmark(TARGET).optimum
    assert result.trace["value"].iloc[:4].max() == optimum, "CIFAR-10's best four hold CIFAR-100's best"
    (source,) = result.prior_trust
    assert source.label == "nb201-cifar10:cifar10_valid_acc_200ep"
    assert source.trust > 0.7 and source.spearman > 0.5
    assert "prior-nb201-cifar10" in result.name


@pytest.mark.parametrize("kind", ["shuffled", "negated"])
def test_a_bad_prior_is_ignored_or_used_the_other_way_round(tmp_path, sources, kind):
    result = _search(_db(tmp_path), 64, f"{sources[kind]}:acc")
    (source,) = result.prior_trust
    if kind == "shuffled":
        assert source.trust < 0.5, "a source that says nothing gets a long lengthscale"
    else:
        assert source.trust > 0.5 and source.spearman < -0.5, "a negated source is as informative, reversed"


@pytest.mark.parametrize("kind", ["good", "negated"])
def test_the_sources_best_come_next_while_its_ranks_agree_or_are_reversed(sources, kind):
    evaluator = TabularEvaluator(load_benchmark(SOURCE))  # CIFAR-10 searched, CIFAR-100 as the prior
    table = load_benchmark(TARGET)
    if kind == "negated":
        table = dataclasses.replace(table, frame=table.frame.assign(**{table.target: -table.frame[table.target]}))
    prior = Prior.from_tables([table], evaluator.space)
    bo = make_strategy("bo", evaluator.space, seed=0, prior=prior)
    trace = run_search(bo, evaluator, budget=20, batch_size=4).frame
    assert bo.walked > 0 and trace["regret"].iloc[-1] == 0, "CIFAR-100's 9th best is CIFAR-10's best"
    if kind == "negated":  # walked from its worst end once its ranks turned out reversed
        assert trace["value"].iloc[:4].max() < trace["value"].iloc[8:].max()


def test_a_prior_never_offers_an_architecture_the_searched_table_lacks(tmp_path):
    table = load_benchmark(TARGET)
    some = table.frame.sort_values(table.target).iloc[:400]  # the worst 400: none of CIFAR-10's best
    path = tmp_path / "worst.csv"
    some[["arch", table.target]].to_csv(path, index=False)
    result = api.search(benchmark=str(path), budget=12, prior=SOURCE, db=_db(tmp_path), mlflow=False)
    assert len(result.trace) == 12 and set(result.trace["arch"]) <= set(some["arch"])


def test_a_resumed_search_keeps_its_priors_and_its_trace(tmp_path):
    whole = _search(_db(tmp_path, "whole"), 20, [SOURCE]).trace
    db = _db(tmp_path, "parts")
    _search(db, 12, [SOURCE])
    resumed = _search(db, 20, [SOURCE])
    assert resumed.resumed == 12 and resumed.new == 8
    pd.testing.assert_frame_equal(resumed.trace, whole)
    with pytest.raises(InputDataError, match="prior"):
        _search(db, 24, ["nb201-cifar10:cifar10_valid_acc_12ep"], name=resumed.name)


@pytest.mark.parametrize("options", [{"strategy": "mf-bo"}, {"workers": 3},
                                     {"objectives": ["accuracy", "params_mb_cifar100:min"]}])
def test_multi_fidelity_asynchronous_and_multi_objective_searches_take_a_prior(tmp_path, options):
    result = api.search(benchmark=TARGET, budget=24, prior=SOURCE, db=_db(tmp_path), mlflow=False,
                        **{"strategy": "bo", **options})
    top = Prior.from_tables([load_benchmark(SOURCE)], load_benchmark(TARGET).search_space()).top(3)
    assert {a.canonical_key for a in top} <= set(result.trace["canonical_key"])
    assert result.prior_trust and result.prior_trust[0].spearman > 0


def test_a_search_without_a_prior_is_the_search_of_before(tmp_path):
    evaluator = TabularEvaluator(load_benchmark(TARGET))
    plain = run_search(make_strategy("bo", evaluator.space, seed=3), evaluator, budget=16, batch_size=4).frame
    searched = api.search(benchmark=TARGET, budget=16, seed=3, db=_db(tmp_path), mlflow=False, step_seconds=3.0)
    assert searched.prior_trust == ()
    pd.testing.assert_series_equal(plain["arch"], searched.trace["arch"])


def test_trust_is_zero_for_a_long_lengthscale_and_one_for_a_short_one():
    assert trust(1e3) < 1e-4 and trust(0.05) > 0.999 and trust(0.5) > trust(2.0)


def test_sources_are_parsed_with_their_column():
    assert parse_source("db") == ("db", None)
    assert parse_source("db:cifar100:test_acc") == ("db:cifar100", "test_acc")
    assert parse_source("nb201-cifar10:cifar10_valid_acc_12ep") == ("nb201-cifar10", "cifar10_valid_acc_12ep")


@pytest.mark.parametrize("args, match", [
    (["--prior", TARGET], "is the table being predicted"),
    (["--prior", f"{SOURCE}:nope"], "no metric column 'nope'"),
    (["--prior", "nb101-cifar10-subset"], "nb101"),
    (["--prior", SOURCE, "--strategy", "rs"], "takes no prior"),
])
def test_bad_priors_are_one_line_and_exit_2(workdir, args, match):
    out = run_cli("search", "--benchmark", TARGET, "--budget", "8", "--no-mlflow", *args)
    assert out.returncode == 2
    text = (out.stdout + out.stderr).strip()
    assert match in text and "Traceback" not in text and len(text.splitlines()) == 1


def test_the_cli_prints_each_sources_trust_and_mlflow_records_them(workdir):
    out = run_cli("search", "--benchmark", TARGET, "--budget", "24", "--prior", SOURCE, check=True)
    assert "prior nb201-cifar10:cifar10_valid_acc_200ep: trusted" in out.stdout
    _, runs = experiment_runs()
    (parent,) = [r for r in runs if r.data.tags.get("kind") == "search"]
    assert parent.data.params["prior"] == "nb201-cifar10:cifar10_valid_acc_200ep"
    assert 0 <= parent.data.metrics["prior_trust_0"] <= 1
    out = run_cli("search", "--benchmark", TARGET, "--budget", "12", "--no-mlflow", "--prior", SOURCE, "--seed", "1",
                  check=True)
    assert "prior nb201-cifar10:cifar10_valid_acc_200ep: trust not measured" in out.stdout


def test_a_live_search_takes_another_datasets_results_from_the_database(workdir, tmp_path):
    from surrogate_nas.storage import open_store
    from user_data import write_images

    fast = ["--epochs", "1", "-C", "4"]
    rng = np.random.default_rng(0)
    np.savez(workdir / "other.npz", x=rng.random((90, 8, 8)).astype(np.float32), y=np.repeat([0, 1, 2], 30))
    run_cli("seed", "--dataset", "other.npz", "-n", "6", *fast, "--no-mlflow", check=True)
    (other,) = {e.dataset for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()}
    images = write_images(tmp_path / "colours", per_class=30)
    search = ["search", "--benchmark", images, "--budget", "4", "--batch-size", "2", *fast, "--no-mlflow"]
    out = run_cli(*search, "--prior", f"db:{other}", check=True).stdout
    assert "4 new trainings" in out and f"prior db:nb201-{other}-" in out
    trained = [e for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations() if e.dataset != other]
    (mine,) = {e.dataset for e in trained}
    best = {e.canonical_key for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()
            if e.dataset == other and e.valid_acc == max(x.valid_acc for x in open_store(
                os.environ["SURROGATE_NAS_DB"]).evaluations() if x.dataset == other)}
    assert best & {e.canonical_key for e in trained}, "the other dataset's best comes first"
    refused = run_cli(*search, "--prior", f"db:{mine}")
    assert refused.returncode == 2 and "is what this search trains" in refused.stdout + refused.stderr


def test_a_live_search_of_a_new_image_folder_starts_from_the_nb201_tables(workdir, tmp_path):
    from surrogate_nas.storage import open_store
    from user_data import write_images

    images = write_images(tmp_path / "colours", per_class=30)
    tables = ["nb201-cifar10", "nb201-cifar100", "nb201-cifar10-12ep"]
    out = run_cli("search", "--benchmark", images, "--budget", "10", "--batch-size", "5", "--epochs", "1", "-C", "4",
                  "--no-mlflow", "--prior", ",".join(tables), check=True).stdout
    assert "10 new trainings" in out
    assert all(f"prior {t}:" in out for t in tables), "each source's trust is in the summary"
    trained = {e.canonical_key for e in open_store(os.environ["SURROGATE_NAS_DB"]).evaluations()}
    for name in tables:
        table = load_benchmark(name)
        best = table.search_space().parse(table.frame.loc[table.frame[table.target].idxmax(), "arch"])
        assert best.canonical_key in trained, f"{name}'s best cell is trained first"


def test_a_source_whose_results_are_all_alike_says_nothing_and_the_search_goes_on(tmp_path):
    table = load_benchmark(SOURCE)
    path = tmp_path / "flat.csv"
    table.frame[["arch"]].iloc[:200].assign(acc=33.3).to_csv(path, index=False)
    result = _search(_db(tmp_path), 14, [f"{path}:acc"])
    assert len(result.trace) == 14
    prior = Prior.from_tables([load_benchmark(str(path), "acc")], load_benchmark(TARGET).search_space())
    columns = prior.columns(load_benchmark(TARGET).search_space().enumerate()[:50])
    assert np.ptp(columns) == 0, "every architecture, listed in the source or not, gets the same score"


def test_twins_share_one_score_whichever_is_asked_about_first(sources):
    from surrogate_nas.spaces import get_space

    space = get_space("nb201")
    by_key = {}
    for cell in space.sample_unseen(400, np.random.default_rng(0)):
        by_key.setdefault(cell.canonical_key, cell)
    twins = next((a, b) for b in (space.parse(s) for s in load_benchmark(SOURCE).frame["arch"][:3000])
                 for a in [by_key.get(b.canonical_key)] if a is not None and a.to_string() != b.to_string())
    shuffled = load_benchmark(sources["shuffled"], "acc")
    first, second = (Prior.from_tables([shuffled], space) for _ in range(2))
    assert first.columns(list(twins)).tolist() == second.columns(list(twins[::-1]))[::-1].tolist()
    assert first.columns(list(twins))[0, 0] == first.columns(list(twins))[1, 0]
