"""Export: from a search (or an architecture) to a folder of files you can ship.

For each chosen architecture the network takes the weights the search kept (``--keep-weights``)
or is trained again with the search's recipe (same network, recipe, seed and data, so on the
same device it reproduces the stored training), put behind
its dataset's preprocessing, and written as ``model.pt``, ``model.onnx``, ``model_card.json``
and ``model_card.md`` (:mod:`.bundle`, :mod:`.card`). Everything goes to a staging folder first
and is renamed into place at the end, so a failure leaves nothing half written. With MLflow,
each network is logged as a model in a run nested under the search's run (and registered with
``register``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from surrogate_nas.errors import DatasetError, InputDataError
from surrogate_nas.records import Status
from surrogate_nas.pipelines.ship.bundle import (
    ONNX_MISSING,
    check_onnx,
    onnx_available,
    shipped_module,
    staged_folder,
    write_onnx,
    write_torchscript,
)
from surrogate_nas.pipelines.ship.card import model_card, write_card
from surrogate_nas.pipelines.ship.targets import ExportTarget

EXAMPLE_ROWS = 2
"""Raw inputs the modules are traced and exported with (two, so the batch size stays free)."""


@dataclass(frozen=True)
class ExportedNetwork:
    """One exported network: its folder (final location) and its card."""

    folder: Path
    card: dict


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_targets` wrote."""

    out: Path
    networks: tuple[ExportedNetwork, ...]
    seconds: float
    unlogged: str = ""
    """One line on what MLflow missed, or ""."""


def export_targets(targets: list[ExportTarget], out, device: str = "cpu", onnx: bool = True, tracker=None,
                   register: str | None = None, progress=None, final=None) -> ExportReport:
    """Train and export ``targets`` into the new folder ``out`` (one sub-folder each when there are several).

    Args:
        targets: from :func:`~.targets.search_targets` or :func:`~.targets.arch_target`.
        out: a folder that must not exist yet.
        device: where the network is trained (the exported files run anywhere).
        onnx: also write ``model.onnx`` (when the ``export`` extra is installed).
        tracker: an MLflow :class:`~surrogate_nas.pipelines.tracking.tracker.Tracker`, or None.
        register: register each logged model under this name.
        progress: called with one line as each network starts training.
        final: ``(epochs, seeds, store, execution)``: train each target from scratch with that many
            seeds and epochs first (:func:`~.final.final_training`) and export the best seed.

    Raises:
        InputDataError, DatasetError: a bad target, data that changed since the search, a
            training that failed, ``out`` existing.
    """
    import time

    start = time.perf_counter()
    out = Path(out).expanduser()
    networks = []
    with staged_folder(out) as stage:
        for target in targets:
            sub = stage if len(targets) == 1 else stage / target.label
            sub.mkdir(exist_ok=True)
            summary = None
            if final is not None:
                from surrogate_nas.pipelines.ship.final import final_training

                epochs, seeds, store, execution = final
                trained, target, weights = final_training(target, epochs or target.train.epochs, seeds, store,
                                                          execution, device, progress)
                target, summary = replace(target, weights=weights), trained.summary()
            if progress is not None:
                kept = "final training's best seed," if summary else "kept weights of"
                doing = kept if target.weights is not None else f"training ({target.train.epochs} epochs)"
                progress(f"{target.label}: {doing} {target.arch.to_string()}")
            card = _export_one(target, sub, device, onnx, tracker, register, summary)
            networks.append(ExportedNetwork(out if len(targets) == 1 else out / target.label, card))
    unlogged = tracker.unlogged_line() if tracker is not None else ""
    return ExportReport(out, tuple(networks), time.perf_counter() - start, unlogged)


def _export_one(target: ExportTarget, folder: Path, device: str, onnx: bool, tracker, register, final) -> dict:
    from surrogate_nas.latency import time_forward
    from surrogate_nas.training import train

    data = target.data.load()
    if target.evaluation is not None and data.name != target.evaluation.dataset:
        raise DatasetError(f"the search trained on data {target.evaluation.dataset} but {target.data.source} now "
                           f"reads as {data.name}: the data changed, so its network cannot be retrained as it was")
    if data.preprocessing is None:
        raise InputDataError(f"dataset {data.source!r} does not say how its inputs were preprocessed "
                             "(a plug-in's Dataset without preprocessing); it cannot be exported")
    if target.weights is not None:
        ev, weights = target.evaluation, target.weights
        trained = {"valid_accuracy": ev.valid_acc, "test_accuracy": ev.test_acc, "params": ev.params,
                   "flops": ev.flops, "device": ev.device}
        source = f"kept by the search (evaluation {ev.id}, --keep-weights)" if final is None else (
            f"final training: the best of {len(final['seeds'])} seed(s) by validation accuracy (seed "
            f"{final['chosen_seed']}, {final['epochs']} epochs, evaluation {ev.id})")
    else:
        result = train(target.space, target.arch, target.network, target.train, data, target.seed, device,
                       keep_weights=True)
        if result.status is not Status.OK:
            raise InputDataError(f"training {target.arch.to_string()} {result.status.value}: {result.message}")
        weights = result.weights
        trained = {"valid_accuracy": result.valid_acc, "test_accuracy": result.test_acc, "params": result.params,
                   "flops": result.flops, "device": result.device}
        source = ("the search kept no weights: retrained from scratch with its recipe" if target.search is not None
                  else "trained from scratch")
    net = target.space.build_network(target.arch, target.network, data.input_shape, data.num_classes)
    net.load_state_dict(torch.load(io.BytesIO(weights), weights_only=True))
    module = shipped_module(net, data.preprocessing)
    raw_test = _raw_test_inputs(data)
    example = raw_test[:EXAMPLE_ROWS] if raw_test is not None else _random_raw(data.preprocessing, EXAMPLE_ROWS)

    scripted = write_torchscript(module, example, folder / "model.pt")
    test_accuracy = trained["test_accuracy"]
    if raw_test is not None:
        with torch.no_grad():
            predicted = torch.cat([scripted(x).argmax(1) for x in raw_test.split(1024)])
        test_accuracy = 100.0 * float((predicted == data.test.y.cpu()).double().mean())
    files = {"model.pt": {"written": True, "format": "TorchScript"}, "model.onnx": _onnx(
        onnx, module, scripted, example, raw_test, folder)}
    latency = time_forward(scripted, data.preprocessing.raw.raw_shape, "cpu", batch_size=1, threads=1)
    card = model_card(target, data, trained, test_accuracy, latency, files, source)
    card["final_training"] = final
    ref = _mlflow_run(tracker, target, card)
    if ref is not None:
        from surrogate_nas.pipelines.tracking.models import log_model

        tags = {"architecture": target.arch.to_string(), "space": target.space.name}
        if target.search is not None:
            tags["search"] = target.search.name
            tags["search_run_id"] = target.search.mlflow_run_id or ""
        logged = log_model(tracker, ref, scripted, example.numpy(), register, tags)
        if logged is not None:
            card.update(mlflow_run_id=logged.run_id, mlflow_model_uri=logged.model_uri,
                        registered_model=logged.registered)
    write_card(folder, card)
    if ref is not None:
        for name in ("model_card.json", "model_card.md"):
            tracker.log_artifact(ref, folder / name)
        tracker.end_run(ref)
    return card


def _onnx(wanted: bool, module, scripted, example, raw_test, folder: Path) -> dict:
    if not wanted:
        return {"written": False, "why_not": "not asked for (--no-onnx)"}
    if not onnx_available():
        return {"written": False, "why_not": ONNX_MISSING}
    raw = module.preprocess
    write_onnx(module, example, folder / "model.onnx",
               None if raw.resize is None else (2, 3) if raw.layout == "chw" else (1, 2))
    checked = raw_test if raw_test is not None else example
    return {"written": True, "format": "ONNX", "max_abs_diff": check_onnx(folder / "model.onnx", scripted, checked),
            "compared_on": "the test split" if raw_test is not None else "random raw inputs"}


def _raw_test_inputs(data) -> torch.Tensor | None:
    """The test split as the dataset holds it (None when it cannot be recovered: streamed or resized images)."""
    if not data.in_memory or data.preprocessing.raw.resize is not None:
        return None
    return data.preprocessing.raw_from(data.test.x)


def _random_raw(preprocessing, n: int) -> torch.Tensor:
    raw = preprocessing.raw
    generator = torch.Generator().manual_seed(0)
    values = torch.rand(n, *raw.raw_shape, generator=generator, dtype=torch.float64) * raw.scale
    dtype = getattr(torch, raw.raw_dtype, torch.float32)
    return (values if dtype.is_floating_point else values.round()).to(dtype)


def _mlflow_run(tracker, target: ExportTarget, card: dict):
    if tracker is None:
        return None
    parent = None
    if target.search is not None and target.search.mlflow_run_id:
        from surrogate_nas.pipelines.tracking.tracker import RunRef

        parent = RunRef(target.search.mlflow_run_id, tracker.experiment_id)
    params = {"arch": card["architecture"], "space": card["space"], "dataset": card["dataset"]["fingerprint"],
              **{k: v for k, v in card["recipe"].items() if v is not None}}
    metrics = {"valid_acc": card["valid_accuracy"], "test_acc": card["test_accuracy"], "params": card["params"],
               "flops": card["flops"], "latency_ms": card["latency"]["latency_ms"]}
    ref = tracker.start_run(f"export {target.label}", params=params, parent=parent,
                            tags={"kind": "export", **({"search": target.search.name} if target.search else {})})
    tracker.log(ref, metrics={k: float(v) for k, v in metrics.items() if v is not None})
    return ref

