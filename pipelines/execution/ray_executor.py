"""Training jobs as Ray tasks: on a local Ray instance, or on a running cluster.

Each job is one task with ``num_cpus=cpus_per_trial`` and ``num_gpus=gpus_per_trial``, on a
worker at the priority Ray itself runs at (:data:`TASK_RUNTIME_ENV`)
(fractional GPUs pack several small networks on one GPU; Ray sets the visible device, and
the task trains on the GPU it was given). Tasks are not retried by Ray (``max_retries=0``):
a task whose worker dies, runs out of memory or loses its node comes back as a
:class:`~.executors.Completion` with the reason, and the driver decides whether to retry.
``ray_address`` joins a running cluster (``auto``, or ``HOST:PORT``); otherwise a fresh local Ray
instance is started and stopped with the executor, whatever ``RAY_ADDRESS`` or the address file of
the last ``ray start`` (``/tmp/ray/ray_current_cluster``) say: a bare ``ray.init()`` would join
that cluster (or fail on a stale file), which is what ``--ray-address auto`` is for.
Install with ``pip install surrogate-nas[ray]``.
"""

from __future__ import annotations

import os

from surrogate_nas.errors import InputDataError
from surrogate_nas.pipelines.execution.executors import Completion, Executor
from surrogate_nas.pipelines.execution.jobs import TrainingJob, run_training_job


AUTH_MODE = "RAY_AUTH_MODE"

TASK_RUNTIME_ENV = {"env_vars": {"RAY_worker_niceness": "0"}}
"""The runtime environment of a training task. Ray runs task workers at niceness 15 so that its
own daemons come first; a training is the job's main work, and at 15 anything else on the machine
(the driver's next BO step, another program) starves it: under load a training on Ray took 20x
its time on a local worker. Workers for these tasks keep the niceness Ray was started with (0
unless it was started niced), as local workers keep the driver's."""


def _ray_task(job: TrainingJob) -> tuple[object, str]:
    """Ray's side: train on the GPU this task was given (if any); return the result and the worker."""
    import ray

    gpus = ray.get_gpu_ids()
    device = "cuda" if gpus else None
    return run_training_job(job, device), f"{ray.get_runtime_context().get_node_id()[:8]}:{os.getpid()}"


class RayExecutor(Executor):
    """Jobs as Ray tasks (see the module docstring).

    Args:
        workers: trainings at once (``slots``).
        cpus_per_trial, gpus_per_trial: resources of each task.
        ray_address: a running cluster to join, or None to start a local instance.
    """

    def __init__(self, workers: int, cpus_per_trial: float = 1, gpus_per_trial: float = 0,
                 ray_address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise InputDataError("--executor ray needs Ray: pip install 'surrogate-nas[ray]'") from None
        self._ray = ray
        self.slots = int(workers)
        self._owns = not ray.is_initialized() and not ray_address
        # A local instance turns Ray's token authentication on by setting RAY_AUTH_MODE in this
        # process's environment; it is put back on close, so what runs afterwards (a `ray start`
        # cluster joined with --ray-address, say) sees the environment it was given.
        self._auth_mode = os.environ.get(AUTH_MODE)
        if not ray.is_initialized():
            try:
                if ray_address:
                    ray.init(address=ray_address, log_to_driver=False, include_dashboard=False)
                else:
                    ray.init(address="local", num_cpus=max(int(self.slots * cpus_per_trial), 1), num_gpus=None,
                             include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise InputDataError(f"cannot start or join Ray ({ray_address or 'local'}): {exc}") from None
        self._remote = ray.remote(_ray_task).options(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, max_retries=0,
                                                     runtime_env=TASK_RUNTIME_ENV)
        self._refs: dict = {}  # ObjectRef -> ticket
        self._workers: dict[str, int] = {}
        self._next = 0

    @property
    def running(self) -> int:
        return len(self._refs)

    def submit(self, job: TrainingJob) -> int:
        self._next += 1
        self._refs[self._remote.remote(job)] = self._next
        return self._next

    def wait(self, timeout=None) -> list[Completion]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        if ready:  # collect whatever else finished meanwhile
            ready, _ = self._ray.wait(list(self._refs), num_returns=len(self._refs), timeout=0)
        out = []
        for ref in ready:
            ticket = self._refs.pop(ref)
            try:
                result, worker = self._ray.get(ref)
            except self._ray.exceptions.RayError as exc:
                reason = " ".join(str(exc).split())[:300]
                out.append(Completion(ticket, None, f"Ray task failed: {type(exc).__name__}: {reason}"))
                continue
            out.append(Completion(ticket, result, "", self._workers.setdefault(worker, len(self._workers))))
        return out

    def close(self) -> None:
        for ref in list(self._refs):
            self._ray.cancel(ref, force=True)
        self._refs.clear()
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        if self._owns:
            if self._auth_mode is None:
                os.environ.pop(AUTH_MODE, None)
            else:
                os.environ[AUTH_MODE] = self._auth_mode
