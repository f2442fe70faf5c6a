"""What ``export`` ships: architectures with the setting they were (or are to be) trained under.

From a stored live search: its best feasible full-fidelity trial, its Pareto front, or the K-th
member of that front (best first by the first objective), each with the evaluation the search
stored (network, recipe, seed, dataset fingerprint). From an architecture: the training settings
given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from surrogate_nas.datasets import DatasetSpec, is_dataset
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import Evaluation, NetworkConfig, TrainConfig
from surrogate_nas.spaces import DEFAULT_SPACE, SearchSpace, get_space
from surrogate_nas.storage.records import SearchInfo


@dataclass(frozen=True)
class ExportTarget:
    """One architecture to train (or retrain) and export.

    Attributes:
        space: its search space.
        arch: the architecture.
        network, train, seed: what it is trained with.
        data: where the data comes from.
        label: ``best``, ``front-K`` or ``arch`` (the sub-folder of a front's export).
        evaluation: what the search stored for it, if it came from a search.
        search: the search it came from, if any.
        weights: the weights the search kept of that training (``--keep-weights``), if any.
    """

    space: SearchSpace
    arch: object
    network: NetworkConfig
    train: TrainConfig
    seed: int
    data: DatasetSpec
    label: str = "arch"
    evaluation: Evaluation | None = None
    search: SearchInfo | None = None
    weights: bytes | None = field(default=None, repr=False)


def parse_pick(text) -> str | int:
    """``best``, ``front`` or a positive integer K (the K-th member of the front).

    Raises:
        InputDataError: anything else.
    """
    value = str(text).strip().lower()
    if value in ("best", "front"):
        return value
    if value.isdigit() and int(value) >= 1:
        return int(value)
    raise InputDataError(f"--pick takes best, front or a position K >= 1 on the front, got {text!r}")


def search_targets(store, name: str, pick="best", data_dir: str | None = None) -> list[ExportTarget]:
    """The architectures of stored search ``name`` that ``pick`` chooses (see :func:`parse_pick`).

    Raises:
        InputDataError: no such search, a search replayed on a table (nothing was trained), no
            finished feasible full-fidelity trial, or K beyond the front.
    """
    from surrogate_nas.pipelines.jobs.objective_words import resolve_terms
    from surrogate_nas.pipelines.jobs.trials import trial_from_stored
    from surrogate_nas.pipelines.search.constraints import ConstraintSet
    from surrogate_nas.pipelines.search.history import objective_matrix
    from surrogate_nas.pipelines.search.pareto import pareto_mask

    pick = parse_pick(pick)
    info = store.search(name)
    if info is None:
        known = ", ".join(s.name for s in store.searches()[-5:]) or "none"
        raise InputDataError(f"no search named {name!r} in {store.url} (latest: {known})")
    config = info.config
    if not is_dataset(str(config.get("benchmark", ""))):
        raise InputDataError(f"search {name!r} replayed the table {config.get('benchmark')!r}: nothing was trained; "
                             "export one of its architectures with --arch ARCH --dataset DATASET")
    space = get_space(config.get("space") or DEFAULT_SPACE)
    terms = resolve_terms(config.get("objectives") or ["accuracy"], config.get("constraints") or (), None, space)
    stored = [t for t in store.trials(info.id) if t.evaluation_id is not None and t.fidelity >= 1.0]
    trials = [trial_from_stored(space, t.arch, t.values, t.fidelity) for t in stored]
    feasible = ConstraintSet(terms.constraints).feasible(trials)
    rows = [(s, t) for s, t, ok in zip(stored, trials, feasible) if ok and t.status == "ok"]
    if not rows:
        raise InputDataError(f"search {name!r} has no finished, feasible full-fidelity training to export yet")
    first = terms.objectives[0]
    rows.sort(key=lambda r: -first.sign * r[1].value)
    if pick == "best":
        chosen = [("best", rows[0][0])]
    else:
        mask = pareto_mask(objective_matrix([t for _, t in rows], terms.objectives))
        front = [s for (s, _), keep in zip(rows, mask) if keep]
        if pick == "front":
            chosen = [(f"front-{i}", s) for i, s in enumerate(front, start=1)]
        elif pick > len(front):
            raise InputDataError(f"--pick {pick}: the front of search {name!r} has {len(front)} architectures")
        else:
            chosen = [(f"front-{pick}", front[pick - 1])]
    out = []
    for label, trial in chosen:
        ev = store.evaluation(trial.evaluation_id)
        spec = DatasetSpec(config["benchmark"], data_dir, config.get("image_size"), int(config.get("seed", ev.seed)))
        out.append(ExportTarget(space, space.parse(ev.arch), ev.network, TrainConfig(**ev.train_config), ev.seed,
                                spec, label, ev, info, store.weights.get(str(store.weights.path(ev.id)))))
    return out


def arch_target(space, arch: str, dataset: str, train: TrainConfig, channels: int | None = None,
                cells_per_stage: int | None = None, image_size: int | None = None, data_dir: str | None = None,
                seed: int = 0, builder=None) -> ExportTarget:
    """Architecture ``arch`` of ``space``, to train on ``dataset`` with ``train``.

    Raises:
        InputDataError, DatasetError: a malformed architecture, an unknown space or dataset.
    """
    space = get_space(space, builder if not isinstance(space, SearchSpace) else None)
    spec = DatasetSpec(dataset, data_dir, image_size, seed)
    spec.kind  # noqa: B018 - raises the dataset error that says what was expected
    return ExportTarget(space, space.parse(arch), space.network_config(channels, cells_per_stage), train, int(seed),
                        spec)
