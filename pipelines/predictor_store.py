"""Save fitted predictors as MLflow artifacts (or files) and load them back.

A saved predictor is a pickle of ``{"predictor", "features", "target",
"benchmark", "n_train", "kind", "space", "quantity"}`` (``quantity`` is ``latency`` for a
latency model); it is only ever read from stores the user controls.
"""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

from surrogate_nas.errors import InputDataError

ARTIFACT = "predictor/predictor.pkl"


def save_bundle(bundle: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(bundle, fh)
    return path


def load_bundle_file(path: str | Path) -> dict:
    try:
        with open(path, "rb") as fh:
            bundle = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError) as exc:
        raise InputDataError(f"cannot read a saved predictor from {path}: {exc}") from None
    if not isinstance(bundle, dict) or "predictor" not in bundle:
        raise InputDataError(f"{path} is not a predictor saved by `surrogate-nas fit`")
    return bundle


def log_bundle(tracker, bundle: dict, name: str) -> str:
    """Log the bundle in its own MLflow run tagged ``predictor_name``; return the run id."""
    run = tracker.start_run(f"predictor-{name}", params={
        k: bundle[k] for k in ("features", "target", "benchmark", "n_train", "kind", "quantity") if k in bundle}, tags={
        "kind": "predictor", "predictor_name": name})
    with tempfile.TemporaryDirectory() as tmp:
        path = save_bundle(bundle, Path(tmp) / "predictor.pkl")
        tracker.log_artifact(run, path, folder="predictor")
    tracker.end_run(run)
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
        local = client.download_artifacts(run_id, ARTIFACT, tmp)
        return load_bundle_file(local)
