"""A small graph neural network over the cell DAG, trained with a ranking loss.

The input is the space's ``dag`` block (:mod:`surrogate_nas.spaces.dag`: adjacency and
one-hot node operations as one row), optionally followed by whole-graph features (live-op
counts, cost, proxies). Each member is a message-passing network: node types are embedded,
``layers`` rounds update every node from its own state and the sums over its predecessors
and its successors (the DAG read both ways, as in GATES and BRP-NAS), and the mean of the
node states, concatenated with the standardised whole-graph features, goes through a small
MLP to one score.

It is trained on the copula scores ``z`` of the targets (see
:mod:`~surrogate_nas.predictors.warping`) with a pairwise logistic ranking loss (RankNet:
``log(1 + exp(-(f_i - f_j)))`` over pairs with ``z_i > z_j``, which is what Kendall's tau
rewards) plus a small squared error that keeps the scores in ``z``'s units. ``members``
networks from different seeds give the mean; the variance is their spread plus the
training residual variance, so it is never zero.

Everything runs in torch on the CPU with ``threads`` threads, inside a forked random
state seeded by ``random_state``, so torch's global generator is left alone.

Example:
    >>> import numpy as np
    >>> from surrogate_nas.spaces import get_space
    >>> space = get_space("nb201")
    >>> cells = space.enumerate()[:40]
    >>> X = space.features(cells, "dag+liveops")
    >>> y = X[:, -7]  # live edges
    >>> model = GraphNetPredictor(n_nodes=8, n_node_types=7, epochs=20).fit(X, y)
    >>> model.predict(X[:3])[0].shape
    (3,)
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from surrogate_nas.errors import InputDataError
from surrogate_nas.predictors.base import Predictor
from surrogate_nas.predictors.gp import _threads
from surrogate_nas.predictors.warping import CopulaWarp


class _Net(nn.Module):
    """One member: type embedding, bidirectional message passing, mean readout, MLP head."""

    def __init__(self, n_types: int, n_global: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embed = nn.Linear(n_types, hidden)
        self.rounds = nn.ModuleList(nn.Linear(3 * hidden, hidden) for _ in range(layers))
        self.head = nn.Sequential(nn.Linear(hidden + n_global, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, adj: torch.Tensor, types: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        mask = types.sum(dim=-1, keepdim=True)  # 1 for a real node, 0 for padding
        h = torch.relu(self.embed(types)) * mask
        back = adj.transpose(1, 2)  # back @ h sums each node's predecessors, adj @ h its successors
        for layer in self.rounds:
            h = torch.relu(layer(torch.cat([h, back @ h, adj @ h], dim=-1))) * mask
        pooled = h.sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)
        return self.head(torch.cat([pooled, extra], dim=-1)).squeeze(-1)


class GraphNetPredictor(Predictor):
    """Ensemble of small message-passing networks on the ``dag`` block, trained to rank.

    Args:
        n_nodes: Nodes of the space's ``dag`` block (the registry reads it from the space).
        n_node_types: Node types of that block.
        hidden: Width of node states and of the head.
        layers: Message-passing rounds.
        members: Networks in the ensemble (their spread gives the std).
        epochs: Full-batch Adam steps per member.
        learning_rate: Adam's step size.
        weight_decay: Adam's L2 penalty.
        mse_weight: Weight of the squared error next to the ranking loss.
        threads: Torch CPU threads while fitting and predicting.
        random_state: Seed of member ``i`` is ``random_state + i``.
    """

    name = "gnn"

    def __init__(
        self,
        n_nodes: int = 8,
        n_node_types: int = 7,
        hidden: int = 32,
        layers: int = 3,
        members: int = 3,
        epochs: int = 300,
        learning_rate: float = 0.005,
        weight_decay: float = 1e-4,
        mse_weight: float = 0.1,
        threads: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_nodes = n_nodes
        self.n_node_types = n_node_types
        self.hidden = hidden
        self.layers = layers
        self.members = members
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.mse_weight = mse_weight
        self.threads = threads
        self.random_state = random_state

    def _split(self, X: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        n, k = int(self.n_nodes), int(self.n_node_types)
        width = n * n + n * k
        if n < 1 or k < 1 or X.shape[1] < width:
            raise InputDataError(
                f"a dag block of {n} nodes and {k} node types needs {width} leading columns, got {X.shape[1]}"
            )
        adj = torch.tensor(X[:, : n * n], dtype=torch.float32).reshape(-1, n, n)
        types = torch.tensor(X[:, n * n : width], dtype=torch.float32).reshape(-1, n, k)
        return adj, types, X[:, width:]

    def _fit(self, X: np.ndarray, y: np.ndarray) -> None:
        if int(self.members) < 1 or int(self.epochs) < 1:
            raise InputDataError(f"members and epochs must be >= 1, got {self.members} and {self.epochs}")
        adj, types, extra = self._split(X)
        self.extra_mean_ = extra.mean(axis=0)
        self.extra_scale_ = np.where(extra.std(axis=0) > 0, extra.std(axis=0), 1.0)
        glob = self._extra(extra)
        self.warp_ = CopulaWarp.fit(y)
        z = torch.tensor(self.warp_.scores(y), dtype=torch.float32)
        better = (z[:, None] > z[None, :]).float()  # pairs (i, j) with z_i > z_j
        self.nets_ = []
        with _threads(self.threads), torch.random.fork_rng(devices=[]):
            for i in range(int(self.members)):
                torch.manual_seed(int(self.random_state) + i)
                net = _Net(int(self.n_node_types), glob.shape[1], int(self.hidden), int(self.layers))
                opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate),
                                       weight_decay=float(self.weight_decay))
                for _ in range(int(self.epochs)):
                    opt.zero_grad()
                    f = net(adj, types, glob)
                    rank = (F.softplus(f[None, :] - f[:, None]) * better).sum() / better.sum().clamp_min(1.0)
                    loss = rank + float(self.mse_weight) * F.mse_loss(f, z)
                    loss.backward()
                    opt.step()
                self.nets_.append(net.eval())
            with torch.no_grad():
                fitted = torch.stack([net(adj, types, glob) for net in self.nets_]).mean(dim=0)
        self.residual_var_ = float(torch.mean((fitted - z) ** 2))

    def _extra(self, extra: np.ndarray) -> torch.Tensor:
        return torch.tensor((extra - self.extra_mean_) / self.extra_scale_, dtype=torch.float32)

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        adj, types, extra = self._split(X)
        glob = self._extra(extra)
        with _threads(self.threads), torch.no_grad():
            preds = torch.stack([net(adj, types, glob) for net in self.nets_]).double().numpy()
        mean = preds.mean(axis=0)
        std = np.sqrt(preds.var(axis=0) + self.residual_var_)
        return self.warp_.inverse(mean, std)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """Each member's weights under ``net<i>/``, the feature scaling, the warp and the residual variance."""
        arrays = {"extra_mean": self.extra_mean_, "extra_scale": self.extra_scale_,
                  "residual_var": np.array([self.residual_var_]), **self.warp_.arrays()}
        for i, net in enumerate(self.nets_):
            arrays.update({f"net{i}/{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()})
        return arrays, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.extra_mean_, self.extra_scale_ = np.asarray(arrays["extra_mean"]), np.asarray(arrays["extra_scale"])
        self.residual_var_ = float(arrays["residual_var"][0])
        self.warp_ = CopulaWarp.from_arrays(arrays)
        self.nets_ = []
        for i in range(int(self.members)):
            net = _Net(int(self.n_node_types), len(self.extra_mean_), int(self.hidden), int(self.layers))
            prefix = f"net{i}/"
            net.load_state_dict({k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                                 if k.startswith(prefix)}, strict=True)
            self.nets_.append(net.eval())
