"""MLflow tracking: one parent run per command, one nested run per trained architecture.

Everything goes through an explicit :class:`mlflow.tracking.MlflowClient`
(no global active-run state), and metrics go in batches: per-step
``log_metric`` calls against a SQLite store cost one transaction each.

The default store is ``sqlite:///mlruns/mlflow.db`` with artifacts under
``mlruns/artifacts`` (MLflow 3.17+ refuses the plain ``./mlruns`` file store);
``MLFLOW_TRACKING_URI`` overrides it, e.g. to point at a tracking server, and
``MLFLOW_EXPERIMENT_NAME`` the experiment (``surrogate-nas`` by default).
"""

from __future__ import annotations

import logging
import math
import os
import time
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from surrogate_nas.errors import StorageError
from surrogate_nas.records import TrainResult

DEFAULT_STORE_DIR = "mlruns"
EXPERIMENT = "surrogate-nas"
"""The experiment runs go to, unless ``MLFLOW_EXPERIMENT_NAME`` names another."""
_BATCH = 900  # MLflow accepts at most 1000 entities per log_batch call
STEP_METRICS = ("value", "best_so_far", "regret", "hypervolume", "fit_s", "acq_s", "test_of_best")
"""Trace columns logged per search step."""


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the project's local SQLite store."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    store = Path(DEFAULT_STORE_DIR).resolve()
    return f"sqlite:///{store / 'mlflow.db'}"


def artifact_root() -> str:
    """Where a new experiment keeps its artifacts when the store is local."""
    return (Path(DEFAULT_STORE_DIR).resolve() / "artifacts").as_uri()


@contextmanager
def _exclusive(path: Path):
    """An inter-process lock on ``path`` (a no-op where ``fcntl`` is missing, e.g. Windows)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class RunRef:
    run_id: str
    experiment_id: str


class Tracker:
    """Thin, explicit wrapper over ``MlflowClient`` for the runs this tool writes."""

    def __init__(self, uri: str | None = None, experiment: str | None = None):
        # MLflow's own artifact progress bars would interleave with ours.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        from mlflow.tracking import MlflowClient  # deferred: importing mlflow costs seconds

        self.uri = uri or tracking_uri()
        experiment = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
        logging.getLogger("mlflow").setLevel(logging.WARNING)  # store-creation chatter is not for users
        if self.uri.startswith("sqlite:///"):
            folder = Path(self.uri[len("sqlite:///"):]).parent
            folder.mkdir(parents=True, exist_ok=True)
            # MLflow creates its tables when the client is built; two processes doing that at
            # once on a new SQLite file collide ("table ... already exists"), so take turns.
            with _exclusive(folder / ".surrogate-nas-init.lock"):
                self.client = MlflowClient(tracking_uri=self.uri)
                self.experiment_id = self._experiment(experiment)
        else:
            self.client = MlflowClient(tracking_uri=self.uri)
            self.experiment_id = self._experiment(experiment)

    def _experiment(self, name: str) -> str:
        # Two processes may create the store or the experiment at the same moment; the loser retries.
        last: Exception | None = None
        for attempt in range(5):
            try:
                exp = self.client.get_experiment_by_name(name)
                if exp is not None:
                    return exp.experiment_id
                location = artifact_root() if self.uri.startswith("sqlite:") else None
                return self.client.create_experiment(name, artifact_location=location)
            except Exception as exc:  # noqa: BLE001 - MLflow raises several unrelated types here
                last = exc
                time.sleep(0.5 * (attempt + 1))
        raise StorageError(f"cannot use MLflow tracking store {self.uri}: {last}")

    # -- runs ----------------------------------------------------------------
    def start_run(self, name: str, params: dict | None = None, tags: dict | None = None,
                  parent: RunRef | None = None) -> RunRef:
        all_tags = dict(tags or {})
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent.run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags={k: str(v) for k, v in all_tags.items()})
        ref = RunRef(run.info.run_id, self.experiment_id)
        if params:
            self.log(ref, params=params)
        return ref

    @contextmanager
    def run(self, name: str, params: dict | None = None, tags: dict | None = None,
            parent: RunRef | None = None) -> Iterator[RunRef]:
        """A run that ends FINISHED, KILLED (Ctrl-C) or FAILED with the block that uses it."""
        ref = self.start_run(name, params=params, tags=tags, parent=parent)
        status = "FAILED"
        try:
            yield ref
            status = "FINISHED"
        except KeyboardInterrupt:
            status = "KILLED"
            raise
        finally:
            self.end_run(ref, status)

    def end_run(self, ref: RunRef, status: str = "FINISHED") -> None:
        self.client.set_terminated(ref.run_id, status=status)

    def resume_run(self, run_id: str) -> RunRef | None:
        """Reopen run ``run_id`` of this experiment (a resumed search continues its own run), or None."""
        try:
            run = self.client.get_run(run_id)
        except Exception:  # noqa: BLE001 - MLflow raises its own error types for unknown ids
            return None
        if run.info.experiment_id != self.experiment_id or run.info.lifecycle_stage != "active":
            return None
        self.client.update_run(run_id, status="RUNNING")
        return RunRef(run_id, self.experiment_id)

    def log_step(self, ref: RunRef, rows) -> None:
        """Log a search step's trace rows (value, best so far, regret, hypervolume, timings)."""
        series: dict[str, list[tuple[int, float]]] = {}
        for rec in rows.to_dict("records"):
            for key in STEP_METRICS:
                v = rec.get(key)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    series.setdefault(key, []).append((int(rec["step"]), float(v)))
        if series:
            self.log_series(ref, series)

    def log(self, ref: RunRef, metrics: dict | None = None, params: dict | None = None,
            tags: dict | None = None, step: int = 0) -> None:
        """Log scalars, params and tags in as few batches as possible."""
        self.log_series(ref, {k: [(step, v)] for k, v in (metrics or {}).items() if v is not None},
                        params=params, tags=tags)

    def log_series(self, ref: RunRef, series: dict[str, list[tuple[int, float]]],
                   params: dict | None = None, tags: dict | None = None) -> None:
        """Log whole metric curves ``{key: [(step, value), ...]}`` in batches."""
        from mlflow.entities import Metric, Param, RunTag

        now = int(time.time() * 1000)
        metrics = [Metric(k, float(v), now, int(s)) for k, pts in series.items() for s, v in pts]
        ps = [Param(k, str(v)) for k, v in (params or {}).items()]
        ts = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
        for i in range(0, max(len(metrics), 1), _BATCH):
            chunk = metrics[i:i + _BATCH]
            self.client.log_batch(ref.run_id, metrics=chunk, params=ps if i == 0 else [],
                                  tags=ts if i == 0 else [])

    def log_artifact(self, ref: RunRef, path: str | Path, folder: str | None = None) -> None:
        self.client.log_artifact(ref.run_id, str(path), artifact_path=folder)

    # -- the record of one training run ------------------------------------
    def log_training(self, result: TrainResult, parent: RunRef | None, evaluation_id: int | None = None) -> RunRef:
        """One nested run for one trained architecture (tagged with its database id); returns its reference.

        A run of the same evaluation left unfinished by a killed process is completed
        instead of duplicated.
        """
        tags = {"canonical_key": result.canonical_key[:5000], "status": result.status.value, "kind": "training",
                "space": result.space}
        if evaluation_id is not None:
            tags["evaluation_id"] = str(evaluation_id)
        ref = self._unfinished_training(evaluation_id)
        if ref is None:
            ref = self.start_run(name=f"{result.dataset}-{result.canonical_key[:40]}", parent=parent, tags=tags)
        series = {
            "train_loss": list(enumerate(result.train_losses, start=1)),
            "valid_acc_curve": list(enumerate(result.valid_accs, start=1)),
        }
        finals = {
            "valid_acc": result.valid_acc,
            "test_acc": result.test_acc,
            "params": result.params,
            "flops": result.flops,
            "train_seconds": result.train_seconds,
        }
        for k, v in finals.items():
            if v is not None:
                series[k] = [(0, v)]
        params = {
            "arch": result.arch,
            "space": result.space,
            "dataset": result.dataset,
            "epochs": result.train.epochs,
            "seed": result.seed,
            "C": result.network.channels,
            "N": result.network.cells_per_stage,
            "batch_size": result.train.batch_size,
            "learning_rate": result.train.learning_rate,
            "device": result.device,
        }
        self.log_series(ref, series, params={k: v for k, v in params.items() if v is not None})
        self.end_run(ref, "FINISHED" if result.status.value == "ok" else "FAILED")
        return ref

    def _unfinished_training(self, evaluation_id: int | None) -> RunRef | None:
        if evaluation_id is None:
            return None
        runs = self.client.search_runs([self.experiment_id], filter_string=f"tags.evaluation_id = '{int(evaluation_id)}'",
                                       max_results=1)
        return RunRef(runs[0].info.run_id, self.experiment_id) if runs else None

    def log_evaluation(self, evaluation, parent: RunRef | None) -> RunRef:
        """Log a stored evaluation that has no MLflow run yet (its process died before logging it)."""
        from surrogate_nas.records import TrainConfig

        result = TrainResult(
            space=evaluation.space, arch=evaluation.arch, canonical_key=evaluation.canonical_key,
            dataset=evaluation.dataset, network=evaluation.network, train=TrainConfig(**evaluation.train_config),
            seed=evaluation.seed, status=evaluation.status, valid_acc=evaluation.valid_acc,
            test_acc=evaluation.test_acc, train_losses=evaluation.train_losses, valid_accs=evaluation.valid_accs,
            train_seconds=evaluation.train_seconds or 0.0, params=evaluation.params or 0,
            flops=evaluation.flops or 0, device=evaluation.device or "", message=evaluation.message,
        )
        return self.log_training(result, parent, evaluation.id)

    def ui_hint(self) -> str:
        """The command that opens this store in the MLflow UI."""
        return ui_hint(self.uri)


def ui_hint(uri: str | None = None) -> str:
    """How to browse the tracking store ``uri`` (default: this project's)."""
    uri = uri or tracking_uri()
    if uri.startswith(("http://", "https://")):
        return f"open {uri}"
    return "surrogate-nas ui   (or: mlflow ui --backend-store-uri " + uri + ")"
