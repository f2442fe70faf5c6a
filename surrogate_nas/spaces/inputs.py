"""Validation of the input shape and class count a network is built for (no torch needed)."""

from __future__ import annotations

from surrogate_nas.errors import InputDataError


def check_input(input_shape, num_classes, divisible_by: int = 1) -> tuple[tuple[int, int, int], int]:
    """``(channels, height, width)`` and the class count as ints, validated.

    Args:
        input_shape: shape of one input image.
        num_classes: number of logits.
        divisible_by: height and width must be multiples of this (a network that halves
            them ``k`` times needs ``2**k``).

    Raises:
        InputDataError: not three positive integers, a size the network cannot reduce, or
            fewer than two classes.
    """
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"input_shape must be (channels, height, width) integers, got {input_shape!r}") from exc
    if len(shape) != 3 or min(shape) < 1:
        raise InputDataError(f"input_shape must be 3 positive integers (channels, height, width), got {input_shape!r}")
    if shape[1] % divisible_by or shape[2] % divisible_by:
        raise InputDataError(
            f"height and width must be multiples of {divisible_by} (the network halves them "
            f"{divisible_by.bit_length() - 1} times), got {shape[1]}x{shape[2]}; use --image-size to resize"
        )
    try:
        classes = int(num_classes)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"num_classes must be an integer, got {num_classes!r}") from exc
    if classes < 2:
        raise InputDataError(f"num_classes must be >= 2, got {num_classes}")
    return shape, classes  # type: ignore[return-value]
