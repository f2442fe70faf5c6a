"""The model card of an exported network: what it is, how it was trained, how well and how fast it runs.

``model_card.json`` is for programs (accuracies in percent: ``valid_accuracy``, ``test_accuracy``);
``model_card.md`` is the same for people.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

CARD_FORMAT = "surrogate-nas model card 1"


def package_version() -> str:
    try:
        from importlib.metadata import version

        return version("surrogate-nas")
    except Exception:  # noqa: BLE001 - an uninstalled checkout still exports
        from surrogate_nas import __version__

        return __version__


def model_card(target, data, trained: dict, test_accuracy: float, latency, files: dict, weights: str) -> dict:
    """The card's fields (JSON-safe).

    Args:
        target: the :class:`~.targets.ExportTarget`.
        data: the loaded dataset (its fingerprint, classes and preprocessing).
        trained: ``valid_accuracy``, ``params``, ``flops`` and ``device`` of the training behind the weights.
        test_accuracy: the exported ``model.pt``'s accuracy (%) on the test split's raw inputs.
        latency: its :class:`~surrogate_nas.latency.Latency` on this machine (batch 1).
        files: what was written, and the ONNX check.
        weights: where the weights came from, in words.
    """
    import torch

    p = data.preprocessing
    return {
        "format": CARD_FORMAT,
        "architecture": target.arch.to_string(),
        "space": target.space.name,
        "network": target.network.to_dict(),
        "dataset": {"fingerprint": data.name, "source": data.source, "num_classes": data.num_classes,
                    "class_names": list(data.class_names), "test_size": len(data.test)},
        "input": {"shape": ["batch", *p.raw.raw_shape], "dtype": p.raw.raw_dtype, "what": p.raw.description},
        "preprocessing": p.to_dict(),
        "recipe": {**asdict(target.train), "seed": target.seed, "device": trained["device"]},
        "weights": weights,
        "valid_accuracy": trained["valid_accuracy"],
        "test_accuracy": test_accuracy,
        "params": trained["params"],
        "flops": trained["flops"],
        "latency": latency.to_dict(),
        "search": None if target.search is None else target.search.name,
        "search_mlflow_run_id": None if target.search is None else target.search.mlflow_run_id,
        "evaluation_id": None if target.evaluation is None else target.evaluation.id,
        "mlflow_run_id": None,
        "mlflow_model_uri": None,
        "registered_model": None,
        "files": files,
        "package_version": package_version(),
        "torch_version": torch.__version__,
    }


def write_card(folder: Path, card: dict) -> None:
    """``model_card.json`` and ``model_card.md`` in ``folder``."""
    (folder / "model_card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    (folder / "model_card.md").write_text(card_markdown(card), encoding="utf-8")


def card_markdown(card: dict) -> str:
    """The card as a short Markdown page."""
    lat, rec, inp = card["latency"], card["recipe"], card["input"]
    onnx = card["files"].get("model.onnx")
    lines = [
        f"# {card['space']} network `{card['architecture']}`",
        "",
        f"- dataset: {card['dataset']['source']} (fingerprint `{card['dataset']['fingerprint']}`, "
        f"{card['dataset']['num_classes']} classes: {', '.join(card['dataset']['class_names']) or '-'})",
        f"- input: {inp['dtype']} array of shape {tuple(inp['shape'])}: {inp['what']}; the preprocessing "
        "below is inside the model",
        f"- validation accuracy {_pct(card['valid_accuracy'])}, test accuracy {_pct(card['test_accuracy'])} "
        f"({card['dataset']['test_size']} test inputs, measured with model.pt)",
        f"- params {card['params']:,}, FLOPs {card['flops']:,}",
        f"- latency {lat['latency_ms']:.3f} ms (batch {lat['batch_size']}, {lat['threads']} thread(s), "
        f"{lat['device']}, spread {lat['spread_pct']:.1f}%, machine {lat['machine']}, torch {lat['torch']})",
        f"- recipe: {rec['epochs']} epochs, batch {rec['batch_size']}, lr {rec['learning_rate']}, momentum "
        f"{rec['momentum']}, weight decay {rec['weight_decay']}, augment {rec['augment']}, seed {rec['seed']}",
        f"- weights: {card['weights']}",
        f"- search: {card['search'] or '-'}; MLflow run: {card['mlflow_run_id'] or '-'}; registered model: "
        f"{card['registered_model'] or '-'}",
        "- files: model.pt (TorchScript: `torch.jit.load('model.pt')`); "
        + (f"model.onnx (max difference to model.pt {onnx['max_abs_diff']:.2g})" if onnx.get("written")
           else f"no model.onnx ({onnx['why_not']})"),
        f"- surrogate-nas {card['package_version']}, torch {card['torch_version']}",
        "",
        "## Preprocessing (inside the model)",
        "",
        "```json",
        json.dumps(card["preprocessing"], indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)


def _pct(value) -> str:
    return "-" if value is None else f"{value:.2f}%"
