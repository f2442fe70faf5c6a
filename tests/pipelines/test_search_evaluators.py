"""Tabular evaluator: values from the table, twins found, bad columns refused."""

import numpy as np
import pandas as pd
import pytest

from surrogate_nas.spaces.nb201.cell import Cell, all_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.evaluators import Evaluator, TabularEvaluator
from surrogate_nas.pipelines.search.history import Suggestion
from surrogate_nas.pipelines.search.pareto import hypervolume, pareto_mask
from surrogate_nas.tables import load_benchmark, table_from_frame


@pytest.fixture(scope="module")
def table():
    return load_benchmark("nb201-cifar10")


def test_observation_carries_target_test_size_and_cost(table):
    ev = TabularEvaluator(table)
    assert isinstance(ev, Evaluator)
    cell = Cell.from_string(table.frame["arch"].iloc[123])
    (obs,) = ev.evaluate([Suggestion(cell)])
    row = table.frame.iloc[123]
    assert obs.value == row[table.target]
    assert obs.test_value == row[table.test_column]
    assert obs.cost_s == row[table.cost_column]
    assert obs.objectives[table.size_column] == row[table.size_column]


def test_missing_cell_found_through_its_canonical_twin(table):
    twins = {}
    for c in all_cells():
        twins.setdefault(c.canonical_key, []).append(c)
    a, b = next(v for v in twins.values() if len(v) > 1)[:2]
    frame = table.frame[table.frame["arch"] != b.to_string()].reset_index(drop=True)
    small = table_from_frame("without-twin", frame, table.target)
    ev = TabularEvaluator(small)
    value = ev.evaluate([Suggestion(b)])[0].value
    assert value == small.lookup(b)
    assert value in {table.lookup(t) for t in twins[b.canonical_key] if t != b}


def test_unknown_objective_column_is_an_input_error(table):
    with pytest.raises(InputDataError, match="not numeric columns"):
        TabularEvaluator(table, ["accuracy_on_mars"])


def test_cell_absent_from_a_small_table_is_an_input_error():
    frame = pd.DataFrame({"arch": [Cell(("nor_conv_3x3",) * 6).to_string()], "acc": [90.0]})
    ev = TabularEvaluator(table_from_frame("one", frame, "acc"))
    with pytest.raises(InputDataError, match="not in table"):
        ev.evaluate([Suggestion(Cell(("skip_connect",) * 6))])


def test_hypervolume_of_a_known_front():
    Y = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0], [1.0, 1.0]])
    assert hypervolume(Y, [0.0, 0.0]) == pytest.approx(3 + 2 + 1)
    assert pareto_mask(Y).tolist() == [True, True, True, False]


def test_the_evaluators_keep_the_contract(table):
    """:func:`surrogate_nas.testing.check_evaluator` on a named table (a latency metric added, fidelities)
    and on one of its fidelities alone."""
    from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
    from surrogate_nas.testing import check_evaluator

    terms = resolve_terms(["accuracy", "latency@pixel3", "flops"], (), table)
    check_evaluator(TabularEvaluator(table, objectives=[o.name for o in terms.objectives], metrics=terms.metrics))
    check_evaluator(TabularEvaluator(load_benchmark("nb201-cifar10-12ep")))
