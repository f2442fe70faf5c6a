"""Train architectures through the database: claim, train on an executor with a heartbeat, store.

This is the one place where the claim protocol meets training; ``seed``, live search and
``quickstart`` all go through :class:`DatabaseTrainer`. The trainer is the *driver*: it claims
each architecture before training it (an architecture already evaluated under the same setting,
by this process, an earlier run or another worker, is read back, never retrained), hands the
pure training job to an executor (in this process, local worker processes or Ray), refreshes the
heartbeat of every running claim from a background thread, and stores each result as it
arrives. A job whose worker dies is retried up to ``max_retries`` times, then its claim is
released and it comes back as failed with the reason; the search goes on. Interrupting the
driver releases its running claims; killing it leaves claims that go stale after the store's
grace period (or at once, on this host) and are taken over by the rerun.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from surrogate_nas.datasets import Dataset, DatasetSpec
from surrogate_nas.records import Evaluation, Setting, Status, TrainResult
from surrogate_nas.storage.records import utcnow
from surrogate_nas.pipelines.execution.executors import Completion, Executor, InProcessExecutor
from surrogate_nas.pipelines.execution.jobs import TrainingJob, remember_dataset

HEARTBEAT_S = 30.0
"""Seconds between heartbeats of the running claims (well under the store's grace period)."""

POLL_S = 1.0
"""How often a claim held by another live worker is checked while waiting for it."""


@dataclass(frozen=True)
class TrainingOutcome:
    """What became of one requested training.

    Attributes:
        arch: the architecture.
        setting: the setting it was requested under.
        result: the training this process ran, or None.
        evaluation_id: the stored evaluation (trained here or found), or None.
        stored: the evaluation found in the database instead of training, or None.
        skipped: why nothing was trained or found (another live worker holds it), or "".
        failed: why the training's worker died on every attempt, or "" (its claim was released).
        worker: the executor's worker that trained it, when known.
        running: trainings still running when this outcome was reported (for progress displays).
        seconds: training seconds this request cost (a continued run counts only its new epochs).
    """

    arch: object
    setting: Setting | None = None
    result: TrainResult | None = None
    evaluation_id: int | None = None
    stored: Evaluation | None = None
    skipped: str = ""
    failed: str = ""
    worker: int | None = None
    running: int = 0
    seconds: float = 0.0

    @property
    def trained(self) -> bool:
        return self.result is not None


@dataclass
class _Job:
    arch: object
    setting: Setting
    evaluation_id: int
    job: TrainingJob
    attempts: int = 1
    seconds_before: float = 0.0
    checkpoint: str | None = None


@dataclass
class _Waiting:
    arch: object
    setting: Setting
    deadline: float
    stop_after: int | None = None


@dataclass
class _Heartbeat:
    """A thread refreshing the claims in ``ids`` every ``every_s`` seconds."""

    store: object
    every_s: float
    ids: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="surrogate-nas-heartbeat", daemon=True)
        self.thread.start()

    def _beat(self) -> None:
        while not self.stop.wait(self.every_s):
            with self.lock:
                ids = list(self.ids)
            try:
                self.store.heartbeat(ids)
            except Exception:  # noqa: BLE001 - a missed beat must never stop the trainings
                continue

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


class DatabaseTrainer:
    """Trains architectures of one space and dataset through the architecture database.

    Args:
        store: the :class:`~surrogate_nas.storage.ArchitectureStore`.
        space: the search space.
        data: the dataset as loaded here, and where workers load it from.
        setting: the default setting of :meth:`start` (space, dataset, network, recipe, seed).
        device: where trainings run (a worker given a GPU slot uses that instead).
        on_trained: called as ``on_trained(result, evaluation_id)`` right after each new
            training is stored (the CLI logs it to MLflow there).
        executor: where trainings run; one at a time in this process by default.
        max_retries: new attempts for a job whose worker died before it fails.
        threads: torch threads per training.
        heartbeat_s: seconds between heartbeats of the running claims; at most a third of the
            store's grace period, so a live claim never looks stale.
        on_wait: called with one line when the trainer starts waiting for another worker.
        keep_weights: store the weights of every finished training beside the database
            (``store.weights``), for ``export``.
    """

    def __init__(self, store, space, data: tuple[DatasetSpec, Dataset], setting: Setting, device: str = "auto",
                 on_trained: Callable[[TrainResult, int], None] | None = None, executor: Executor | None = None,
                 max_retries: int = 1, threads: int = 1, heartbeat_s: float = HEARTBEAT_S,
                 on_wait: Callable[[str], None] | None = None, keep_weights: bool = False) -> None:
        self.store, self.space, self.setting, self.device = store, space, setting, device
        self.spec, self.dataset = data
        self.on_trained, self.max_retries, self.threads = on_trained, int(max_retries), int(threads)
        self.on_wait, self.keep_weights = on_wait, bool(keep_weights)
        self.executor = executor or InProcessExecutor()
        remember_dataset(self.spec, self.dataset)  # in-process jobs reuse the data loaded here
        self._jobs: dict[int, _Job] = {}
        self._waiting: list[_Waiting] = []
        self._done: list[TrainingOutcome] = []
        self._heartbeat = _Heartbeat(store, min(heartbeat_s, max(store.stale_after / 3, 0.2)))

    # -- submitting --------------------------------------------------------------------
    @property
    def free(self) -> int:
        """Trainings that may start now."""
        return self.executor.slots - self.executor.running

    @property
    def running(self) -> int:
        """Trainings in flight here, plus architectures waited for on other workers."""
        return len(self._jobs) + len(self._waiting)

    def start(self, arch, setting: Setting | None = None, wait_s: float = 0.0,
              stop_after: int | None = None, data: tuple[DatasetSpec, Dataset] | None = None) -> TrainingOutcome | None:
        """Claim ``arch`` and start training it; None while it runs (see :meth:`poll`).

        An architecture the database holds comes back at once (``stored``). One a live worker
        elsewhere is training is waited for up to ``wait_s`` seconds (it comes back through
        :meth:`poll`), or skipped at once when ``wait_s`` is 0. ``stop_after`` trains only that
        many epochs of the setting's schedule and pauses the evaluation with a checkpoint; a
        paused evaluation is continued from its checkpoint, and one already past
        ``stop_after`` epochs comes back as ``stored``. ``data`` trains on another split of the data
        than the trainer's (its spec and the dataset loaded here; not waited for).
        """
        setting = setting or self.setting
        stop = int(setting.train.epochs) if stop_after is None else int(stop_after)
        found = self.store.lookup(self.space, arch, setting)
        if found is not None and found.status is Status.PAUSED and found.epochs_done >= stop:
            return TrainingOutcome(arch, setting, evaluation_id=found.id, stored=found)
        evaluation_id = self.store.claim(self.space, arch, setting)
        if evaluation_id is None:
            found = self.store.lookup(self.space, arch, setting)
            if found is not None and found.status.finished:
                return TrainingOutcome(arch, setting, evaluation_id=found.id, stored=found)
            if wait_s <= 0:
                return TrainingOutcome(arch, setting, skipped=self.held_by(found))
            if self.on_wait is not None:
                self.on_wait(f"waiting for {arch.to_string()}: {self.held_by(found)}")
            self._waiting.append(_Waiting(arch, setting, time.monotonic() + wait_s, stop_after))
            return None
        claimed = self.store.evaluation(evaluation_id)
        resume = self.store.checkpoints.get(claimed.checkpoint) if claimed is not None else None
        if resume is not None and claimed.epochs_done >= stop:  # a stale claim that got this far already
            self.store.release(evaluation_id)
            return TrainingOutcome(arch, setting, evaluation_id=evaluation_id, stored=self.store.evaluation(evaluation_id))
        space = self.space.name if self.space.name in _registered() else self.space.with_cache(None)
        if data is not None:
            remember_dataset(*data)
        job = TrainingJob(space, arch.to_string(), setting.network, setting.train,
                          self.spec if data is None else data[0], setting.seed,
                          self.device, self.threads, stop if stop < int(setting.train.epochs) else None, resume,
                          self.keep_weights and stop >= int(setting.train.epochs))
        with self._heartbeat.lock:
            self._heartbeat.ids.add(evaluation_id)
        try:
            ticket = self.executor.submit(job)
        except BaseException:
            self._release(evaluation_id)
            raise
        self._jobs[ticket] = _Job(arch, setting, evaluation_id, job,
                                  seconds_before=(claimed.train_seconds or 0.0) if resume is not None else 0.0,
                                  checkpoint=claimed.checkpoint if claimed is not None else None)
        return None

    def held_by(self, found: Evaluation | None) -> str:
        """Who holds a claim, how fresh it is, and how it ends."""
        if found is None:
            return "another worker is training it"
        beat = found.heartbeat_at or found.created_at
        age = (utcnow() - beat.replace(tzinfo=None)).total_seconds()
        return (f"worker {found.worker} is training it (evaluation {found.id}, last heartbeat {age:.0f}s ago; "
                f"taken over once it is {self.store.stale_after:.0f}s old, or free it with "
                f"`surrogate-nas db release {found.id}`)")

    # -- collecting ----------------------------------------------------------------------
    def poll(self, timeout: float | None = None) -> list[TrainingOutcome]:
        """Outcomes of trainings that finished: at least one while any runs, unless ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            out, self._done = self._done, []
            try:
                if self._jobs:
                    wait = POLL_S if self._waiting else (None if deadline is None else max(deadline - time.monotonic(), 0))
                    for completion in self.executor.wait(wait):
                        out += self._finish(completion)
                out += self._check_waiting()
            except BaseException:
                self.release_running()
                raise
            if out or not self.running or (deadline is not None and time.monotonic() >= deadline):
                return out
            if not self._jobs:
                time.sleep(POLL_S)

    def run(self, arch, setting: Setting | None = None, wait_s: float = 0.0,
            stop_after: int | None = None) -> TrainingOutcome:
        """Train (or find, or wait for) ``arch`` and return its outcome; other trainings keep running."""
        outcome = self.start(arch, setting, wait_s, stop_after)
        key = (arch.canonical_key, setting or self.setting)
        others: list[TrainingOutcome] = []
        while outcome is None:
            for done in self.poll():
                if outcome is None and (done.arch.canonical_key, done.setting) == key:
                    outcome = done
                else:
                    others.append(done)
        self._done += others
        return outcome

    def _finish(self, completion: Completion) -> list[TrainingOutcome]:
        job = self._jobs.pop(completion.ticket)
        if completion.result is None:
            if job.attempts <= self.max_retries:
                job.attempts += 1
                self._jobs[self.executor.submit(job.job)] = job
                return []
            self._release(job.evaluation_id)
            return [TrainingOutcome(job.arch, job.setting, failed=completion.error, worker=completion.worker)]
        with self._heartbeat.lock:
            self._heartbeat.ids.discard(job.evaluation_id)
        result = completion.result
        if result.paused:
            path = self.store.checkpoints.put(job.evaluation_id, result.checkpoint)
            stored = self.store.pause(job.evaluation_id, result, path)
        else:
            stored = self.store.finish(job.evaluation_id, result)
            if stored:
                self.store.checkpoints.delete(job.checkpoint)
                if result.weights is not None:
                    self.store.weights.put(job.evaluation_id, result.weights)
        if not stored:
            # Our claim was presumed stale and another worker finished the evaluation first.
            found = self.store.evaluation(job.evaluation_id)
            return [TrainingOutcome(job.arch, job.setting, evaluation_id=job.evaluation_id, stored=found)]
        if self.on_trained is not None:
            self.on_trained(result, job.evaluation_id)
        return [TrainingOutcome(job.arch, job.setting, result=result, evaluation_id=job.evaluation_id,
                                worker=completion.worker, seconds=max(result.train_seconds - job.seconds_before, 0.0))]

    def _check_waiting(self) -> list[TrainingOutcome]:
        out, still = [], []
        for w in self._waiting:
            outcome = self.start(w.arch, w.setting, wait_s=0.0, stop_after=w.stop_after)
            if outcome is None:
                continue  # the other worker's claim went stale: ours now, and it is training
            if outcome.skipped and time.monotonic() < w.deadline:
                still.append(w)
            else:
                out.append(outcome)
        self._waiting = still
        return out

    # -- stopping --------------------------------------------------------------------------
    def release_running(self) -> None:
        """Release the claims of every training still running here (on interrupt)."""
        for job in self._jobs.values():
            self._release(job.evaluation_id)
        self._jobs.clear()

    def _release(self, evaluation_id: int) -> None:
        with self._heartbeat.lock:
            self._heartbeat.ids.discard(evaluation_id)
        self.store.release(evaluation_id)

    def close(self) -> None:
        """Release running claims, stop the heartbeat and the executor."""
        self.release_running()
        self._heartbeat.close()
        self.executor.close()

    def __enter__(self) -> "DatabaseTrainer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _registered() -> dict:
    from surrogate_nas.spaces import SPACES

    return SPACES
