"""Files shipped inside the package (``surrogate_nas/data``): benchmark tables and precomputed features.

Provenance of every file is in ``surrogate_nas/data/PROVENANCE.md``.
"""

from __future__ import annotations

from importlib import resources


def data_file(filename: str):
    """An :mod:`importlib.resources` handle to ``surrogate_nas/data/<filename>``."""
    return resources.files("surrogate_nas").joinpath("data", filename)
