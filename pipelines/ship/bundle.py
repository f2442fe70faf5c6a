"""The files of an exported network, and the staging folder that makes writing them all-or-nothing.

``model.pt`` is TorchScript (it loads and runs with ``torch.jit.load`` alone, no surrogate-nas
import); ``model.onnx`` is written when ``onnx``, ``onnxscript`` and ``onnxruntime`` are installed
(the ``export`` extra), and its outputs are checked against ``model.pt``'s. Both take raw
inputs: the dataset's preprocessing is the first layer of the exported module.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import tempfile
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from surrogate_nas.datasets.preprocessing import Preprocessing
from surrogate_nas.errors import InputDataError, InternalError

ONNX_TOLERANCE = 1e-4
"""Largest absolute difference allowed between ``model.onnx``'s and ``model.pt``'s outputs."""

ONNX_MISSING = "onnx, onnxscript and onnxruntime are not installed (pip install 'surrogate-nas[export]')"


def shipped_module(net: nn.Module, preprocessing: Preprocessing) -> nn.Module:
    """``net`` behind its dataset's preprocessing, on the CPU, in eval mode."""
    return nn.Sequential(OrderedDict(preprocess=preprocessing.module(), network=net.cpu())).eval()


def write_torchscript(module: nn.Module, example: torch.Tensor, path: Path) -> torch.jit.ScriptModule:
    """Trace ``module`` on ``example`` (raw inputs), save it to ``path`` and return it as loaded back."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on shape arithmetic: the batch size stays free
        traced = torch.jit.trace(module, example, check_trace=False)
    torch.jit.save(traced, str(path))
    return torch.jit.load(str(path))


def onnx_available() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


def write_onnx(module: nn.Module, example: torch.Tensor, path: Path, size_dims: tuple[int, int] | None = None) -> None:
    """Export ``module`` to ONNX at ``path``, with a free batch dimension (``example`` holds 2 or more rows)
    and free image height and width at ``size_dims`` (the input's axes, for a module that resizes its inputs)."""
    for name in ("torch.onnx", "torch.export", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    dims = {0: torch.export.Dim("batch", min=1)}
    if size_dims is not None:
        dims.update({size_dims[0]: torch.export.Dim("height", min=2), size_dims[1]: torch.export.Dim("width", min=2)})
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (example,), str(path), input_names=["input"], output_names=["logits"],
                          dynamic_shapes=(dims,), dynamo=True, external_data=False)


def onnx_outputs(path: Path, x: np.ndarray) -> np.ndarray:
    """``model.onnx``'s outputs on raw inputs ``x`` (onnxruntime on the CPU)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def check_onnx(path: Path, scripted: torch.jit.ScriptModule, x: torch.Tensor) -> float:
    """The largest absolute difference between ONNX's and TorchScript's outputs on ``x``.

    Raises:
        InternalError: above :data:`ONNX_TOLERANCE` (an export bug, not the user's).
    """
    with torch.no_grad():
        expected = scripted(x).numpy()
    diff = float(np.abs(onnx_outputs(path, x.numpy()) - expected).max())
    if not diff <= ONNX_TOLERANCE:
        raise InternalError(f"model.onnx differs from model.pt by {diff:.3g} (> {ONNX_TOLERANCE})")
    return diff


@contextlib.contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A new empty folder beside ``out`` that becomes ``out`` when the block succeeds and is removed when it fails.

    The folder's name holds this process's id; the folders of a killed export of ``out`` (its
    process gone from this host) are removed first.

    Raises:
        InputDataError: ``out`` exists already.
    """
    from surrogate_nas.storage.workers import is_dead

    out = Path(out).expanduser()
    if out.exists():
        raise InputDataError(f"{out} exists; export to a new folder (nothing was written)")
    out.parent.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname()
    for left in out.parent.glob(f".{out.name}.partial-*"):
        pid = left.name[len(f".{out.name}.partial-"):].split("-")[0]
        if is_dead(f"{host}:{pid}"):
            shutil.rmtree(left, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{os.getpid()}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    try:
        stage.chmod(0o777 & ~umask)  # mkdtemp's folder is private; the export is not
        yield stage
        os.rename(stage, out)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
