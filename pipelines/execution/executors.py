"""Executors run training jobs: in this process, in local worker processes, or as Ray tasks.

An executor has ``slots`` (trainings at once); :meth:`Executor.submit` hands it a
:class:`~.jobs.TrainingJob` and returns a ticket; :meth:`Executor.wait` returns the jobs that
finished, each a :class:`Completion` holding the result or, when the worker itself died
(killed, out of memory, node lost), why. Retrying such a job is the driver's decision.

Adding an executor is a class here (or in its own module, as Ray's) plus a line in
:data:`EXECUTORS`.
"""

from __future__ import annotations

import ctypes
import importlib.util
import multiprocessing
import queue
import signal
import sys
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import TrainResult
from surrogate_nas.pipelines.execution.jobs import TrainingJob, run_training_job

EXECUTORS = ("inprocess", "local", "ray")
"""``inprocess``: trainings one after another in this process (the default for one worker);
``local``: worker processes on this machine (the default for more); ``ray``: Ray tasks."""


@dataclass(frozen=True)
class Completion:
    """A finished job: its result, or why its worker died."""

    ticket: int
    result: TrainResult | None
    error: str = ""
    worker: int | None = None


class Executor(ABC):
    """Runs pure training jobs; the driver keeps the search state and the database."""

    slots: int = 1

    @abstractmethod
    def submit(self, job: TrainingJob) -> int:
        """Start ``job``; return its ticket."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[Completion]:
        """Jobs that finished: at least one when any is running, unless ``timeout`` seconds pass first."""

    @property
    @abstractmethod
    def running(self) -> int:
        """Jobs submitted and not yet returned by :meth:`wait`."""

    def close(self) -> None:
        """Stop the workers (running jobs are abandoned)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class InProcessExecutor(Executor):
    """One training at a time, in this process (no start-up cost; the default for one worker)."""

    slots = 1

    def __init__(self) -> None:
        self._queue: list[tuple[int, TrainingJob]] = []
        self._next = 0

    def submit(self, job: TrainingJob) -> int:
        self._next += 1
        self._queue.append((self._next, job))
        return self._next

    @property
    def running(self) -> int:
        return len(self._queue)

    def wait(self, timeout=None) -> list[Completion]:
        if not self._queue:
            return []
        ticket, job = self._queue.pop(0)
        return [Completion(ticket, run_training_job(job), worker=0)]


def _worker_main(index: int, jobs, results, device: str | None) -> None:
    """A local worker: train jobs from ``jobs`` until told to stop; dies with its driver (Linux)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    while True:
        item = jobs.get()
        if item is None:
            return
        ticket, job = item
        try:
            results.put((ticket, index, run_training_job(job, device), ""))
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which decides
            results.put((ticket, index, None, f"{type(exc).__name__}: {exc}"))


class LocalExecutor(Executor):
    """``workers`` long-lived worker processes on this machine.

    Each worker imports torch once and loads the data once, then trains job after job. A
    worker that dies (killed, out of memory) is replaced, and its job comes back as a
    :class:`Completion` with the reason. Workers are started with ``spawn`` (safe with
    torch's thread pools) and die with the driver.

    Args:
        workers: worker processes.
        gpus_per_trial: GPUs each training may use; 0 for none, a fraction packs several
            workers onto one GPU (0.5: two per GPU). Worker ``i`` trains on
            ``cuda:floor(i * gpus_per_trial) mod GPUs``.
    """

    def __init__(self, workers: int, gpus_per_trial: float = 0.0) -> None:
        if int(workers) < 1:
            raise InputDataError(f"workers must be >= 1, got {workers}")
        self.slots = int(workers)
        self._devices = _local_devices(self.slots, gpus_per_trial)
        self._ctx = multiprocessing.get_context("spawn")
        self._results = self._ctx.Queue()
        self._procs: list = [None] * self.slots
        self._inboxes: list = [None] * self.slots
        self._busy: dict[int, int] = {}  # worker -> ticket
        self._next = 0
        for i in range(self.slots):
            self._start(i)

    def _start(self, i: int) -> None:
        self._inboxes[i] = self._ctx.Queue()
        self._procs[i] = self._ctx.Process(target=_worker_main, args=(i, self._inboxes[i], self._results,
                                                                      self._devices[i]), daemon=True)
        self._procs[i].start()

    @property
    def running(self) -> int:
        return len(self._busy)

    def submit(self, job: TrainingJob) -> int:
        idle = [i for i in range(self.slots) if i not in self._busy]
        if not idle:
            raise InputDataError("every worker is busy; wait for one to finish first")
        self._next += 1
        self._busy[idle[0]] = self._next
        self._inboxes[idle[0]].put((self._next, job))
        return self._next

    def wait(self, timeout=None) -> list[Completion]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._busy:
            done = self._drain(0.2)
            done += self._dead_workers()
            if done:
                return done
            if deadline is not None and time.monotonic() >= deadline:
                return []
        return []

    def _drain(self, block_s: float) -> list[Completion]:
        out = []
        try:
            item = self._results.get(timeout=block_s)
        except queue.Empty:
            return out
        while True:
            ticket, worker, result, error = item
            self._busy.pop(worker, None)
            out.append(Completion(ticket, result, error, worker))
            try:
                item = self._results.get_nowait()
            except queue.Empty:
                return out

    def _dead_workers(self) -> list[Completion]:
        out = []
        for worker, ticket in list(self._busy.items()):
            proc = self._procs[worker]
            if not proc.is_alive():
                code = proc.exitcode
                reason = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                self._busy.pop(worker)
                out.append(Completion(ticket, None, f"worker process {proc.pid} died ({reason})", worker))
                self._start(worker)
        return out

    def close(self) -> None:
        for inbox in self._inboxes:
            try:
                inbox.put(None)
            except (OSError, ValueError):
                pass
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        self._busy.clear()

    def worker_pids(self) -> list[int]:
        """Process ids of the workers (to watch or, in tests, to kill one)."""
        return [p.pid for p in self._procs]


def _local_devices(workers: int, gpus_per_trial: float) -> list[str | None]:
    if not gpus_per_trial:
        return [None] * workers
    import torch

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise InputDataError(f"--gpus-per-trial {gpus_per_trial} needs a GPU, and torch sees none")
    if gpus_per_trial > 1:
        raise InputDataError("a local worker trains on one GPU; use --gpus-per-trial <= 1 (or Ray)")
    return [f"cuda:{int(i * gpus_per_trial) % count}" for i in range(workers)]


def check_execution(name: str | None, workers: int = 1, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                    ray_address: str | None = None) -> str:
    """Validate execution options before any work starts; returns the executor name they resolve to.

    Raises:
        InputDataError: an unknown name, bad resources, or Ray not installed.
    """
    if int(workers) < 1:
        raise InputDataError(f"--workers must be >= 1, got {workers}")
    if not cpus_per_trial > 0 or gpus_per_trial < 0:
        raise InputDataError("--cpus-per-trial must be > 0 and --gpus-per-trial >= 0")
    name = name or ("inprocess" if workers == 1 and not gpus_per_trial else "local")
    if name not in EXECUTORS:
        raise InputDataError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")
    if ray_address and name != "ray":
        raise InputDataError("--ray-address needs --executor ray")
    if name == "inprocess" and workers != 1:
        raise InputDataError("the inprocess executor trains one architecture at a time; use --executor local")
    if name == "ray" and importlib.util.find_spec("ray") is None:
        raise InputDataError("--executor ray needs Ray: pip install 'surrogate-nas[ray]'")
    if name == "local":
        _local_devices(int(workers), gpus_per_trial)
    return name


def make_executor(name: str | None, workers: int = 1, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                  ray_address: str | None = None) -> Executor:
    """The executor called ``name`` (``None``: in-process for one worker, local processes for more).

    Raises:
        InputDataError: see :func:`check_execution`.
    """
    name = check_execution(name, workers, cpus_per_trial, gpus_per_trial, ray_address)
    if name == "inprocess":
        return InProcessExecutor()
    if name == "local":
        return LocalExecutor(workers, gpus_per_trial)
    from surrogate_nas.pipelines.execution.ray_executor import RayExecutor

    return RayExecutor(workers, cpus_per_trial, gpus_per_trial, ray_address)


def threads_per_trial(cpus_per_trial: float) -> int:
    """Torch threads a training may use for ``cpus_per_trial`` CPUs (at least one)."""
    return max(1, int(cpus_per_trial))


__all__ = ["EXECUTORS", "Completion", "Executor", "InProcessExecutor", "LocalExecutor", "check_execution", "make_executor",
           "threads_per_trial"]
