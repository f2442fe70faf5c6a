"""Turn a user's device string into a ``torch.device`` that is really there."""

from __future__ import annotations

import torch

from surrogate_nas.errors import InputDataError

_EXPECTED = "expected 'auto', 'cpu', 'cuda', 'cuda:<index>' or 'mps'"


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; anything else must name a device present.

    Raises:
        InputDataError: the string is not a device, or names one this machine lacks.
    """
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise InputDataError(f"device must be a string, got {type(device).__name__}; {_EXPECTED}")
    text = device.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError) as exc:
        raise InputDataError(f"unknown device {device!r}; {_EXPECTED}") from exc
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InputDataError(f"device {device!r} requested but CUDA is not available; use 'cpu' or 'auto'")
        if dev.index is not None and dev.index >= count:
            raise InputDataError(f"device {device!r} requested but only {count} CUDA device(s) exist")
        return dev
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise InputDataError(f"device {device!r} requested but MPS is not available; use 'cpu' or 'auto'")
        return dev
    raise InputDataError(f"unsupported device {device!r}; {_EXPECTED}")
