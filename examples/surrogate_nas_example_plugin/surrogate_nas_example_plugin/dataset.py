"""``blobs``: a toy classification dataset made on the fly (three Gaussian blobs of 64 features)."""

from __future__ import annotations

import numpy as np

from surrogate_nas.datasets import in_memory, stratified_split


def blobs(seed: int = 0):
    """Three Gaussian blobs in 64 dimensions, as 1 x 8 x 8 inputs (600 samples, 60/20/20 split by ``seed``)."""
    rng = np.random.default_rng(12345)  # the data never changes; the seed only splits it
    centres = rng.normal(0.0, 1.0, (3, 64))
    y = np.repeat(np.arange(3), 200)
    x = (centres[y] + rng.normal(0.0, 2.0, (600, 64))).astype(np.float32).reshape(-1, 1, 8, 8)
    parts = stratified_split(y, (0.2, 0.2), seed)
    return in_memory("blobs", [(x[i], y[i]) for i in parts], 3, "surrogate_nas_example_plugin", ["a", "b", "c"])
