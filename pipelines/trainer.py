"""Train architectures through the database: claim, train with a heartbeat, store.

This is the one place where the claim protocol meets training; ``seed``, live search
and ``quickstart`` all go through :class:`DatabaseTrainer`. Each architecture is claimed
before it is trained, so an architecture already evaluated under the same setting (by
this process, an earlier run, a ``seed`` run or another worker) is read back, never
retrained; while it trains, a background thread refreshes the claim's heartbeat so that
other workers see it is alive, and a training whose process dies leaves a claim that
goes stale after the store's grace period and is taken over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from surrogate_nas.datasets import Dataset
from surrogate_nas.records import Evaluation, Setting, TrainResult
from surrogate_nas.storage.records import utcnow
from surrogate_nas.training import train

HEARTBEAT_S = 30.0
"""Seconds between heartbeats of a running claim (well under the store's grace period)."""


@dataclass(frozen=True)
class TrainingOutcome:
    """What became of one requested training.

    Attributes:
        arch: the architecture.
        result: the training this process ran, or None.
        evaluation_id: the stored evaluation (trained here or found), or None when skipped.
        stored: the evaluation found in the database instead of training, or None.
        skipped: why nothing was trained or found (another live worker holds it), or "".
    """

    arch: object
    result: TrainResult | None = None
    evaluation_id: int | None = None
    stored: Evaluation | None = None
    skipped: str = ""

    @property
    def trained(self) -> bool:
        return self.result is not None


@contextmanager
def heartbeat(store, evaluation_ids: list[int], every_s: float = HEARTBEAT_S):
    """Refresh the claims on ``evaluation_ids`` every ``every_s`` seconds while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                store.heartbeat(evaluation_ids)
            except Exception:  # noqa: BLE001 - a missed beat must never kill the training
                continue

    thread = threading.Thread(target=beat, name="surrogate-nas-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


class DatabaseTrainer:
    """Trains architectures of one setting through the architecture database.

    Args:
        store: the :class:`~surrogate_nas.storage.ArchitectureStore`.
        space: the search space.
        dataset: loaded splits; its name must be the setting's dataset.
        setting: space, dataset, network, training recipe and seed.
        device: where to train.
        on_trained: called as ``on_trained(result, evaluation_id)`` right after each new
            training is stored (the CLI logs it to MLflow there).
        heartbeat_s: seconds between heartbeats of a running claim; at most a third of the
            store's grace period, so a live claim never looks stale.
        on_wait: called with one line when :meth:`run` starts waiting for another worker.
    """

    def __init__(self, store, space, dataset: Dataset, setting: Setting, device: str = "auto",
                 on_trained: Callable[[TrainResult, int], None] | None = None,
                 heartbeat_s: float = HEARTBEAT_S, on_wait: Callable[[str], None] | None = None) -> None:
        self.store, self.space, self.dataset, self.setting = store, space, dataset, setting
        self.device, self.on_trained, self.on_wait = device, on_trained, on_wait
        self.heartbeat_s = min(heartbeat_s, max(store.stale_after / 3, 0.2))

    def run(self, arch, wait_s: float = 0.0) -> TrainingOutcome:
        """Train ``arch`` unless the database has it; wait up to ``wait_s`` for another worker's run.

        A claim held by a live worker is waited for (polling every second) until it
        finishes, goes stale (then it is taken over) or ``wait_s`` passes (then the
        outcome says who holds it).
        """
        deadline = time.monotonic() + wait_s
        waiting = False
        while True:
            evaluation_id = self.store.claim(self.space, arch, self.setting)
            if evaluation_id is not None:
                return self._train(arch, evaluation_id)
            found = self.store.lookup(self.space, arch, self.setting)
            if found is not None and found.status.finished:
                return TrainingOutcome(arch, evaluation_id=found.id, stored=found)
            if time.monotonic() >= deadline:
                return TrainingOutcome(arch, skipped=self._held(found))
            if not waiting and self.on_wait is not None:
                self.on_wait(f"waiting for {arch.to_string()}: {self._held(found)}")
            waiting = True
            time.sleep(1.0)

    def _held(self, found: Evaluation | None) -> str:
        """Who holds a claim, how fresh it is, and how it ends."""
        if found is None:
            return "another worker is training it"
        beat = found.heartbeat_at or found.created_at
        age = (utcnow() - beat.replace(tzinfo=None)).total_seconds()
        return (f"worker {found.worker} is training it (evaluation {found.id}, last heartbeat {age:.0f}s ago; "
                f"taken over once it is {self.store.stale_after:.0f}s old, or free it with "
                f"`surrogate-nas db release {found.id}`)")

    def _train(self, arch, evaluation_id: int) -> TrainingOutcome:
        s = self.setting
        try:
            with heartbeat(self.store, [evaluation_id], self.heartbeat_s):
                result = train(self.space, arch, s.network, s.train, self.dataset, s.seed, self.device)
        except BaseException:
            self.store.release(evaluation_id)
            raise
        if not self.store.finish(evaluation_id, result):
            # Our claim was presumed stale and another worker finished the evaluation first.
            return TrainingOutcome(arch, evaluation_id=evaluation_id, stored=self.store.evaluation(evaluation_id))
        if self.on_trained is not None:
            self.on_trained(result, evaluation_id)
        return TrainingOutcome(arch, result=result, evaluation_id=evaluation_id)
