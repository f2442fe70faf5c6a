"""Executors run training jobs: in this process, in local worker processes, or as Ray tasks.

An executor has ``slots`` (trainings at once); :meth:`Executor.submit` hands it a
:class:`~.jobs.TrainingJob` and returns a ticket; :meth:`Executor.wait` returns the jobs that
finished, each a :class:`Completion` holding the result or, when the worker itself died
(killed, out of memory, node lost), why. Retrying such a job is the driver's decision.

Adding an executor is a class here (or in its own module, as Ray's) plus a line in
:data:`EXECUTORS`, or, outside this package, a plug-in (:func:`register_executor`, the
``surrogate_nas.executors`` entry-point group, or ``--executor module:Class``; see
:mod:`surrogate_nas.plugins`). An executor class is built with the keywords its constructor
accepts among :data:`EXECUTION_OPTIONS`, which is also what it can do: one that takes no
``workers`` trains one architecture at a time. :func:`surrogate_nas.testing.check_executor`
runs the contract on any executor.
"""

from __future__ import annotations

import importlib
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from surrogate_nas.errors import InputDataError
from surrogate_nas.plugins import GROUPS, Registry, accepted_keywords, call_with_accepted
from surrogate_nas.records import TrainResult
from surrogate_nas.pipelines.execution.jobs import TrainingJob, run_training_job

EXECUTION_OPTIONS: tuple[str, ...] = ("workers", "cpus_per_trial", "gpus_per_trial", "ray_address")
"""The execution options (``--workers``, ``--cpus-per-trial``, ``--gpus-per-trial``, ``--ray-address``)
an executor class may take as keyword arguments."""


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


def _exit_with_driver() -> None:
    """Exit this worker the moment the driver that started it is gone (killed, crashed), even mid-training.

    The driver is the worker's parent in multiprocessing's sense, not necessarily in the
    operating system's (a fork server's children are the server's), so a death signal from
    the kernel would wait for the wrong process: a thread waits on the driver's sentinel instead.
    """
    driver = multiprocessing.parent_process()
    if driver is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([driver.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def _worker_main(index: int, jobs, results, device: str | None) -> None:
    """A local worker: train jobs from ``jobs`` until told to stop; dies with its driver."""
    _exit_with_driver()
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


WORKER_PRELOAD: tuple[str, ...] = ("torch", "torch._dynamo", "surrogate_nas.training",
                                   "surrogate_nas.pipelines.execution.jobs")
"""Modules the fork server imports once for every local worker forked from it. ``torch._dynamo``
is among them because torch's optimisers import it on first use, which costs a fresh process
about a second."""


def worker_context():
    """The multiprocessing context of local workers: a fork server where the platform has one.

    The fork server is a clean single-threaded process that imports :data:`WORKER_PRELOAD`
    once; each worker is forked from it, so it starts in milliseconds instead of importing
    torch again, and no driver thread or torch thread pool is ever forked. Elsewhere (Windows)
    workers are spawned. Either way a worker gets the driver's ``sys.path`` and working folder.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(WORKER_PRELOAD))
        return ctx
    return multiprocessing.get_context("spawn")


class LocalExecutor(Executor):
    """``workers`` long-lived worker processes on this machine.

    Each worker loads the data once, then trains job after job. A worker that dies (killed,
    out of memory) is replaced, and its job comes back as a :class:`Completion` with the
    reason. Workers come from :func:`worker_context` (safe with torch's thread pools) and
    die with the driver.

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
        self._ctx = worker_context()
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


@dataclass(frozen=True)
class ExecutorSpec:
    """A named executor.

    Attributes:
        factory: the class (or a function called like it), or its ``module:Class`` path; built
            with the keywords it accepts among :data:`EXECUTION_OPTIONS`.
        description: one line for listings.
        check: validates the execution options before any work (raises InputDataError), or None.
    """

    factory: str | Callable[..., Executor]
    description: str = ""
    check: Callable[..., None] | None = None

    def load(self) -> Callable[..., Executor]:
        if isinstance(self.factory, str):
            module, _, name = self.factory.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.factory

    def accepts(self) -> set[str]:
        """The execution options it takes."""
        return accepted_keywords(self.load(), EXECUTION_OPTIONS)


def _check_local(workers, cpus_per_trial, gpus_per_trial, ray_address) -> None:
    _local_devices(int(workers), gpus_per_trial)


def _check_ray(workers, cpus_per_trial, gpus_per_trial, ray_address) -> None:
    if importlib.util.find_spec("ray") is None:
        raise InputDataError("--executor ray needs Ray: pip install 'surrogate-nas[ray]'")


EXECUTORS: dict[str, ExecutorSpec] = {
    "inprocess": ExecutorSpec(InProcessExecutor, "trainings one after another in this process (the default for one "
                                                 "worker)"),
    "local": ExecutorSpec(LocalExecutor, "worker processes on this machine (the default for more)", _check_local),
    "ray": ExecutorSpec("surrogate_nas.pipelines.execution.ray_executor:RayExecutor",
                        "Ray tasks, on a local instance or a cluster (--ray-address)", _check_ray),
}
"""Built-in executor name -> :class:`ExecutorSpec`."""


def make_executor_spec(obj, name: str | None = None) -> ExecutorSpec:
    """An :class:`ExecutorSpec` from what a plug-in names: a spec, an :class:`Executor` subclass or a
    function called like one.

    Raises:
        TypeError: anything else (an executor *object* is one run's workers: pass it to the API instead).
    """
    if isinstance(obj, ExecutorSpec):
        return obj
    if isinstance(obj, Executor) or not callable(obj):
        raise TypeError(f"expected an Executor subclass, an ExecutorSpec or a function returning an Executor, "
                        f"got {type(obj).__name__}")
    doc = (obj.__doc__ or "").strip()
    return ExecutorSpec(obj, doc.splitlines()[0] if doc else "")


EXECUTOR_PLUGINS: Registry[ExecutorSpec] = Registry("executor", GROUPS["executor"], EXECUTORS, make_executor_spec,
                                                    "surrogate-nas executors")
"""Every named executor: :data:`EXECUTORS`, :func:`register_executor` and ``surrogate_nas.executors`` entry points."""


def register_executor(name: str, executor, replace: bool = False) -> None:
    """Give an executor a name usable as ``--executor NAME`` (and ``executor=`` of the API) in this process.

    Args:
        name: the name.
        executor: an :class:`Executor` subclass, a function called like one, an :class:`ExecutorSpec`
            or a ``module:Class`` import path.
        replace: replace an earlier registration of the same name.

    Raises:
        InputDataError: a built-in name, or one already registered without ``replace``.
    """
    EXECUTOR_PLUGINS.register(name, executor, replace)


def check_execution(name, workers: int = 1, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                    ray_address: str | None = None) -> str:
    """Validate execution options before any work starts; returns the executor's name they resolve to.

    Args:
        name: a built-in, registered or installed executor's name, ``module:Class``, an
            :class:`Executor` object (used as it is) or class; None for the default (``inprocess``
            for one worker, ``local`` for more).

    Raises:
        InputDataError: an unknown name, options the executor does not take, bad resources, or
            Ray not installed.
        PluginError: an installed executor plug-in that cannot be loaded.
    """
    if int(workers) < 1:
        raise InputDataError(f"--workers must be >= 1, got {workers}")
    if not cpus_per_trial > 0 or gpus_per_trial < 0:
        raise InputDataError("--cpus-per-trial must be > 0 and --gpus-per-trial >= 0")
    if isinstance(name, Executor):
        return type(name).__name__
    name = name if name is not None else ("inprocess" if workers == 1 and not gpus_per_trial else "local")
    spec = EXECUTOR_PLUGINS.resolve(name)
    label = name.strip().lower() if isinstance(name, str) and name in EXECUTOR_PLUGINS else _label(name)
    takes = spec.accepts()
    if ray_address and "ray_address" not in takes:
        raise InputDataError(f"--ray-address needs --executor ray; the {label} executor does not join a cluster")
    if int(workers) != 1 and "workers" not in takes:
        raise InputDataError(f"the {label} executor trains one architecture at a time; use --executor local")
    if spec.check is not None:
        spec.check(int(workers), cpus_per_trial, gpus_per_trial, ray_address)
    return label


def make_executor(name, workers: int = 1, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                  ray_address: str | None = None) -> Executor:
    """The executor ``name`` stands for (``None``: in-process for one worker, local processes for more);
    an :class:`Executor` object is returned as it is.

    Raises:
        InputDataError: see :func:`check_execution`; also a factory that returns no Executor.
    """
    check_execution(name, workers, cpus_per_trial, gpus_per_trial, ray_address)
    if isinstance(name, Executor):
        return name
    name = name if name is not None else ("inprocess" if workers == 1 and not gpus_per_trial else "local")
    spec = EXECUTOR_PLUGINS.resolve(name)
    executor = call_with_accepted(spec.load(), workers=int(workers), cpus_per_trial=cpus_per_trial,
                                  gpus_per_trial=gpus_per_trial, ray_address=ray_address)
    if not isinstance(executor, Executor):
        raise InputDataError(f"executor {_label(name)} made a {type(executor).__name__}, not an Executor")
    return executor


def _label(name) -> str:
    if isinstance(name, str):
        return name.strip()
    return getattr(name, "__qualname__", type(name).__name__)


def threads_per_trial(cpus_per_trial: float) -> int:
    """Torch threads a training may use for ``cpus_per_trial`` CPUs (at least one)."""
    return max(1, int(cpus_per_trial))


__all__ = ["EXECUTION_OPTIONS", "EXECUTORS", "EXECUTOR_PLUGINS", "Completion", "Executor", "ExecutorSpec",
           "InProcessExecutor", "LocalExecutor", "WORKER_PRELOAD", "check_execution", "make_executor",
           "register_executor", "threads_per_trial", "worker_context"]
