"""The last mile: from a search to a network you can ship, and its latency where you stand.

:func:`export` trains the chosen architecture(s) and writes TorchScript, ONNX and a model card
(:mod:`.exporter`); :func:`~.measure.measure` times built networks on this machine.

    >>> from surrogate_nas.pipelines.ship import export
    >>> report = export("shipped/", search="bo-digits-accuracy-seed0-C8N1-1ep")  # doctest: +SKIP
    >>> report.networks[0].card["test_accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

from surrogate_nas.datasets import DEFAULT_DATASET
from surrogate_nas.errors import InputDataError
from surrogate_nas.records import TrainConfig
from surrogate_nas.spaces import DEFAULT_SPACE


def export(
    out,
    *,
    search: str | None = None,
    pick="best",
    arch: str | None = None,
    space=DEFAULT_SPACE,
    dataset: str = DEFAULT_DATASET,
    epochs: int | None = None,
    channels: int | None = None,
    cells_per_stage: int | None = None,
    batch_size: int = 64,
    learning_rate: float = 0.1,
    augment: bool = False,
    preset: str | None = None,
    image_size: int | None = None,
    data_dir: str | None = None,
    builder=None,
    seed: int = 0,
    device: str = "cpu",
    onnx: bool = True,
    register: str | None = None,
    retrain_epochs: int | None = None,
    seeds: int = 1,
    workers: int = 1,
    executor=None,
    cpus_per_trial: float = 1.0,
    gpus_per_trial: float = 0.0,
    ray_address: str | None = None,
    max_retries: int = 1,
    db: str | None = None,
    mlflow: bool = True,
    progress: Callable[[str], None] | None = None,
):
    """Train and export the network(s) of stored search ``search`` (``pick``: ``best``, ``front`` or K),
    or architecture ``arch`` of ``space`` trained on ``dataset`` with the settings given, into the
    new folder ``out``.

    A search's network is trained again with the search's own network, recipe, seed and data. The
    training settings (``epochs`` ... ``seed``) are for ``arch`` only; ``data_dir`` is also where
    a search's files are, when they were given by folder (``cifar10``).

    ``retrain_epochs`` and ``seeds`` ask for a final training: the architecture trained from
    scratch with ``seeds`` seeds for ``retrain_epochs`` epochs (default: the recipe's) on the
    executors ``workers`` ... ``max_retries`` describe (those of
    :class:`~surrogate_nas.pipelines.jobs.config.ExecutionConfig`), stored in the database
    (a killed final training resumes), and the seed with the best validation accuracy exported;
    its card holds every seed's test accuracy and their mean and standard deviation.

    Returns:
        An :class:`~.exporter.ExportReport` (each network's folder and model card).

    Raises:
        InputDataError, DatasetError: bad arguments, one line saying what was expected; ``out``
            is then left untouched.
    """
    from surrogate_nas.device import resolve_device
    from surrogate_nas.pipelines.jobs.config import ExecutionConfig, TrackingConfig
    from surrogate_nas.pipelines.ship.exporter import export_targets
    from surrogate_nas.pipelines.ship.targets import arch_target, parse_pick, search_targets

    if (search is None) == (arch is None):
        raise InputDataError("give either a search (--search NAME) or an architecture (--arch ARCH), not both")
    if register is not None and not mlflow:
        raise InputDataError("--register needs MLflow; drop --no-mlflow")
    parse_pick(pick)
    resolve_device(device)
    final = retrain_epochs is not None or int(seeds) != 1
    if int(seeds) < 1 or (retrain_epochs is not None and int(retrain_epochs) < 1):
        raise InputDataError(f"--seeds and --retrain-epochs must be >= 1, got {seeds} and {retrain_epochs}")
    execution = ExecutionConfig(workers=workers, executor=executor, cpus_per_trial=cpus_per_trial,
                                gpus_per_trial=gpus_per_trial, ray_address=ray_address, max_retries=max_retries)
    execution.check()
    tracking = TrackingConfig(db=db, mlflow=mlflow)
    tracking.check()
    # An --arch export touches no database unless it trains seeds through it.
    store = tracking.open_store(read_only=not final) if search is not None or final else None
    if search is not None:
        try:
            targets = search_targets(store, search, pick, data_dir)
        except BaseException:
            store.close()
            raise
    else:
        train = (TrainConfig.preset(preset, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate)
                 if preset else TrainConfig(epochs=epochs or 5, batch_size=batch_size, learning_rate=learning_rate,
                                            augment=augment))
        targets = [arch_target(space, arch, dataset, train, channels, cells_per_stage, image_size, data_dir, seed,
                               builder)]
    try:
        return export_targets(targets, out, device, onnx, tracking.tracker(), register, progress,
                              (retrain_epochs, int(seeds), store, execution) if final else None)
    finally:
        if store is not None:
            store.close()
