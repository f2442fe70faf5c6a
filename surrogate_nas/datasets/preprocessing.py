"""What a loader does to an input before the network sees it, as a record and as a torch module.

A network trained here never sees the user's input as the dataset holds it: the loader
reshapes it to ``c x h x w``, scales it to ``[0, 1]``, maybe resizes it, and standardises each
channel with the training split's statistics. :class:`Preprocessing` records those steps so
an exported network can fold them in (:meth:`Preprocessing.module`) and take raw inputs: a
``.npz``'s ``x`` rows, an image folder's decoded images, ``load_digits().data`` rows.

Example:
    >>> from surrogate_nas.datasets import load_dataset
    >>> p = load_dataset("digits").preprocessing
    >>> p.raw.layout, p.raw.raw_shape, p.raw.scale
    ('flat', (64,), 16.0)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from surrogate_nas.errors import InputDataError

LAYOUTS = ("chw", "hwc", "hw", "flat")
"""How one raw input is laid out: channels first, channels last, a grayscale image, or a flat row."""


@dataclass(frozen=True)
class RawInput:
    """One input as the dataset holds it, and how a loader turns it into ``c x h x w`` floats.

    Attributes:
        raw_shape: the shape of one raw input (``(64,)`` for a digits row, ``(32, 32, 3)`` for a
            decoded RGB image).
        raw_dtype: its numpy dtype name (``uint8``, ``float32``, ...).
        layout: one of :data:`LAYOUTS`.
        scale: raw values are divided by this (255 for ``uint8`` images).
        resize: the square size images are resized to (bilinear, antialiased), or None.
        description: what the raw input is, in words, for the model card.
    """

    raw_shape: tuple[int, ...]
    raw_dtype: str = "float32"
    layout: str = "chw"
    scale: float = 1.0
    resize: int | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise InputDataError(f"layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        object.__setattr__(self, "raw_shape", tuple(int(v) for v in self.raw_shape))
        object.__setattr__(self, "scale", float(self.scale))


@dataclass(frozen=True)
class Preprocessing:
    """A :class:`RawInput` plus the per-channel standardisation; ``input_shape`` is what the network sees."""

    raw: RawInput
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_shape: tuple[int, int, int]

    def module(self) -> nn.Module:
        """A module from a batch of raw inputs (``b x raw_shape``) to the network's ``b x c x h x w`` floats."""
        return _Preprocess(self)

    def raw_from(self, x: torch.Tensor) -> torch.Tensor:
        """The raw inputs that preprocess to ``x`` (``b x c x h x w``), in :attr:`RawInput.raw_dtype`.

        Raises:
            InputDataError: the loader resized the images, which cannot be undone.
        """
        raw = self.raw
        if raw.resize is not None:
            raise InputDataError("resized images cannot be turned back into the raw inputs")
        x = x.detach().cpu().double() * _channels(self.std, x) + _channels(self.mean, x)
        if raw.layout == "flat":
            x = x.reshape(len(x), *raw.raw_shape)
        elif raw.layout == "hw":
            x = x[:, 0]
        elif raw.layout == "hwc":
            x = x.permute(0, 2, 3, 1)
        x = x * raw.scale
        dtype = getattr(torch, raw.raw_dtype, None)
        if dtype is None or not dtype.is_floating_point:
            x = x.round()
        return x.to(dtype or torch.float32)

    def to_dict(self) -> dict:
        """The steps as JSON-safe values (for a model card)."""
        return {**asdict(self.raw), "raw_shape": list(self.raw.raw_shape), "mean": list(self.mean),
                "std": list(self.std), "input_shape": list(self.input_shape)}


def _channels(values: tuple[float, ...], like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64).reshape(1, -1, 1, 1).to(like.device)


class _Preprocess(nn.Module):
    """Raw inputs to standardised ``b x c x h x w`` float32 images (see :class:`Preprocessing`)."""

    def __init__(self, p: Preprocessing) -> None:
        super().__init__()
        raw = p.raw
        self.layout, self.scale, self.resize = raw.layout, raw.scale, raw.resize
        self.source_shape = tuple(p.input_shape) if raw.layout == "flat" else None
        self.register_buffer("mean", torch.tensor(p.mean, dtype=torch.float32).reshape(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(p.std, dtype=torch.float32).reshape(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(torch.float32) / self.scale
        if self.layout == "flat":
            x = x.reshape(x.shape[0], *self.source_shape)
        elif self.layout == "hw":
            x = x.unsqueeze(1)
        elif self.layout == "hwc":
            x = x.permute(0, 3, 1, 2)
        if self.resize is not None:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", antialias=True, align_corners=False)
        return (x - self.mean) / self.std
