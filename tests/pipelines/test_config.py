"""The search configuration: one declaration of every option, and what stored searches need from it.

The CLI's options are built from the config dataclasses; the Python API spells its keywords out
(for help() and editors), so these tests keep them in step with the dataclasses. Identities
written by earlier releases must keep resuming.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import MISSING, fields
from pathlib import Path

import click
import pytest

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines import api
from surrogate_nas.pipelines.cli import app
from surrogate_nas.pipelines.jobs.config import EvaluationConfig, ExecutionConfig, SearchConfig, TrackingConfig
from surrogate_nas.pipelines.jobs.options import SAME, api_default, option_of, options_of
from surrogate_nas.storage import open_store

IDENTITIES = Path(__file__).resolve().parents[1] / "data" / "search_identities_0_2_0.json"
CALLBACKS = ("on_step", "on_start", "on_activity", "on_notice")


def _option_fields(*classes):
    return {f.name: f for cls in classes for f, _ in options_of(cls)}


def _command(name: str) -> click.Command:
    app._register_commands()
    return app.cli.commands[name]


def test_search_takes_exactly_the_config_fields_as_keywords_with_their_defaults():
    params = dict(inspect.signature(api.search).parameters)
    for extra in ("dataset", "config", "tracking", *CALLBACKS):
        assert params.pop(extra).default is None, extra
    assert params.pop("benchmark").default is None  # the config's `benchmark`, or the API's dataset=
    declared = _option_fields(SearchConfig, EvaluationConfig, ExecutionConfig, TrackingConfig)
    declared.pop("benchmark")
    assert set(params) == set(declared), "api.search keywords and the config fields differ"
    for name, f in declared.items():
        assert params[name].default == api_default(f), name


def test_prepare_seed_takes_the_execution_and_tracking_fields_with_their_defaults():
    params = inspect.signature(api.prepare_seed).parameters
    for name, f in _option_fields(ExecutionConfig, TrackingConfig).items():
        assert name in params and params[name].default == api_default(f), name
    for name in ("preset", "augment", "image_size", "data_dir", "device"):
        assert params[name].default == api_default(_option_fields(EvaluationConfig)[name]), name


@pytest.mark.parametrize("command, classes", [
    ("search", (SearchConfig, EvaluationConfig, ExecutionConfig, TrackingConfig)),
    ("seed", (ExecutionConfig, TrackingConfig)),
])
def test_the_cli_options_are_the_config_fields(command, classes):
    params = {p.name: p for p in _command(command).params}
    for name, f in _option_fields(*classes).items():
        opt = option_of(f)
        param = params[name]
        flags = {part for flag in opt.flags for part in flag.split("/")}
        assert flags == set(param.opts + param.secondary_opts), name
        expected = opt.cli_default if opt.cli_default is not SAME else (None if f.default is MISSING else f.default)
        if opt.negated:
            expected = True
        got = param.default
        if opt.sequence and not opt.multiple and got is not None:
            got = tuple(param.process_value(click.Context(_command(command)), got))
        assert got == expected, name


def test_one_check_one_message_template():
    with pytest.raises(InputDataError, match=r"^--budget must be >= 1, got 0$"):
        SearchConfig("nb201-cifar10", budget=0)
    with pytest.raises(InputDataError, match=r"^--eta must be > 1, got 1$"):
        SearchConfig("nb201-cifar10", strategy="sh", eta=1)
    with pytest.raises(InputDataError, match=r"^--acquisition must be one of logei, ucb, ts, got 'pi'$"):
        SearchConfig("nb201-cifar10", acquisition="pi")
    with pytest.raises(InputDataError, match=r"^--preset must be one of nb201, got 'fast'$"):
        EvaluationConfig(preset="fast")
    with pytest.raises(InputDataError, match=r"^--workers must be >= 1, got 0$"):
        ExecutionConfig(workers=0)
    with pytest.raises(InputDataError, match=r"^--stale-after must be >= 0, got -1$"):
        TrackingConfig(stale_after=-1)
    with pytest.raises(InputDataError, match="unknown executor 'nope'"):
        ExecutionConfig(executor="nope")
    with pytest.raises(InputDataError, match="--objectives must be a list"):
        SearchConfig("nb201-cifar10", objectives="accuracy")


def test_from_options_splits_flat_options_and_refuses_unknown_ones():
    config = SearchConfig.from_options(benchmark="digits", epochs=2, workers=2, executor="local", seed=3)
    assert config.evaluation.epochs == 2 and config.execution.workers == 2 and config.seed == 3
    assert config.objectives == ("accuracy",) and isinstance(config.objectives, tuple)
    with pytest.raises(TypeError):
        SearchConfig.from_options(benchmark="digits", epoch=2)


def test_a_named_tables_own_space_is_the_default():
    assert SearchConfig("darts-cifar10-subset").search_space().name == "darts"
    assert SearchConfig("nb201-cifar10").identity()["space"] == "nb201"


def _stored_identities():
    data = json.loads(IDENTITIES.read_text())
    return data, [pytest.param(s, id=s["name"]) for s in data["searches"]]


@pytest.mark.parametrize("stored", _stored_identities()[1])
def test_identities_written_by_0_2_0_are_those_of_the_same_options_now(stored):
    config = SearchConfig.from_options(**stored["options"])
    assert config.resolved_name() == stored["name"]
    assert json.loads(json.dumps(config.identity())) == stored["identity"]


def test_a_search_stored_by_0_2_0_resumes(tmp_path):
    data, _ = _stored_identities()
    assert SearchConfig.identity_defaults() == data["identity_defaults"]
    with open_store(f"sqlite:///{tmp_path / 'old.db'}") as store:
        for stored in data["searches"]:
            old = store.get_or_create_search(stored["name"], stored["identity"], data["identity_defaults"])
            config = SearchConfig.from_options(**stored["options"])
            assert store.get_or_create_search(config.resolved_name(), config.identity(),
                                              SearchConfig.identity_defaults()) == old
        # keys a release before 0.2.0 did not store stand for their defaults
        first = data["searches"][0]
        older = {k: v for k, v in first["identity"].items() if k not in ("space", "acquisition", "ref_point")}
        sid = store.get_or_create_search("older", older)
        config = SearchConfig.from_options(**first["options"], name="older")
        assert store.get_or_create_search("older", config.identity(), SearchConfig.identity_defaults()) == sid
        with pytest.raises(InputDataError, match="seed"):
            changed = SearchConfig.from_options(**first["options"], name="older", seed=5)
            store.get_or_create_search("older", changed.identity(), SearchConfig.identity_defaults())


def test_search_takes_a_ready_config_but_not_both(tmp_path):
    config = SearchConfig("nb201-cifar10", strategy="rs", budget=3)
    tracking = TrackingConfig(db=f"sqlite:///{tmp_path / 'a.db'}", mlflow=False)
    result = api.search(config=config, tracking=tracking)
    assert result.name == "rs-nb201-cifar10-accuracy-seed0" and result.new == 3
    again = api.search(benchmark="nb201-cifar10", strategy="rs", budget=3, db=tracking.db, mlflow=False)
    assert again.new == 0 and again.resumed == 3, "the keywords make the same search"
    with pytest.raises(InputDataError, match="not both"):
        api.search(config=config, tracking=tracking, budget=5)
    with pytest.raises(InputDataError, match="not both"):
        api.search(config=config, tracking=tracking, benchmark="nb201-cifar10")
    with pytest.raises(InputDataError, match="not both"):
        api.search(config=config, tracking=tracking, mlflow=False)


def test_every_field_of_the_configs_is_an_option():
    for cls in (EvaluationConfig, ExecutionConfig, TrackingConfig):
        assert all(option_of(f) is not None for f in fields(cls)), cls
    assert {f.name for f in fields(SearchConfig) if option_of(f) is None} == {"evaluation", "execution"}
