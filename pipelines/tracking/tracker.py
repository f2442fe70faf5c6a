"""MLflow tracking: one parent run per command, one nested run per trained architecture.

Everything goes through an explicit :class:`mlflow.tracking.MlflowClient`
(no global active-run state), and metrics go in batches: per-step
``log_metric`` calls against a SQLite store cost one transaction each.

The default store is ``sqlite:///mlruns/mlflow.db`` with artifacts under
``mlruns/artifacts`` (MLflow 3.17+ refuses the plain ``./mlruns`` file store);
``MLFLOW_TRACKING_URI`` overrides it, e.g. to point at a tracking server, and
``MLFLOW_EXPERIMENT_NAME`` the experiment (``surrogate-nas`` by default).

The tracker never costs a training: a tracking server is checked within seconds
before any work (:func:`check_reachable`), and a failure of MLflow in the middle of a
run switches the tracker off for the rest of it (:attr:`Tracker.offline`) while the
database keeps every result; :meth:`Tracker.unlogged_line` says what was not logged,
and a resumed search logs it then. Every run is tagged with the ``host:pid`` that
wrote it, so a RUNNING run left by a dead process is marked KILLED by the next
command that opens the experiment.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import sys
import time
from contextlib import contextmanager
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from surrogate_nas.errors import InputDataError, TrackingError
from surrogate_nas.records import TrainResult
from surrogate_nas.spaces import get_space

DEFAULT_STORE_DIR = "mlruns"
EXPERIMENT = "surrogate-nas"
"""The experiment runs go to, unless ``MLFLOW_EXPERIMENT_NAME`` names another."""
_BATCH = 900  # MLflow accepts at most 1000 entities per log_batch call
STEP_METRICS = ("value", "best_so_far", "regret", "hypervolume", "test_of_best")
"""Trace columns logged per search step."""
TIMING_METRICS = ("fit_s", "screen_s", "acq_s", "suggest_s")
"""Step timings logged per search step (measurements, not part of the trace)."""
REACHABLE_TIMEOUT_S = 5.0
"""How long the reachability check of a tracking server waits for an answer."""
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
"""Opens the experiment on MLflow 3's runs view (not the GenAI traces page)."""
WORKER_TAG = "surrogate_nas.worker"
_HTTP_DEFAULTS = {
    # MLflow's own defaults (7 retries, 120 s per request) stall a run for minutes on a dead server.
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
}

TRACKING_SCHEMES = ("", "file", "sqlite", "postgresql", "mysql", "mssql", "http", "https", "databricks",
                    "databricks-uc", "uc")
"""The URI schemes MLflow's tracking-store registry knows (``mlflow.tracking._tracking_service.utils``);
"" is a plain path. Plug-ins add theirs through the ``mlflow.tracking_store`` entry points."""


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` if set, else the project's local SQLite store.

    Raises:
        TrackingError: ``MLFLOW_TRACKING_URI`` has a scheme no MLflow tracking store takes
            (checked here, before any work, without importing MLflow).
    """
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        check_tracking_scheme(uri)
        return uri
    store = Path(DEFAULT_STORE_DIR).resolve()
    return f"sqlite:///{store / 'mlflow.db'}"


def check_tracking_scheme(uri: str) -> None:
    """Raise unless MLflow has a tracking store for the scheme of ``uri``.

    The scheme is read the way MLflow reads it (``mlflow.utils.uri.get_uri_scheme``): a
    database URL counts by its dialect (``postgresql+psycopg2`` is ``postgresql``), and a
    one-letter scheme is a Windows drive, i.e. a path.

    Raises:
        TrackingError: names the variable, the value and the accepted forms.
    """
    from importlib.metadata import entry_points
    from urllib.parse import urlparse

    scheme = urlparse(uri).scheme.lower()
    scheme = "" if len(scheme) == 1 else scheme.split("+", 1)[0]
    if scheme in TRACKING_SCHEMES or scheme in {e.name for e in entry_points(group="mlflow.tracking_store")}:
        return
    raise TrackingError(f"MLFLOW_TRACKING_URI={uri!r} has a scheme MLflow cannot track to ({scheme}://); use a "
                        "database URL (sqlite:///mlflow.db, postgresql://..., mysql://..., mssql://...), a tracking "
                        "server (http://HOST:PORT or https://...), or unset it for ./mlruns/mlflow.db; "
                        "or pass --no-mlflow")


def is_remote(uri: str) -> bool:
    """Whether ``uri`` names a tracking server (HTTP) rather than a local store."""
    return uri.startswith(("http://", "https://"))


def check_reachable(uri: str, timeout_s: float = REACHABLE_TIMEOUT_S) -> None:
    """Raise unless the tracking server at ``uri`` answers HTTP within ``timeout_s``.

    Any HTTP answer counts (a 401 or 404 still proves a server is there); only a refused,
    unresolvable or silent address fails. Local stores are not checked.

    Raises:
        TrackingError: no answer; the message names the URI, the reason and the way out.
    """
    if not is_remote(uri):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout_s):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingError(f"MLflow tracking server {uri} is not reachable ({reason}) within {timeout_s:.0f}s; "
                            "start it, fix MLFLOW_TRACKING_URI, or pass --no-mlflow to go on without it") from None


def run_name(result: TrainResult, limit: int = 120) -> str:
    """A readable run name for a trained architecture: its space's short form
    (:meth:`~surrogate_nas.spaces.base.SearchSpace.short_text`), or its text cut to ``limit``
    characters when the space is not installed here."""
    try:
        return get_space(result.space).short_text(result.arch, limit)
    except InputDataError:
        return result.arch if len(result.arch) <= limit else result.arch[: limit - 1] + "~"


def _tolerant(method):
    """Run a logging call; after an MLflow failure the tracker goes offline and such calls return None."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if self.offline:
            return None
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - MLflow and its HTTP stack raise many types
            self._go_offline(exc)
            return None
    return wrapper


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
    """Thin, explicit wrapper over ``MlflowClient`` for the runs this tool writes.

    Creating one checks that the store can be used (a server answers, a local store
    can be created) and raises :class:`~surrogate_nas.errors.TrackingError` otherwise,
    before any work. Afterwards logging never raises: see :attr:`offline`.

    Attributes:
        offline: why MLflow failed during this run ("" while it works); from then on
            logging calls return None and trainings are counted in :attr:`unlogged`.
        unlogged: ids of stored evaluations whose training could not be logged.
    """

    def __init__(self, uri: str | None = None, experiment: str | None = None):
        # MLflow's own artifact progress bars would interleave with ours.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        for key, value in _HTTP_DEFAULTS.items():
            os.environ.setdefault(key, value)
        self.uri = uri or tracking_uri()
        self.offline = ""
        self.unlogged: list[int] = []
        experiment = experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
        check_reachable(self.uri)
        from mlflow.tracking import MlflowClient  # deferred: importing mlflow costs seconds

        logging.getLogger("mlflow").setLevel(logging.WARNING)  # store-creation chatter is not for users
        try:
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
        except OSError as exc:
            raise TrackingError(f"cannot create the MLflow store {self.uri}: {exc.strerror or exc} "
                                f"({exc.filename or ''}); set MLFLOW_TRACKING_URI to a writable store "
                                "or pass --no-mlflow") from None
        except Exception as exc:  # noqa: BLE001 - MLflow refuses a store in many types (a file store, a driver)
            raise TrackingError(f"cannot use MLflow tracking store {self.uri}: {_one_line(exc)}; "
                                "set MLFLOW_TRACKING_URI to a usable store or pass --no-mlflow") from None
        self.close_dead_runs()

    def _experiment(self, name: str) -> str:
        # Two processes may create the store or the experiment at the same moment; the loser retries.
        last: Exception | None = None
        for attempt in range(5):
            try:
                exp = self.client.get_experiment_by_name(name)
                if exp is None:
                    location = artifact_root() if self.uri.startswith("sqlite:") else None
                    return self.client.create_experiment(name, artifact_location=location, tags=EXPERIMENT_KIND)
                if not EXPERIMENT_KIND.items() <= exp.tags.items():
                    for key, value in EXPERIMENT_KIND.items():
                        self.client.set_experiment_tag(exp.experiment_id, key, value)
                return exp.experiment_id
            except Exception as exc:  # noqa: BLE001 - MLflow raises several unrelated types here
                last = exc
                if _read_only_store(exc):
                    break
                time.sleep(0.5 * (attempt + 1))
        raise TrackingError(f"cannot use MLflow tracking store {self.uri}: {_one_line(last)}; "
                            "set MLFLOW_TRACKING_URI to a usable store or pass --no-mlflow")

    def _go_offline(self, exc: BaseException) -> None:
        self.offline = _one_line(exc)
        _warn(f"warning: MLflow at {self.uri} failed ({self.offline}); going on without it: "
              "every result is kept in the database")

    def unlogged_line(self) -> str:
        """One line on what MLflow missed during this run, or "" when it missed nothing."""
        if not self.offline:
            return ""
        if not self.unlogged:
            return f"MLflow failed during this run ({self.offline}); what came after was not logged"
        ids = ", ".join(map(str, self.unlogged))
        return (f"MLflow failed during this run ({self.offline}); trainings stored in the database but not logged: "
                f"evaluations {ids}. A resumed search logs them; `surrogate-nas db export` has every result")

    @_tolerant
    def close_dead_runs(self) -> int:
        """Mark KILLED the RUNNING runs of this experiment whose writing process died on this host."""
        from mlflow.entities import RunStatus

        from surrogate_nas.storage.workers import is_dead

        runs = self.client.search_runs([self.experiment_id], filter_string="attributes.status = 'RUNNING'",
                                       max_results=1000)
        dead = [r for r in runs if is_dead(r.data.tags.get(WORKER_TAG, "")) and r.data.tags.get(WORKER_TAG)]
        for run in dead:
            self.client.set_terminated(run.info.run_id, status=RunStatus.to_string(RunStatus.KILLED))
        return len(dead)

    # -- runs ----------------------------------------------------------------
    @_tolerant
    def start_run(self, name: str, params: dict | None = None, tags: dict | None = None,
                  parent: RunRef | None = None, start_time_ms: int | None = None) -> RunRef:
        """A new run (its start now, or at ``start_time_ms``, milliseconds since the epoch)."""
        all_tags = {WORKER_TAG: _worker(), **(tags or {})}
        if parent is not None:
            all_tags["mlflow.parentRunId"] = parent.run_id
        run = self.client.create_run(self.experiment_id, run_name=name, tags={k: str(v) for k, v in all_tags.items()},
                                     start_time=start_time_ms)
        ref = RunRef(run.info.run_id, self.experiment_id)
        if params:
            self.log(ref, params=params)
        return ref

    @contextmanager
    def run(self, name: str, params: dict | None = None, tags: dict | None = None,
            parent: RunRef | None = None) -> Iterator[RunRef]:
        """A run that ends FINISHED, KILLED (Ctrl-C) or FAILED with the block that uses it (None when offline)."""
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

    @_tolerant
    def end_run(self, ref: RunRef | None, status: str = "FINISHED", end_time_ms: int | None = None) -> None:
        if ref is not None:
            self.client.set_terminated(ref.run_id, status=status, end_time=end_time_ms)

    def resume_run(self, run_id: str) -> RunRef | None:
        """Reopen run ``run_id`` of this experiment (a resumed search continues its own run), or None."""
        if self.offline:
            return None
        try:
            run = self.client.get_run(run_id)
        except Exception:  # noqa: BLE001 - MLflow raises its own error types for unknown ids
            return None
        if run.info.experiment_id != self.experiment_id or run.info.lifecycle_stage != "active":
            return None
        return self._reopen(run_id)

    @_tolerant
    def _reopen(self, run_id: str) -> RunRef:
        self.client.update_run(run_id, status="RUNNING")
        self.client.set_tag(run_id, WORKER_TAG, _worker())
        return RunRef(run_id, self.experiment_id)

    @_tolerant
    def log_step(self, ref: RunRef | None, rows, timing: dict | None = None) -> None:
        """Log a search step's trace rows (value, best so far, regret, hypervolume) and its timings
        (at the step's first evaluation)."""
        series: dict[str, list[tuple[int, float]]] = {}
        for rec in rows.to_dict("records"):
            for key in STEP_METRICS:
                v = rec.get(key)
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    series.setdefault(key, []).append((int(rec["step"]), float(v)))
        if timing and len(rows):
            first = int(rows["step"].iloc[0])
            for key in TIMING_METRICS:
                if key in timing:
                    series.setdefault(key, []).append((first, float(timing[key])))
        if series and ref is not None:
            self.log_series(ref, series)

    @_tolerant
    def log(self, ref: RunRef | None, metrics: dict | None = None, params: dict | None = None,
            tags: dict | None = None, step: int = 0) -> None:
        """Log scalars, params and tags in as few batches as possible."""
        if ref is not None:
            self.log_series(ref, {k: [(step, v)] for k, v in (metrics or {}).items() if v is not None},
                            params=params, tags=tags)

    @_tolerant
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

    @_tolerant
    def log_artifact(self, ref: RunRef | None, path: str | Path, folder: str | None = None) -> None:
        if ref is not None:
            self.client.log_artifact(ref.run_id, str(path), artifact_path=folder)

    # -- the record of one training run ------------------------------------
    def record_training(self, store, result: TrainResult, parent: RunRef | None, evaluation_id: int) -> None:
        """Log a stored training and link its evaluation to the run; when MLflow fails, count it as unlogged."""
        ref = self.log_training(result, parent, evaluation_id)
        if ref is None:
            self.unlogged.append(int(evaluation_id))
        else:
            store.set_mlflow_run_id(evaluation_id, ref.run_id)

    @_tolerant
    def log_training(self, result: TrainResult, parent: RunRef | None, evaluation_id: int | None = None,
                     finished_at: datetime | None = None) -> RunRef:
        """One nested run for one trained architecture (tagged with its database id); returns its reference.

        The run is named by the architecture's short form (:func:`run_name`); the full
        text is its ``arch`` parameter. It spans the training itself: it ends when the training
        finished (``finished_at``, default now) and starts ``train_seconds`` before. A run of the
        same evaluation left unfinished by a killed process is completed instead of duplicated.
        """
        end_ms = int((finished_at or datetime.now(timezone.utc)).timestamp() * 1000)
        start_ms = end_ms - int(round(1000 * (result.train_seconds or 0.0)))
        tags = {"canonical_key": result.canonical_key[:5000], "status": result.status.value, "kind": "training",
                "space": result.space}
        if evaluation_id is not None:
            tags["evaluation_id"] = str(evaluation_id)
        ref = self._unfinished_training(evaluation_id)
        if ref is None:
            ref = self.start_run(name=run_name(result), parent=parent, tags=tags, start_time_ms=start_ms)
            if ref is None:
                return None
        # A resumed run logs only the epochs it added (its earlier ones are in the same run already).
        series = {
            "train_loss": list(enumerate(result.train_losses, start=1))[result.resumed_at:],
            "valid_acc_curve": list(enumerate(result.valid_accs, start=1))[result.resumed_at:],
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
                series[k] = [(result.epochs_done, v)]
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
        self.end_run(ref, "FINISHED" if result.status.value == "ok" else "FAILED", end_time_ms=end_ms)
        # A run that MLflow failed to complete counts as unlogged; the next catch-up completes it.
        return None if self.offline else ref

    def _unfinished_training(self, evaluation_id: int | None) -> RunRef | None:
        if evaluation_id is None:
            return None
        runs = self.client.search_runs([self.experiment_id], filter_string=f"tags.evaluation_id = '{int(evaluation_id)}'",
                                       max_results=1)
        return RunRef(runs[0].info.run_id, self.experiment_id) if runs else None

    def log_evaluation(self, evaluation, parent: RunRef | None) -> RunRef | None:
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
        return self.log_training(result, parent, evaluation.id, finished_at=evaluation.finished_at)

    def ui_hint(self) -> str:
        """The command that opens this store in the MLflow UI."""
        return ui_hint(self.uri)


def ui_hint(uri: str | None = None) -> str:
    """How to browse the tracking store ``uri`` (default: this project's)."""
    uri = uri or tracking_uri()
    if is_remote(uri):
        return f"open {uri}"
    return "surrogate-nas ui   (or: mlflow ui --backend-store-uri " + uri + ")"


def _worker() -> str:
    from surrogate_nas.storage.workers import worker_id  # the storage package imports pandas: only when needed

    return worker_id()


def _read_only_store(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open database" in text


def _one_line(exc: BaseException | None) -> str:
    text = " ".join(str(exc).split()) if exc is not None else "unknown error"
    return text if len(text) <= 300 else text[:299] + "~"


def _warn(line: str) -> None:
    """A warning on stderr that does not break a progress bar."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)
