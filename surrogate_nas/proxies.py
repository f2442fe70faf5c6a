"""Data-free zero-cost proxies: scores of an untrained network that rank architectures.

Each proxy is computed on a network built by a space (any ``torch.nn.Module`` that maps
images to logits) from fixed-seed weights, inputs (Gaussian noise or all-ones; no dataset)
and, where a loss is needed, uniformly random labels, so a score is a pure function of the
architecture and the :class:`ProxySetting`. "Weights" below are those of the conv and linear
layers. Scores that are positive and span orders of magnitude are returned as their natural
logarithm (``log`` of the smallest float64 for an exact 0); signed ones are returned raw.

Without a loss:

* ``synflow`` (Tanaka et al., 2020): ``log sum |theta * dR/dtheta|``, ``R`` the summed output
  of the network with absolute weights on an all-ones input, in double precision with
  BatchNorm in eval mode (identity at initialisation, as the reference code drops BN here).
* ``nwot`` (Mellor et al., 2021, "NASWOT"): ``log det(K + I)`` for the Hamming-similarity
  kernel of the ReLU on/off codes of a noise batch, ``K = C C^T + (1-C)(1-C)^T``. The unit
  ridge keeps networks whose codes are degenerate finite.
* ``jacov`` (Mellor et al., 2021, v1): ``-sum(log(v + k) + 1/(v + k))``, ``k = 1e-5``, over the
  eigenvalues ``v`` of the correlation matrix of the input Jacobians of the noise batch.
* ``epe_nas`` (Lopes et al., 2021): the same Jacobians grouped by (random) label; per label
  ``s_c = sum log(|corr| + k)`` over the within-label correlation matrix, and the score is
  ``sum_{c, c'} |s_c - s_c'|``.
  A network whose output ignores its input gets fully correlated Jacobians (the lowest jacov).
* ``l2_norm`` (NAS-Bench-Suite-Zero): ``log sum ||theta||_2`` over the weight tensors.
* ``zen`` (Lin et al., 2021, Zen-NAS): weights redrawn from N(0, 1), BatchNorm in training
  mode; ``log E|f(x) - f(x + 0.01 x')| + sum log sqrt(mean running var)`` over BatchNorm
  layers, where ``f`` is the input of the last linear layer (the pooled features) and
  ``x, x'`` are noise batches, in double precision.

With the cross-entropy loss ``L`` of the noise batch against random labels (training mode):

* ``grad_norm`` (Abdelfattah et al., 2021): ``log sum ||dL/dtheta||_2`` over weight tensors.
* ``snip`` (Lee et al., 2019): ``log sum |theta * dL/dtheta|``.
* ``plain``: ``sum theta * dL/dtheta`` (signed).
* ``fisher`` (Turner et al., 2020): ``log sum_c 0.5 * mean_b (sum_hw a * dL/da)^2`` over the
  output channels ``c`` of every weight layer, ``a`` its output activation.
* ``grasp`` (Wang et al., 2020): ``-sum theta * (H g)``, ``g = dL/dtheta``, ``H`` the Hessian
  of ``L`` (signed).

The networks are tiny, so on a busy machine computing with ``torch.set_num_threads(1)``
is several times faster than with more threads. Spaces cache the scores (see
:mod:`surrogate_nas.spaces.zc`).

Example:
    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> arch = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    >>> sorted(compute_proxies(space, arch, names=("synflow", "snip")))
    ['snip', 'synflow']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from surrogate_nas.errors import InputDataError
from surrogate_nas.proxy_names import PROXY_NAMES
from surrogate_nas.records import NetworkConfig


_TINY_LOG = float(np.log(np.finfo(np.float64).tiny))
_K = 1e-5


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


def compute_proxies(
    space, arch, setting: ProxySetting = DEFAULT_SETTING, names: Iterable[str] = PROXY_NAMES
) -> dict[str, float]:
    """The proxies ``names`` of ``arch`` afresh (no cache), on ``space``'s network at ``setting``.

    Proxies that share a pass (see :data:`_PROBES`) are computed together, each probe on its
    own freshly built network. Leaves torch's global random state as it found it.

    Raises:
        InputDataError: an unknown proxy name.
    """
    wanted = list(dict.fromkeys(names))
    unknown = [n for n in wanted if n not in PROXY_NAMES]
    if unknown:
        raise InputDataError(f"unknown proxies {unknown}; expected some of {', '.join(PROXY_NAMES)}")
    scores: dict[str, float] = {}
    for probe, provides in _PROBES:
        if any(n in provides for n in wanted):
            scores.update(probe(_network(space, arch, setting), setting))
    return {n: scores[n] for n in wanted}


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
    return _log(total)


def _synflow_probe(net: nn.Module, setting: ProxySetting) -> dict[str, float]:
    return {"synflow": synflow(net, setting)}


def _noise_probe(net: nn.Module, setting: ProxySetting) -> dict[str, float]:
    """``nwot``, ``jacov``, ``epe_nas`` from one forward and backward pass of the noise batch."""
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
    corr = _correlation(jac)
    eig = torch.linalg.eigvalsh(corr).clamp_min(0)
    labels = _labels(setting)
    per_label = [float(torch.log(corr[labels == c][:, labels == c].abs() + _K).sum()) for c in labels.unique()]
    spread = np.abs(np.subtract.outer(per_label, per_label)).sum()
    return {
        "nwot": float(logdet),
        "jacov": float(-torch.sum(torch.log(eig + _K) + 1.0 / (eig + _K))),
        "epe_nas": float(spread),
    }


def _correlation(rows: torch.Tensor) -> torch.Tensor:
    """Correlation matrix of ``rows``; all ones when some row is constant (an ignored input)."""
    if bool((rows.std(dim=1) > 0).all()):
        return torch.corrcoef(rows)
    return torch.ones((len(rows), len(rows)), dtype=rows.dtype)


def _loss_probe(net: nn.Module, setting: ProxySetting) -> dict[str, float]:
    """The loss-based proxies and ``l2_norm``: one pass for the gradients, one for GraSP's Hessian.

    Activation gradients (for ``fisher``) come from the same ``autograd.grad`` call as the
    weight gradients, not from tensor hooks, whose closures would keep every graph alive.
    """
    net = net.train()
    layers = _weighted(net)
    weights = [m.weight for m in layers]
    acts: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, output: acts.append(output)) for m in layers]
    x, labels = _noise(setting), _labels(setting)
    try:
        loss = F.cross_entropy(net(x), labels)
    finally:
        for h in hooks:
            h.remove()
    found = torch.autograd.grad(loss, weights + acts, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, found)]
    with torch.no_grad():
        fisher = sum(_fisher_term(a, g) for a, g in zip(acts, found[len(weights):]) if g is not None)
        out = {
            "l2_norm": _log(sum(float(w.norm()) for w in weights)),
            "grad_norm": _log(sum(float(g.norm()) for g in grads)),
            "snip": _log(sum(float((w * g).abs().sum()) for w, g in zip(weights, grads))),
            "plain": float(sum(float((w * g).sum()) for w, g in zip(weights, grads))),
            "fisher": _log(fisher),
        }
    acts.clear()
    # GraSP: Hessian-gradient product by differentiating g . dL/dtheta once more.
    loss = F.cross_entropy(net(x), labels)
    first = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = sum((g * f).sum() for g, f in zip(grads, first) if f is not None)
    hg = torch.autograd.grad(z, weights, allow_unused=True) if torch.is_tensor(z) and z.requires_grad else ()
    with torch.no_grad():
        out["grasp"] = float(-sum(float((w * h).sum()) for w, h in zip(weights, hg) if h is not None))
    return out


def _fisher_term(act: torch.Tensor, grad: torch.Tensor) -> float:
    g = (act * grad).sum(dim=tuple(range(2, act.dim()))) if act.dim() > 2 else act * grad
    return float(g.pow(2).mean(0).mul(0.5).sum())


def _zen_probe(net: nn.Module, setting: ProxySetting) -> dict[str, float]:
    """Zen-score with the pooled features (the last linear layer's input) as ``f``."""
    net = net.double().train()
    gen = torch.Generator().manual_seed(setting.seed + 2)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen, dtype=torch.float64))
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                if m.affine:
                    m.weight.fill_(1.0)
                    m.bias.zero_()
        head = _weighted(net)[-1]
        features: list[torch.Tensor] = []
        hook = head.register_forward_pre_hook(lambda _m, inputs: features.append(inputs[0]))
        try:
            x = torch.randn((setting.batch_size, *setting.input_shape), generator=gen, dtype=torch.float64)
            x2 = torch.randn(x.shape, generator=gen, dtype=torch.float64)
            net(x)
            net(x + 0.01 * x2)
        finally:
            hook.remove()
        gap = float((features[0] - features[1]).abs().flatten(1).sum(dim=1).mean())
        log_bn = sum(float(torch.log(torch.sqrt(m.running_var.mean()))) for m in net.modules()
                     if isinstance(m, nn.BatchNorm2d) and m.running_var is not None)
    return {"zen": _log(gap) + log_bn}


_PROBES: tuple[tuple[Callable[[nn.Module, ProxySetting], dict[str, float]], tuple[str, ...]], ...] = (
    (_synflow_probe, ("synflow",)),
    (_noise_probe, ("nwot", "jacov", "epe_nas")),
    (_loss_probe, ("l2_norm", "grad_norm", "snip", "plain", "fisher", "grasp")),
    (_zen_probe, ("zen",)),
)
"""Each probe runs on its own fresh network and returns the proxies it provides."""


def _log(value: float) -> float:
    return float(np.log(value)) if value > 0 else _TINY_LOG


def _network(space, arch, setting: ProxySetting) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(setting.seed)
        return space.build_network(arch, setting.network, setting.input_shape, setting.num_classes)


def _noise(setting: ProxySetting) -> torch.Tensor:
    gen = torch.Generator().manual_seed(setting.seed)
    return torch.randn((setting.batch_size, *setting.input_shape), generator=gen)


def _labels(setting: ProxySetting) -> torch.Tensor:
    gen = torch.Generator().manual_seed(setting.seed + 1)
    return torch.randint(setting.num_classes, (setting.batch_size,), generator=gen)


def _weighted(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
