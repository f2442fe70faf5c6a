"""Data-free zero-cost proxies: scores of an untrained network that rank architectures.

Each proxy is computed on a network built by a space (any ``torch.nn.Module`` that maps
images to logits) from fixed-seed weights and inputs (Gaussian noise or all-ones; no
dataset), so a score is a pure function of the architecture and the :class:`ProxySetting`:

* ``synflow`` (Tanaka et al., 2020): ``log sum |theta * dR/dtheta|`` over conv and
  linear weights, where ``R`` is the summed output of the network with absolute
  weights on an all-ones input, in double precision with BatchNorm in eval mode
  (identity at initialisation, as the reference code drops BN for this proxy). A score of
  exactly 0 (no weight reaches the output) is reported as ``log`` of the smallest float64.
* ``nwot`` (Mellor et al., 2021, "NASWOT"): ``log det(K + I)`` for the Hamming-similarity
  kernel of the ReLU on/off codes of a noise batch, ``K = C C^T + (1-C)(1-C)^T``.
  A unit ridge (``K + I``, small next to the diagonal of K, which is the number of ReLU
  units) keeps networks whose codes are degenerate finite.
* ``jacov`` (Mellor et al., 2021, v1): ``-sum(log(v + k) + 1/(v + k))``, ``k = 1e-5``, over
  the eigenvalues ``v`` of the correlation matrix of the input Jacobians of a noise batch.
  A network whose output ignores its input is scored as if all Jacobians were equal (the
  lowest score).

The networks are tiny, so on a busy machine computing with ``torch.set_num_threads(1)``
is several times faster than with more threads. Spaces cache the scores (see
:mod:`surrogate_nas.spaces.zc`).

Example:
    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> arch = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> sorted(compute_proxies(space, arch))
    ['jacov', 'nwot', 'synflow']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig

PROXY_NAMES: tuple[str, ...] = ("synflow", "nwot", "jacov")
"""Proxies computed, in the column order of the ``zc`` features."""


@dataclass(frozen=True)
class ProxySetting:
    """The proxy network and probe batch.

    ``network`` is the width/depth of the probe network (small: proxies rank, they do
    not need the full model); fields a space does not read are ignored by it.
    """

    network: NetworkConfig = field(default_factory=lambda: NetworkConfig(8, 1))
    input_shape: tuple[int, int, int] = (3, 16, 16)
    num_classes: int = 10
    batch_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        if int(self.batch_size) < 2:
            raise InputDataError(f"proxy batch_size must be >= 2, got {self.batch_size}")
        object.__setattr__(self, "input_shape", tuple(int(s) for s in self.input_shape))

    def key(self) -> str:
        """A short text naming this setting, used to key cached scores."""
        net = self.network
        shape = "x".join(map(str, self.input_shape))
        return f"C{net.channels}N{net.cells_per_stage}-{shape}-k{self.num_classes}-b{self.batch_size}-s{self.seed}"


DEFAULT_SETTING = ProxySetting()


def compute_proxies(space, arch, setting: ProxySetting = DEFAULT_SETTING) -> dict[str, float]:
    """Every proxy of ``arch`` afresh (no cache), on ``space``'s network at ``setting``.

    Leaves torch's global random state as it found it.
    """
    nwot_score, jacov_score = _noise_probe(_network(space, arch, setting), setting)
    return {"synflow": synflow(_network(space, arch, setting), setting), "nwot": nwot_score, "jacov": jacov_score}


def synflow(net: nn.Module, setting: ProxySetting = DEFAULT_SETTING) -> float:
    """``log`` SynFlow score of ``net`` (see module docstring); ``net`` is modified (abs weights)."""
    net = net.double().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    x = torch.ones((1, *setting.input_shape), dtype=torch.float64)
    net(x).sum().backward()
    with torch.no_grad():
        total = sum(float((m.weight * m.weight.grad).abs().sum()) for m in _weighted(net) if m.weight.grad is not None)
    return float(np.log(total)) if total > 0 else float(np.log(np.finfo(np.float64).tiny))


def _noise_probe(net: nn.Module, setting: ProxySetting) -> tuple[float, float]:
    """``(nwot, jacov)`` from one forward and backward pass of the noise batch."""
    net = net.train()
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


def _network(space, arch, setting: ProxySetting) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        return space.build_network(arch, setting.network, setting.input_shape, setting.num_classes)


def _noise(setting: ProxySetting) -> torch.Tensor:
    gen = torch.Generator().manual_seed(setting.seed)
    return torch.randn((setting.batch_size, *setting.input_shape), generator=gen)


def _weighted(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
