"""``journal``: trainings one after another in this process, each also written to a journal file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from surrogate_nas.pipelines.execution.executors import Executor, InProcessExecutor


class JournalExecutor(Executor):
    """In-process trainings, each finished one appended as a JSON line to a journal.

    It wraps the in-process executor; being built with no ``workers`` argument, it trains one
    architecture at a time (``--workers 2`` is refused).

    Args:
        path: the journal (default ``$SURROGATE_NAS_JOURNAL``, else ``trainings.jsonl`` here).
    """

    slots = 1

    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or os.environ.get("SURROGATE_NAS_JOURNAL", "trainings.jsonl"))
        self._inner = InProcessExecutor()

    def submit(self, job) -> int:
        return self._inner.submit(job)

    @property
    def running(self) -> int:
        return self._inner.running

    def wait(self, timeout=None):
        done = self._inner.wait(timeout)
        if done:
            with self.path.open("a") as journal:
                for completion in done:
                    result = completion.result
                    journal.write(json.dumps({
                        "arch": result.arch if result else None, "status": result.status.value if result else "died",
                        "valid_acc": result.valid_acc if result else None,
                        "seconds": round(result.train_seconds, 3) if result else None,
                        "error": completion.error}) + "\n")
        return done
