"""surrogate-nas core: search spaces, network builders, datasets, trainer, storage, tables.

The core knows nothing of predictors, pipelines, MLflow or the CLI; those
layers (``surrogate_nas.predictors``, ``surrogate_nas.pipelines``) import it,
never the other way round. Importing the package is cheap: torch is imported
only by the modules that build or train networks.
"""

from surrogate_nas.errors import SurrogateNASError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig, TrainResult
from surrogate_nas.spaces import SPACES, SearchSpace, get_space

__version__ = "0.2.0"

__all__ = [
    "SPACES",
    "NetworkConfig",
    "SearchSpace",
    "Status",
    "SurrogateNASError",
    "TrainConfig",
    "TrainResult",
    "get_space",
]
