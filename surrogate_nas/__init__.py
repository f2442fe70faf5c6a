"""surrogate-nas core: search spaces, network builders, datasets, trainer, storage, tables.

The core knows nothing of predictors, pipelines, MLflow or the CLI; those
layers (``surrogate_nas.predictors``, ``surrogate_nas.pipelines``) import it,
never the other way round. Importing the package is cheap: torch is imported
only by the modules that build or train networks.

The user-facing functions :func:`search`, :func:`seed` and :func:`compare` (the Python
API the CLI is built on, :mod:`surrogate_nas.pipelines.api`) are re-exported here, loaded
on first use.
"""

from surrogate_nas.errors import SurrogateNASError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import SPACES, SearchSpace, get_space

__version__ = "0.2.0"

_API = ("search", "seed", "compare")


def __getattr__(name: str):
    if name in _API:
        from surrogate_nas.pipelines import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "SPACES",
    "NetworkConfig",
    "SearchSpace",
    "Status",
    "SurrogateNASError",
    "TrainConfig",
    "TrainResult",
    "compare",
    "get_space",
    "search",
    "seed",
]
