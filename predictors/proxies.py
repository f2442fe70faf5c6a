"""Data-free zero-cost proxies: scores of an untrained network that rank architectures.

Each proxy is computed on a small network built by
:func:`surrogate_nas.network.build_network` from fixed-seed weights and inputs
(Gaussian noise or all-ones; no dataset), so a score is a pure function of the
cell and the :class:`ProxySetting`:

* ``synflow`` (Tanaka et al., 2020): ``log sum |theta * dR/dtheta|`` over conv and
  linear weights, where ``R`` is the summed output of the network with absolute
  weights on an all-ones input, in double precision with BatchNorm in eval mode
  (identity at initialisation, as the reference code drops BN for this proxy). A score of
  exactly 0 (no weight reaches the output) is reported as ``log`` of the smallest float64.
* ``nwot`` (Mellor et al., 2021, "NASWOT"): ``log det(K + I)`` for the Hamming-similarity
  kernel of the ReLU on/off codes of a noise batch, ``K = C C^T + (1-C)(1-C)^T``.
  A unit ridge (``K + I``, small next to the diagonal of K, which is the number of ReLU
  units) keeps cells whose codes are degenerate finite.
* ``jacov`` (Mellor et al., 2021, v1): ``-sum(log(v + k) + 1/(v + k))``, ``k = 1e-5``, over
  the eigenvalues ``v`` of the correlation matrix of the input Jacobians of a noise batch.
  A cell whose output ignores its input is scored as if all Jacobians were equal (the
  lowest score). Gradient norm on noise was tried instead and ranked far worse (Spearman
  ~0.2 against ~0.7).

Twins (cells with the same :attr:`~surrogate_nas.cell.Cell.canonical_key`) compute the
same function, so every proxy is computed on the key's representative (the first
twin in :func:`~surrogate_nas.cell.all_cells` order) and shared. For the default
setting all 15,625 cells are read from the packaged ``nb201_proxies.csv.gz``
(written by ``benchmarks/compute_proxies.py``); anything else is computed on first
use and cached in-process. The networks are tiny, so on a busy machine computing with
``torch.set_num_threads(1)`` is several times faster than with more threads.

Example:
    >>> from surrogate_nas.cell import Cell
    >>> scores = proxy_scores([Cell(("nor_conv_3x3",) * 6)])
    >>> scores.shape
    (1, 3)
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import torch
from torch import nn

from surrogate_nas.cell import Cell, canonical_cells
from surrogate_nas.errors import InputDataError
from surrogate_nas.network import build_network
from surrogate_nas.records import NetworkConfig
from surrogate_nas.tables import data_file

PROXY_NAMES: tuple[str, ...] = ("synflow", "nwot", "jacov")
"""Proxies computed, in the column order of :func:`proxy_scores`."""

PROXY_CACHE_FILE = "nb201_proxies.csv.gz"


@dataclass(frozen=True)
class ProxySetting:
    """The proxy network and probe batch; the packaged cache holds the default values."""

    channels: int = 8
    cells_per_stage: int = 1
    input_shape: tuple[int, int, int] = (3, 16, 16)
    num_classes: int = 10
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if int(self.batch_size) < 2:
            raise InputDataError(f"proxy batch_size must be >= 2, got {self.batch_size}")
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))

    @property
    def network(self) -> NetworkConfig:
        return NetworkConfig(self.channels, self.cells_per_stage)


DEFAULT_SETTING = ProxySetting()


def proxy_scores(cells: Sequence[Cell], setting: ProxySetting = DEFAULT_SETTING) -> np.ndarray:
    """Proxy scores of ``cells``: an ``n x len(PROXY_NAMES)`` float64 array, rows in input order."""
    packaged = _packaged_scores() if setting == DEFAULT_SETTING else {}
    out = np.empty((len(cells), len(PROXY_NAMES)), dtype=np.float64)
    for i, cell in enumerate(cells):
        if not isinstance(cell, Cell):
            raise InputDataError(f"proxy_scores needs Cell values, got {type(cell).__name__} at position {i}")
        row = packaged.get(cell.to_string())
        out[i] = row if row is not None else _scores_for_key(cell.canonical_key, setting)
    return out


def compute_proxies(cell: Cell, setting: ProxySetting = DEFAULT_SETTING) -> dict[str, float]:
    """Compute every proxy afresh (no cache) on the representative of ``cell``'s twins."""
    rep = representative(cell)
    nwot_score, jacov_score = _noise_probe(rep, setting)
    return {"synflow": synflow(rep, setting), "nwot": nwot_score, "jacov": jacov_score}


def representative(cell: Cell) -> Cell:
    """The first cell, in :func:`~surrogate_nas.cell.all_cells` order, with ``cell``'s canonical key."""
    return _representatives()[cell.canonical_key]


def synflow(cell: Cell, setting: ProxySetting = DEFAULT_SETTING) -> float:
    """``log`` SynFlow score of ``cell`` (see module docstring)."""
    net = _network(cell, setting).double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    x = torch.ones((1, *setting.input_shape), dtype=torch.float64)
    net(x).sum().backward()
    with torch.no_grad():
        total = sum(float((m.weight * m.weight.grad).abs().sum()) for m in _weighted(net) if m.weight.grad is not None)
    return float(np.log(total)) if total > 0 else float(np.log(np.finfo(np.float64).tiny))


def nwot(cell: Cell, setting: ProxySetting = DEFAULT_SETTING) -> float:
    """NASWOT ``log det(K + I)`` of ``cell`` on a Gaussian-noise batch (see module docstring)."""
    return _noise_probe(cell, setting)[0]


def jacov(cell: Cell, setting: ProxySetting = DEFAULT_SETTING) -> float:
    """Jacobian-covariance score of ``cell`` on a Gaussian-noise batch (see module docstring)."""
    return _noise_probe(cell, setting)[1]


def _noise_probe(cell: Cell, setting: ProxySetting) -> tuple[float, float]:
    """``(nwot, jacov)`` from one forward and backward pass of the noise batch."""
    net = _network(cell, setting).train()
    n = setting.batch_size
    kernel = torch.zeros((n, n), dtype=torch.float64)

    def accumulate(_module, inputs):
        codes = (inputs[0].detach().reshape(n, -1) > 0).to(torch.float64)
        kernel.add_(codes @ codes.T + (1.0 - codes) @ (1.0 - codes).T)

    hooks = [m.register_forward_pre_hook(accumulate) for m in net.modules() if isinstance(m, nn.ReLU)]
    x = _noise(setting).requires_grad_(True)
    try:
        net(x).sum().backward()
    finally:
        for h in hooks:
            h.remove()
    _, logdet = torch.linalg.slogdet(kernel + torch.eye(n, dtype=torch.float64))

    jac = x.grad.reshape(n, -1).to(torch.float64)
    if bool((jac.std(dim=1) > 0).all()):
        eig = torch.linalg.eigvalsh(torch.corrcoef(jac)).clamp_min(0)
    else:
        # The output ignores (some) inputs: score it as fully correlated Jacobians.
        eig = torch.zeros(n, dtype=torch.float64)
        eig[-1] = n
    k = 1e-5
    return float(logdet), float(-torch.sum(torch.log(eig + k) + 1.0 / (eig + k)))


def _network(cell: Cell, setting: ProxySetting) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        return build_network(cell, setting.network, setting.input_shape, setting.num_classes)


def _noise(setting: ProxySetting) -> torch.Tensor:
    gen = torch.Generator().manual_seed(setting.seed)
    return torch.randn((setting.batch_size, *setting.input_shape), generator=gen)


def _weighted(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@lru_cache(maxsize=None)
def _scores_for_key(key: str, setting: ProxySetting) -> tuple[float, ...]:
    scores = compute_proxies(_representatives()[key], setting)
    return tuple(scores[name] for name in PROXY_NAMES)


@lru_cache(maxsize=1)
def _representatives() -> dict[str, Cell]:
    return {cell.canonical_key: cell for cell in canonical_cells()}


@lru_cache(maxsize=1)
def _packaged_scores() -> dict[str, np.ndarray]:
    """Arch string -> packaged proxy row; empty if the cache file is not shipped."""
    handle = data_file(PROXY_CACHE_FILE)
    if not handle.is_file():
        return {}
    frame = pd.read_csv(io.BytesIO(handle.read_bytes()), compression="gzip")
    values = frame[list(PROXY_NAMES)].to_numpy(dtype=np.float64)
    return dict(zip(frame["arch"], values))
