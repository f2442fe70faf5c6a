"""A training job: the pure function a worker runs, and the small value it is given.

The driver keeps the search state and every database write (claims, heartbeats, results);
a worker only turns a :class:`TrainingJob` into a :class:`~surrogate_nas.records.TrainResult`
with :func:`run_training_job`, which is :func:`surrogate_nas.training.train` plus loading the
data (once per worker process) and choosing the device the worker was given. So the same job
runs in the driver, in a local worker process or as a Ray task.
"""

from __future__ import annotations

from dataclasses import dataclass

from surrogate_nas.datasets import Dataset, DatasetSpec
from surrogate_nas.records import NetworkConfig, TrainConfig, TrainResult

_DATA: dict[DatasetSpec, Dataset] = {}
"""Datasets this worker process has loaded, by spec (a worker trains many jobs on one dataset)."""


@dataclass(frozen=True)
class TrainingJob:
    """Everything one training depends on, as plain picklable values.

    Attributes:
        space: a registered space's name, or the space itself (a space of your own).
        arch: the architecture in the space's text form.
        network, train, seed: the setting.
        data: where the data comes from.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:K``; a worker given a GPU slot overrides it.
        threads: torch CPU threads for this training.
        stop_after: stop after this many epochs and return a checkpoint (None: train them all).
        resume: a checkpoint of the same training to continue from.
        keep_weights: return the trained weights with the result.
    """

    space: object
    arch: str
    network: NetworkConfig
    train: TrainConfig
    data: DatasetSpec
    seed: int
    device: str = "auto"
    threads: int = 1
    stop_after: int | None = None
    resume: bytes | None = None
    keep_weights: bool = False


def remember_dataset(spec: DatasetSpec, dataset: Dataset) -> None:
    """Let jobs of ``spec`` run in this process on ``dataset``, already loaded, instead of loading it again."""
    _DATA[spec] = dataset


def run_training_job(job: TrainingJob, device: str | None = None) -> TrainResult:
    """Train ``job`` in this process (``device`` overrides the job's, e.g. the GPU a worker was given).

    Torch and the BLAS libraries get ``job.threads`` threads: a worker uses the CPUs it was
    given and no more, so several workers on a busy machine do not oversubscribe it.
    """
    import torch
    from threadpoolctl import threadpool_limits

    from surrogate_nas.training import train

    torch.set_num_threads(max(int(job.threads), 1))
    threadpool_limits(limits=max(int(job.threads), 1))
    data = _DATA.get(job.data)
    if data is None:
        data = _DATA[job.data] = job.data.load()
    return train(job.space, job.arch, job.network, job.train, data, job.seed, device or job.device,
                 stop_after=job.stop_after, resume=job.resume, keep_weights=job.keep_weights)
