"""Save fitted predictors as MLflow artifacts (or files) and load them back.

A saved predictor is the code-free format of
:mod:`surrogate_nas.predictors.serialization` (a zip of a JSON header, numpy arrays
and XGBoost's own model files); the bundle's description (``features``, ``target``,
``benchmark``, ``n_train``, ``kind``, ``space``, ``quantity``: ``latency`` for a latency
model) travels in its header. Reading one never runs code from the file, wherever it came from.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from surrogate_nas.errors import InputDataError, TrackingError
from surrogate_nas.predictors.serialization import load_predictor, save_predictor

ARTIFACT = "predictor/predictor.zip"
_META = ("features", "target", "benchmark", "n_train", "kind", "space", "quantity")


def save_bundle(bundle: dict, path: str | Path) -> Path:
    """Write ``bundle["predictor"]`` with the bundle's description to ``path``."""
    return save_predictor(bundle["predictor"], path, {k: bundle[k] for k in _META if k in bundle})


def load_bundle_file(path: str | Path) -> dict:
    """The bundle saved at ``path``.

    Raises:
        InputDataError: the file is not a saved predictor (a pickle, text, another format).
    """
    predictor, meta = load_predictor(path)
    missing = [k for k in ("features", "target", "benchmark", "n_train", "kind", "space") if k not in meta]
    if missing:
        raise InputDataError(f"{path} is a saved predictor without {', '.join(missing)}; save it with `surrogate-nas fit`")
    return {**meta, "predictor": predictor}


def log_bundle(tracker, bundle: dict, name: str) -> str:
    """Log the bundle in its own MLflow run tagged ``predictor_name``; return the run id.

    Raises:
        TrackingError: MLflow failed, so the predictor was not kept.
    """
    run = tracker.start_run(f"predictor-{name}", params={
        k: bundle[k] for k in _META if k in bundle}, tags={
        "kind": "predictor", "predictor_name": name})
    with tempfile.TemporaryDirectory() as tmp:
        path = save_bundle(bundle, Path(tmp) / Path(ARTIFACT).name)
        tracker.log_artifact(run, path, folder=str(Path(ARTIFACT).parent))
    tracker.end_run(run)
    if run is None or tracker.offline:
        raise TrackingError(f"the predictor was not saved to MLflow ({tracker.offline}); pass --out FILE to keep it")
    return run.run_id


def load_bundle(tracker, name_or_path: str) -> dict:
    """A file path, an MLflow run id, or the newest run whose ``predictor_name`` tag is ``name_or_path``."""
    if Path(name_or_path).is_file():
        return load_bundle_file(name_or_path)
    client = tracker.client
    runs = client.search_runs([tracker.experiment_id], filter_string=f"tags.predictor_name = '{name_or_path}'",
                              order_by=["attributes.start_time DESC"], max_results=1)
    run_id = runs[0].info.run_id if runs else None
    if run_id is None:
        try:
            run_id = client.get_run(name_or_path).info.run_id
        except Exception:  # noqa: BLE001 - MLflow raises its own exception for unknown ids
            raise InputDataError(f"no saved predictor named {name_or_path!r} (and no such file or MLflow run); "
                                 "fit one with `surrogate-nas fit --name NAME`") from None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, ARTIFACT, tmp)
        except Exception:  # noqa: BLE001 - MLflow raises several types for a missing artifact
            raise InputDataError(f"MLflow run {run_id} holds no predictor saved by this surrogate-nas "
                                 f"({ARTIFACT}); fit it again with `surrogate-nas fit`") from None
        return load_bundle_file(local)
