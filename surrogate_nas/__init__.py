"""surrogate-nas core: search spaces, network builders, datasets, trainer, storage, tables.

The core knows nothing of predictors, pipelines, MLflow or the CLI; those
layers (``surrogate_nas.predictors``, ``surrogate_nas.pipelines``) import it,
never the other way round. Importing the package is cheap: torch is imported
only by the modules that build or train networks.

The user-facing functions :func:`search`, :func:`seed` and :func:`compare` (the Python
API the CLI is built on, :mod:`surrogate_nas.pipelines.api`), :func:`export` and :func:`measure`
(:mod:`surrogate_nas.pipelines.ship`) are re-exported here, loaded
on first use, and so is one ``register_*`` function per kind of plug-in
(:func:`register_space`, :func:`register_strategy`, :func:`register_predictor`,
:func:`register_executor`, :func:`register_dataset`; see :mod:`surrogate_nas.plugins`).
"""

from surrogate_nas.errors import SurrogateNASError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig, TrainResult
from surrogate_nas.plugins import PluginError
from surrogate_nas.spaces import SPACES, SearchSpace, get_space, register_space

__version__ = "0.2.0"

_LAZY = {
    "search": "surrogate_nas.pipelines.api",
    "seed": "surrogate_nas.pipelines.api",
    "compare": "surrogate_nas.pipelines.api",
    "export": "surrogate_nas.pipelines.ship",
    "measure": "surrogate_nas.pipelines.ship.measure",
    "register_dataset": "surrogate_nas.datasets",
    "register_strategy": "surrogate_nas.pipelines.search.strategies",
    "register_predictor": "surrogate_nas.predictors.registry",
    "register_executor": "surrogate_nas.pipelines.execution.executors",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SPACES",
    "NetworkConfig",
    "PluginError",
    "SearchSpace",
    "Status",
    "SurrogateNASError",
    "TrainConfig",
    "TrainResult",
    "compare",
    "export",
    "get_space",
    "measure",
    "register_dataset",
    "register_executor",
    "register_predictor",
    "register_space",
    "register_strategy",
    "search",
    "seed",
]
