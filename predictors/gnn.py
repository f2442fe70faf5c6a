"""A small graph neural network over the cell DAG, trained with a ranking loss.

The input is the space's ``dag`` block (:mod:`surrogate_nas.spaces.dag`: adjacency and
one-hot node operations as one row), optionally followed by whole-graph features (live-op
counts, cost, proxies). Each member is a message-passing network: node types are embedded,
``layers`` rounds update every node from its own state and the sums over its predecessors
and its successors (the DAG read both ways, as in GATES and BRP-NAS), and the mean of the
node states, concatenated with the standardised whole-graph features, goes through a small
MLP to one score. Whole-graph features are clipped to their training range first: a ReLU
network continues linearly beyond the cells it has seen, and a kind of cell absent from the
training set (one that cannot train at all, say) came back hundreds of points below chance.

It is trained on the copula scores ``z`` of the targets (see
:mod:`~surrogate_nas.predictors.warping`) with a pairwise logistic ranking loss (RankNet:
``log(1 + exp(-(f_i - f_j)))`` over pairs with ``z_i > z_j``, which is what Kendall's tau
rewards) plus a small squared error. ``members`` networks from different seeds give a mean
score and a spread. The ranking loss fixes the order of the scores, not their units (it keeps
rewarding wider gaps), so a least-squares line from the members' mean score to ``z`` over the
training rows maps them to ``z``'s units before the map back to the target's; the ranking is
unchanged. Without it the scores ran past the training range and came back as accuracies
far off. Networks from different seeds agree far more than their errors warrant, and their
training residuals are near zero, so by default the variance is calibrated as the XGBoost
ensemble's is (:mod:`~surrogate_nas.predictors.calibration`): an ensemble trained on each half
of the training set (with its own line) predicts the other half, and ``scale * spread^2 +
floor`` is fitted on those held-out residuals. That costs about one more ensemble's training.

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

from surrogate_nas.errors import FitError, InputDataError
from surrogate_nas.predictors.base import WarpedPredictor
from surrogate_nas.predictors.calibration import calibrated_std, check_calibration, crossfit_variance
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


class GraphNetPredictor(WarpedPredictor):
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
        calibration: ``"crossfit"`` (the variance fitted on two-fold held-out residuals) or
            ``"none"`` (the members' spread alone; see
            :data:`~surrogate_nas.predictors.calibration.CALIBRATIONS`).
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
        calibration: str = "crossfit",
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
        self.calibration = calibration

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
        check_calibration(self.calibration)
        adj, types, extra = self._split(X)
        self.extra_mean_ = extra.mean(axis=0)
        self.extra_scale_ = np.where(extra.std(axis=0) > 0, extra.std(axis=0), 1.0)
        self.extra_range_ = np.stack([extra.min(axis=0), extra.max(axis=0)])
        glob = self._extra(extra)
        self.warp_ = CopulaWarp.fit(y)
        z = self.warp_.scores(y)
        seed = int(self.random_state)
        self.nets_ = self._train(adj, types, glob, z, seed)
        self.readout_ = self._readout(self._scores(self.nets_, adj, types, glob), z)
        self.variance_scale_, self.variance_floor_ = 1.0, 0.0
        if self.calibration == "crossfit":
            def fit_predict(train: np.ndarray, test: np.ndarray, half_seed: int) -> tuple[np.ndarray, np.ndarray]:
                nets = self._train(adj[train], types[train], glob[train], z[train], half_seed)
                readout = self._readout(self._scores(nets, adj[train], types[train], glob[train]), z[train])
                return _in_z_units(self._scores(nets, adj[test], types[test], glob[test]), readout)

            self.variance_scale_, self.variance_floor_ = crossfit_variance(fit_predict, z, seed)

    @staticmethod
    def _readout(scores: np.ndarray, z: np.ndarray) -> np.ndarray:
        """``[intercept, slope]`` of the least-squares line from the members' mean training score to ``z``."""
        slope, intercept = np.polyfit(scores.mean(axis=0), z, 1)
        if not slope > 0:
            raise FitError(f"the graph networks did not learn to rank their {len(z)} training architectures")
        return np.array([intercept, slope])

    def _train(self, adj: torch.Tensor, types: torch.Tensor, glob: torch.Tensor, z: np.ndarray,
               seed: int) -> list[_Net]:
        """``members`` networks trained on ``z``; member ``i`` seeded with ``seed + i``."""
        target = torch.tensor(z, dtype=torch.float32)
        better = (target[:, None] > target[None, :]).float()  # pairs (i, j) with z_i > z_j
        nets = []
        with _threads(self.threads), torch.random.fork_rng(devices=[]):
            for i in range(int(self.members)):
                torch.manual_seed(seed + i)
                net = _Net(int(self.n_node_types), glob.shape[1], int(self.hidden), int(self.layers))
                opt = torch.optim.Adam(net.parameters(), lr=float(self.learning_rate),
                                       weight_decay=float(self.weight_decay))
                for _ in range(int(self.epochs)):
                    opt.zero_grad()
                    f = net(adj, types, glob)
                    rank = (F.softplus(f[None, :] - f[:, None]) * better).sum() / better.sum().clamp_min(1.0)
                    loss = rank + float(self.mse_weight) * F.mse_loss(f, target)
                    loss.backward()
                    opt.step()
                nets.append(net.eval())
        return nets

    def _scores(self, nets: list[_Net], adj: torch.Tensor, types: torch.Tensor, glob: torch.Tensor) -> np.ndarray:
        """``members x n`` predicted scores."""
        with _threads(self.threads), torch.no_grad():
            return torch.stack([net(adj, types, glob) for net in nets]).double().numpy()

    def _extra(self, extra: np.ndarray) -> torch.Tensor:
        extra = np.clip(extra, self.extra_range_[0], self.extra_range_[1])
        return torch.tensor((extra - self.extra_mean_) / self.extra_scale_, dtype=torch.float32)

    def _predict_scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        adj, types, extra = self._split(X)
        mean, spread = _in_z_units(self._scores(self.nets_, adj, types, self._extra(extra)), self.readout_)
        return mean, calibrated_std(spread, self.variance_scale_, self.variance_floor_)

    def export_state(self) -> tuple[dict[str, np.ndarray], dict[str, bytes]]:
        """Each member's weights under ``net<i>/``, the feature scaling and range, the readout line, the warp and the
        calibration."""
        arrays = {"extra_mean": self.extra_mean_, "extra_scale": self.extra_scale_, "extra_range": self.extra_range_,
                  "readout": self.readout_,
                  "variance": np.array([self.variance_scale_, self.variance_floor_]), **self.warp_.arrays()}
        for i, net in enumerate(self.nets_):
            arrays.update({f"net{i}/{k}": v.detach().cpu().numpy() for k, v in net.state_dict().items()})
        return arrays, {}

    def import_state(self, arrays: dict[str, np.ndarray], blobs: dict[str, bytes]) -> None:
        self.extra_mean_, self.extra_scale_ = np.asarray(arrays["extra_mean"]), np.asarray(arrays["extra_scale"])
        if "variance" in arrays:
            self.variance_scale_, self.variance_floor_ = (float(v) for v in arrays["variance"])
            self.readout_, self.extra_range_ = np.asarray(arrays["readout"]), np.asarray(arrays["extra_range"])
        else:  # saved before readout, clipping and calibration: it predicts as it did then
            self.variance_scale_, self.variance_floor_ = 1.0, float(arrays["residual_var"][0])
            self.readout_ = np.array([0.0, 1.0])
            unbounded = np.full_like(self.extra_mean_, np.inf)
            self.extra_range_ = np.stack([-unbounded, unbounded])
        self.warp_ = CopulaWarp.from_arrays(arrays)
        self.nets_ = []
        for i in range(int(self.members)):
            net = _Net(int(self.n_node_types), len(self.extra_mean_), int(self.hidden), int(self.layers))
            prefix = f"net{i}/"
            net.load_state_dict({k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in arrays.items()
                                 if k.startswith(prefix)}, strict=True)
            self.nets_.append(net.eval())


def _in_z_units(scores: np.ndarray, readout: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread of ``members x n`` scores, through the ``[intercept, slope]`` readout line."""
    intercept, slope = readout
    return intercept + slope * scores.mean(axis=0), slope * scores.std(axis=0)
