"""The search runner: budgets, trace columns, regret, resume, callbacks."""

import numpy as np
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.backends import SimulatedBackend
from surrogate_nas.pipelines.search.evaluators import Evaluator, Observation, TabularEvaluator
from surrogate_nas.pipelines.search.pareto import reference_point
from surrogate_nas.pipelines.search.runner import run_search
from surrogate_nas.spaces import get_space
from surrogate_nas.spaces.nb201.cell import Cell, canonical_cells
from surrogate_nas.tables import load_benchmark


class CountingEvaluator(TabularEvaluator):
    """A real tabular evaluator that also records every architecture it was asked for."""

    def __init__(self, table, objectives=None):
        super().__init__(table, objectives)
        self.asked: list = []

    def evaluate(self, suggestions):
        self.asked += [s.arch for s in suggestions]
        return super().evaluate(suggestions)


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


@pytest.fixture(scope="module")
def evaluator(table):
    return TabularEvaluator(table)


@pytest.mark.parametrize("budget,batch_size", [(25, 1), (25, 4), (7, 10)])
def test_budget_is_respected_exactly(evaluator, budget, batch_size):
    trace = run_search("rs", evaluator, budget=budget, batch_size=batch_size, seed=0)
    assert len(trace.frame) == budget
    assert trace.frame["step"].tolist() == list(range(1, budget + 1))
    assert trace.frame["batch"].max() == -(-budget // batch_size)


def test_trace_columns_incumbent_and_regret(table, evaluator):
    trace = run_search("rea", evaluator, budget=30, batch_size=2, seed=1)
    f = trace.frame
    for column in ["step", "arch", "value", "best_so_far", "test_value", "test_of_best", "regret",
                   "cost_s", "cum_cost_s"]:
        assert column in f.columns
    assert not {"fit_s", "acq_s", "suggest_s"} & set(f.columns), "timings are measurements, not the trace"
    assert list(trace.timings.columns) == ["batch", "fit_s", "screen_s", "acq_s", "suggest_s", "suggest_cpu_s"]
    assert trace.timings["batch"].tolist() == sorted(f["batch"].unique().tolist())
    assert np.all(np.diff(f["best_so_far"]) >= 0)
    np.testing.assert_allclose(f["best_so_far"], np.maximum.accumulate(f["value"]))
    np.testing.assert_allclose(f["regret"], table.optimum - f["best_so_far"])
    assert (f["regret"] >= 0).all()
    np.testing.assert_allclose(f["cum_cost_s"], np.cumsum(f["cost_s"]))
    best = trace.best
    assert f["best_so_far"].iloc[-1] == best.value
    assert f["test_of_best"].iloc[-1] == table.lookup(best.arch, table.test_column)
    for arch, value in zip(f["arch"], f["value"]):
        assert value == table.lookup(Cell.from_string(arch))


def test_same_seed_same_search(evaluator):
    a = run_search("ls", evaluator, budget=20, seed=5).frame["arch"].tolist()
    b = run_search("ls", evaluator, budget=20, seed=5).frame["arch"].tolist()
    c = run_search("ls", evaluator, budget=20, seed=6).frame["arch"].tolist()
    assert a == b
    assert a != c


@pytest.mark.parametrize("name", ["rs", "rea", "ls"])
def test_resume_continues_to_the_budget_without_re_evaluating(table, name):
    full = run_search(name, TabularEvaluator(table), budget=12, seed=2)
    done = full.history[:8]
    counting = CountingEvaluator(table)
    resumed = run_search(name, counting, budget=20, seed=2, initial=done)
    assert len(resumed.history) == 20
    assert len(counting.asked) == 12
    assert not {t.key for t in done} & {c.canonical_key for c in counting.asked}
    assert resumed.frame["source"].tolist() == ["initial"] * 8 + ["search"] * 12
    assert resumed.frame["best_so_far"].iloc[-1] >= max(t.value for t in done)


def test_initial_as_tuples_and_budget_already_spent(table):
    cells = list(canonical_cells()[:5])
    counting = CountingEvaluator(table)
    initial = [(c.to_string(), table.lookup(c)) for c in cells]
    trace = run_search("rs", counting, budget=5, initial=initial)
    assert counting.asked == []
    assert len(trace.frame) == 5


def test_initial_with_repeated_architecture_is_an_input_error(evaluator):
    c = canonical_cells()[0]
    with pytest.raises(InputDataError, match="repeats"):
        run_search("rs", evaluator, budget=5, initial=[(c, 1.0), (c, 2.0)])


def test_callback_sees_each_batch_and_can_stop(evaluator):
    seen = []

    def callback(step):
        seen.append((step.batch, len(step.trials), len(step.history), len(step.rows)))
        return step.batch == 3

    trace = run_search("rs", evaluator, budget=50, batch_size=2, callback=callback)
    assert seen == [(1, 2, 2, 2), (2, 2, 4, 2), (3, 2, 6, 2)]
    assert len(trace.history) == 6


def test_wall_clock_limit_stops_the_search(evaluator):
    trace = run_search("rs", evaluator, budget=None, wall_clock_s=1e-9)
    assert len(trace.history) <= 1


class KeyLengthEvaluator(Evaluator):
    """Declares no optimum and no reference point: regret is then absent."""

    space = get_space("nb201")
    target = "len"

    def reported(self):
        return ("len", "ops")

    def evaluate(self, suggestions):
        return [Observation(value=float(len(s.key)), objectives={"len": len(s.key), "ops": len(set(s.arch.ops))})
                for s in suggestions]


def test_evaluator_without_optimum_gives_no_regret():
    trace = run_search("rs", KeyLengthEvaluator(), budget=5)
    assert trace.frame["regret"].isna().all()


def test_reference_point_comes_from_the_first_evaluations_or_the_user(table):
    objectives = ["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]
    ev = TabularEvaluator(table, objectives)
    trace = run_search("rs", ev, budget=12, batch_size=4, objectives=objectives, seed=1)
    first = np.array([[t.objectives[objectives[0]], -t.objectives["params_mb_cifar10"]] for t in trace.history[:4]])
    np.testing.assert_allclose(trace.ref_point, reference_point(first))
    assert (trace.ref_point <= first.min(axis=0)).all(), "every evaluated point dominates it"
    assert trace.ref_point[0] > table.values().min(), "never the table's nadir: unevaluated rows stay unseen"
    mine = run_search("rs", ev, budget=8, batch_size=4, objectives=objectives, seed=1, ref_point=[50.0, -2.0])
    np.testing.assert_array_equal(mine.ref_point, [50.0, -2.0])
    with pytest.raises(InputDataError, match="ref_point needs 2 values"):
        run_search("rs", ev, budget=8, objectives=objectives, ref_point=[1.0])


def test_simulated_workers_finish_in_cost_order_and_keep_them_busy(table):
    ev = TabularEvaluator(table)
    trace = run_search("rs", ev, budget=24, seed=0, backend=SimulatedBackend(ev, workers=4))
    f = trace.frame
    assert len(f) == 24 and f["arch"].nunique() == 24
    assert set(f["worker"]) == {0, 1, 2, 3}
    assert f["sim_time_s"].is_monotonic_increasing
    # Each worker runs its evaluations back to back: its finish times are the running sums of their costs.
    for _, part in f.groupby("worker"):
        np.testing.assert_allclose(part["sim_time_s"], np.cumsum(part["cost_s"]))
    serial = run_search("rs", ev, budget=24, seed=0, backend=SimulatedBackend(ev, workers=1)).frame
    assert serial["sim_time_s"].iloc[-1] == pytest.approx(serial["cost_s"].sum())
    assert f["sim_time_s"].iloc[-1] < 0.4 * serial["sim_time_s"].iloc[-1]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"budget": None, "wall_clock_s": None}, "budget"),
        ({"budget": 0}, "budget"),
        ({"budget": 5, "batch_size": 0}, "batch_size"),
        ({"budget": 5, "strategy": "simulated-annealing"}, "unknown search strategy"),
        ({"budget": 5, "objectives": ["cifar10_valid_acc_200ep:up"]}, "direction"),
        ({"budget": 5, "objectives": ["cifar10_valid_acc_200ep", "no_such_column:min"]}, "no_such_column"),
    ],
)
def test_bad_arguments_are_input_errors(evaluator, kwargs, match):
    kwargs = {"strategy": "rs", **kwargs}
    with pytest.raises(InputDataError, match=match):
        run_search(evaluator=evaluator, **kwargs)


def test_multi_objective_random_search_hypervolume_and_front(table):
    objectives = ["cifar10_valid_acc_200ep", "params_mb_cifar10:min"]
    trace = run_search("rs", TabularEvaluator(table, objectives), budget=40, batch_size=4, objectives=objectives)
    hv = trace.frame["hypervolume"].to_numpy()
    assert hv[0] > 0
    assert np.all(np.diff(hv) >= -1e-9)
    front = trace.pareto_front()
    acc, size = front["cifar10_valid_acc_200ep"].to_numpy(), front["params_mb_cifar10"].to_numpy()
    for i in range(len(front)):
        dominated = (acc >= acc[i]) & (size <= size[i]) & ((acc > acc[i]) | (size < size[i]))
        assert not dominated.any()
    every = np.array([[t.objectives["cifar10_valid_acc_200ep"], t.objectives["params_mb_cifar10"]] for t in trace.history])
    for a, s in zip(acc, size):
        assert not (((every[:, 0] > a) & (every[:, 1] <= s)) | ((every[:, 0] >= a) & (every[:, 1] < s))).any()


def test_a_strategy_that_maximises_is_refused_on_a_search_that_minimises(evaluator):
    from surrogate_nas.pipelines.search.strategies import make_strategy

    strategy = make_strategy("rs", evaluator.space, seed=0)  # built without objectives: maximises
    with pytest.raises(InputDataError, match="minimises cifar10_valid_acc_200ep"):
        run_search(strategy, evaluator, budget=4, objectives=["cifar10_valid_acc_200ep:min"])
    told = make_strategy("rs", evaluator.space, objectives=["cifar10_valid_acc_200ep:min"], seed=0)
    assert len(run_search(told, evaluator, budget=4, objectives=["cifar10_valid_acc_200ep:min"]).frame) == 4
