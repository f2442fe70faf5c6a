"""surrogate-nas core: search space, network builder, datasets, trainer, storage.

The core knows nothing of predictors, pipelines, MLflow or the CLI; those
layers (``surrogate_nas.predictors``, ``surrogate_nas.pipelines``) import it,
never the other way round.
"""

from surrogate_nas.cell import EDGES, OPS, Cell, all_cells, canonical_cells, parse_cell
from surrogate_nas.errors import SurrogateNASError
from surrogate_nas.records import NetworkConfig, Status, TrainConfig, TrainResult

__version__ = "0.1.0"

__all__ = [
    "EDGES",
    "OPS",
    "Cell",
    "NetworkConfig",
    "Status",
    "SurrogateNASError",
    "TrainConfig",
    "TrainResult",
    "all_cells",
    "canonical_cells",
    "parse_cell",
]
