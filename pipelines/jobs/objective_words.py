"""What ``--objectives`` and ``--constraint`` words mean, for a table or for live training.

A word names a quantity: ``accuracy``; ``params`` or ``flops`` (on a table: its size column, or
counted on the reference network of the table's space when the space builds networks, e.g. a
space of choices with a builder); a table column (``COLUMN:min``); a device's measured latency,
``latency@DEVICE`` for a setting of ``surrogate-nas devices`` (a column of the NAS-Bench-201
tables, looked up by cell for live NB-201 searches and user tables of NB-201 cells); or
``latency@MODEL``, a latency model made by ``surrogate-nas fit --target latency`` (its saved
name or its ``.zip`` file), predicted for every architecture. Latency is minimised unless the
word says ``:max``.

Quantities that are not table columns or live measurements come back as
:class:`~surrogate_nas.pipelines.search.evaluators.ArchMetric` values, which the evaluator adds to every
observation and knows without training (so a constraint on them skips architectures
before they are trained).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.search.constraints import Constraint, split_constraint
from surrogate_nas.pipelines.search.evaluators import ArchMetric
from surrogate_nas.pipelines.search.history import Objective, parse_objectives
from surrogate_nas.tables import BenchmarkTable
from surrogate_nas.devices import DEVICES

LIVE_OBJECTIVE_WORDS: dict[str, Objective] = {
    "accuracy": Objective("valid_acc", True),
    "valid_acc": Objective("valid_acc", True),
    "params": Objective("params", False),
    "flops": Objective("flops", False),
    "train_seconds": Objective("train_seconds", False),
}
"""What each ``--objectives`` word means for a live search (``latency@...`` aside)."""

LATENCY = "latency@"
LATENCY_QUANTITY = "latency"
"""What ``fit --target latency`` records in a saved model, and ``latency@MODEL`` requires."""


@dataclass(frozen=True)
class SearchTerms:
    """Resolved ``--objectives`` and ``--constraint`` words.

    Attributes:
        objectives: with directions; the first is the searched target.
        constraints: bounds on reported quantities.
        metrics: quantities the evaluator must compute from the architecture.
    """

    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    metrics: tuple[ArchMetric, ...] = ()


def resolve_terms(objectives, constraints=(), table: BenchmarkTable | None = None, space=None,
                  network: tuple | None = None) -> SearchTerms:
    """Resolve words for a search of ``table`` (or live training in ``space`` when ``table`` is None).

    ``network`` is ``(NetworkConfig, input_shape, num_classes)`` of a live search's networks, which
    ``latency@local`` and ``latency@cuda`` time (default: the space's reference network).

    Raises:
        InputDataError: a word that names nothing, a table column without a direction, a
            malformed constraint; the message lists what is accepted.
    """
    space = table.space if table is not None else space
    metrics: dict[str, ArchMetric] = {}
    objs = []
    for word in objectives:
        name, direction = _split_direction(str(word), "objective")
        base, metric = _quantity(name, table, space, "objective", network)
        if metric is not None:
            metrics[metric.name] = metric
        if table is not None and metric is None and direction is None and base is None:
            raise InputDataError(f"objective {name!r}: say {name}:min or {name}:max")
        maximize = base.maximize if direction is None else direction == "max"
        objs.append(Objective(base.name if base else name, maximize))
    cons = []
    for text in constraints:
        word, upper, bound = split_constraint(text)
        base, metric = _quantity(word, table, space, "constraint", network)
        if metric is not None:
            metrics[metric.name] = metric
        cons.append(Constraint(base.name if base else word, bound, upper))
    return SearchTerms(parse_objectives(objs), tuple(cons), tuple(metrics.values()))


def resolve_objectives(words, table: BenchmarkTable | None, space=None) -> tuple[Objective, ...]:
    """Turn ``--objectives`` words into objectives with directions (see :func:`resolve_terms`).

    For live training the words are those of :data:`LIVE_OBJECTIVE_WORDS` and
    ``latency@...``. For a table, ``accuracy`` is the table's target (in its direction),
    ``params`` its size column (minimised), ``latency@DEVICE`` a device's latency column
    (minimised), and any other word is a column name with an explicit direction
    (``COLUMN:min`` or ``COLUMN:max``); a bare column other than the target is refused
    rather than guessed.
    """
    return resolve_terms(words, (), table, space).objectives


def _split_direction(word: str, what: str) -> tuple[str, str | None]:
    name, sep, direction = word.strip().rpartition(":")
    if not sep or (name.startswith(LATENCY) and direction not in ("min", "max")):
        return word.strip(), None
    if direction not in ("min", "max"):
        raise InputDataError(f"{what} {word!r}: direction must be 'min' or 'max'")
    return name, direction


def _quantity(name: str, table: BenchmarkTable | None, space, what: str,
              network: tuple | None = None) -> tuple[Objective | None, ArchMetric | None]:
    """The quantity ``name`` stands for: an objective with its default direction (None: a
    table column that needs one), and the metric to compute when it is not reported anyway."""
    if name.startswith(LATENCY):
        target = name[len(LATENCY):].strip().lower()
        if target in ("local", "cuda") or target.startswith("cuda:"):
            from surrogate_nas.pipelines.jobs.local_latency import local_latency_metric

            metric = local_latency_metric(target, space, *(network or ()))
            return Objective(metric.name, False), metric
        return _latency(name[len(LATENCY):], table, space)
    if table is None:
        if name not in LIVE_OBJECTIVE_WORDS:
            raise InputDataError(f"{what} {name!r} cannot be searched with live training; expected one of "
                                 f"{', '.join(LIVE_OBJECTIVE_WORDS)} or latency@DEVICE")
        return LIVE_OBJECTIVE_WORDS[name], None
    if name in ("accuracy", table.target):
        return Objective(table.target, table.maximize), None
    if name == "params" and table.size_column:
        return Objective(table.size_column, False), None
    if name in table.numeric_columns:
        return (Objective(name, True) if what == "constraint" else None), None
    counted = space is not None and getattr(space, "has_network", False)
    if name in COUNTED and counted:
        return Objective(name, False), counted_metric(name, space)
    words = "accuracy, params, flops, latency@DEVICE" if counted else "accuracy, params, latency@DEVICE"
    raise InputDataError(f"{what} {name!r} matches no column of {table.name}; columns: "
                         f"{', '.join(table.numeric_columns)} (or {words})")


COUNTED = ("params", "flops")
"""Words a space that builds networks counts for any architecture (tables without such columns)."""


def counted_metric(name: str, space) -> ArchMetric:
    """``params`` or ``flops`` of each architecture's reference network (the space's
    ``reference_network`` for its ``reference_input`` and ``reference_classes``), as the ``cost``
    features count them."""
    index = COUNTED.index(name)

    def compute(archs):
        return np.array([space.reference_cost(a)[index] for a in archs], dtype=np.float64)

    shape = "x".join(map(str, space.reference_input))
    return ArchMetric(name, compute, f"{name} of the {space.name} space's reference network "
                                     f"({shape} inputs, {space.reference_classes} classes)",
                      per_candidate=False)  # counting may build each network


def _latency(target: str, table: BenchmarkTable | None, space) -> tuple[Objective, ArchMetric | None]:
    device = DEVICES.get(target.strip().lower())
    if device is not None:
        if table is not None and device.column in table.numeric_columns:
            return Objective(device.column, False), None
        if space is None or not space.measures_latency_on(device.name):
            name = "?" if space is None else space.name
            raise InputDataError(f"latency@{target}: no measured latency on {device.name} is packaged for the {name} "
                                 "space; measure a few architectures and fit a model: "
                                 "surrogate-nas fit --target latency --benchmark measured.csv")
        metric = ArchMetric(device.column, lambda archs, d=device.name: space.measured_latency(archs, d),
                            f"latency on {device.name} (ms), from the packaged table")
        return Objective(device.column, False), metric
    metric = latency_model_metric(target, space)
    return Objective(metric.name, False), metric


def latency_model_metric(name: str, space) -> ArchMetric:
    """The predictions of a latency model saved by ``fit --target latency`` (a name or a ``.zip`` file).

    Raises:
        InputDataError: no such device or model, a model of another quantity, or of another space.
    """
    from surrogate_nas.pipelines.tracking.predictor_store import load_bundle_file

    path = Path(name).expanduser()
    if path.suffix == ".zip" or path.is_file():
        if not path.is_file():
            raise InputDataError(f"latency@{name}: no such file")
        bundle = load_bundle_file(path)
    else:
        bundle = _saved_latency_model(name)
    if bundle.get("quantity") != LATENCY_QUANTITY:
        raise InputDataError(f"latency@{name}: the saved predictor models {bundle.get('target')!r}, not latency; "
                             "fit one with surrogate-nas fit --target latency")
    fitted_on = bundle["space"]
    if space is not None and space.name != fitted_on:
        raise InputDataError(f"latency@{name}: the model was fitted on the {fitted_on} space, not {space.name}")
    predictor, kind = bundle["predictor"], bundle["features"]
    label = re.sub(r"[^a-z0-9_]+", "_", (path.stem if path.suffix == ".zip" else name).lower()).strip("_")

    def predict(archs):
        return predictor.predict(space.features(archs, kind))[0]

    return ArchMetric(f"pred_lat_ms_{label}", predict,
                      f"latency (ms) predicted by {name} from {bundle.get('n_train')} measurements")


def _saved_latency_model(name: str) -> dict:
    from surrogate_nas.pipelines.tracking.predictor_store import load_bundle
    from surrogate_nas.pipelines.tracking.tracker import Tracker

    try:
        return load_bundle(Tracker(), name)
    except InputDataError:
        raise InputDataError(f"latency@{name}: {name!r} is neither a device setting ({', '.join(DEVICES)}) nor a "
                             "latency model saved by `surrogate-nas fit --target latency --name NAME` "
                             "(or its .zip file)") from None
