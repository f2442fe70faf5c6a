"""Generated data of a user's own: folders of PNG images (the tests put this folder on sys.path)."""

from __future__ import annotations

import numpy as np
from PIL import Image

COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200)}


def write_images(root, per_class=40, size=8, mode="RGB", seed=0, split=None):
    """``per_class`` noisy images of a class colour in ``root/[split/]<class>/``."""
    rng = np.random.default_rng(seed)
    for cls, colour in COLOURS.items():
        folder = root / split / cls if split else root / cls
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = np.clip(np.array(colour) + rng.normal(0, 40, (size, size, 3)), 0, 255).astype(np.uint8)
            image = Image.fromarray(pixels, "RGB").convert(mode)
            image.save(folder / f"{cls}_{i:03d}.png")
    return root
