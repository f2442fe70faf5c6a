"""Exported networks as MLflow models: logged with ``mlflow.pytorch`` and, on request, registered.

The logged model is the exported TorchScript module (preprocessing folded in), with a signature
and an input example of raw inputs, in a run of its own nested under the search's run; with a
registered name it becomes the next version of that model in the tracking server's registry,
tagged with the search, so ``mlflow.pytorch.load_model("models:/NAME/1")`` loads it anywhere
the tracking store is reachable.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LoggedModel:
    """Where an exported network went in MLflow."""

    run_id: str
    model_uri: str
    registered: str | None = None
    """``models:/NAME/VERSION`` when registered."""


def log_model(tracker, ref, module, example: np.ndarray, register: str | None = None,
              tags: dict | None = None) -> LoggedModel | None:
    """Log ``module`` (TorchScript) to run ``ref`` of ``tracker``; register it as ``register`` if given.

    Never raises: a failure switches the tracker off (see
    :attr:`~surrogate_nas.pipelines.tracking.tracker.Tracker.offline`) and returns None.
    """
    if tracker is None or ref is None or tracker.offline:
        return None
    try:
        return _log(tracker, ref, module, example, register, tags or {})
    except Exception as exc:  # noqa: BLE001 - MLflow raises many types; the export itself stands
        tracker._go_offline(exc)
        return None


def _log(tracker, ref, module, example, register, tags) -> LoggedModel:
    import mlflow
    import torch
    from mlflow.models import infer_signature

    logging.getLogger("mlflow").setLevel(logging.ERROR)  # notes on pickled TorchScript and local torch versions
    with torch.no_grad():
        output = module(torch.from_numpy(example)).numpy()
    signature = infer_signature(example, output)
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracker.uri)
    try:
        quiet = io.StringIO()  # the registry prints "Successfully registered ..." itself
        with warnings.catch_warnings(), contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
            warnings.simplefilter("ignore")
            with mlflow.start_run(run_id=ref.run_id):
                # TorchScript modules are saved with torch.jit.save under MLflow's "pickle" format.
                info = mlflow.pytorch.log_model(module, name="model", signature=signature, input_example=example,
                                                serialization_format="pickle",
                                                pip_requirements=[f"torch=={torch.__version__.split('+')[0]}"])
            registered = None
            if register:
                version = mlflow.register_model(info.model_uri, register, tags=tags)
                registered = f"models:/{register}/{version.version}"
    finally:
        mlflow.set_tracking_uri(previous)
    return LoggedModel(ref.run_id, info.model_uri, registered)
