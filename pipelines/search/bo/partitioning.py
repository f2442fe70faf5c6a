"""BoTorch's exact box decomposition of the non-dominated space, run in NumPy.

With three objectives and more, qLogNEHVI partitions the front of every Monte-Carlo sample of
the baseline with :class:`~botorch.utils.multi_objective.box_decompositions.non_dominated.FastNondominatedPartitioning`
(the incremental algorithm of Lacour et al., 2017, applied twice as in Yang et al., 2019), and
does it again for each pick of a batch (the picks become pending points). BoTorch runs the
algorithm one point at a time on tiny tensors, where each PyTorch call costs far more than its
arithmetic; most of a three-objective step went there. :class:`NumpyNondominatedPartitioning`
is the same algorithm, step for step, on NumPy arrays. It only compares and copies values (no
arithmetic but negation), so its cells are exactly BoTorch's, in the same order, and a search
picks the same architectures with either.
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning


def local_upper_bounds(points: np.ndarray, U: np.ndarray, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add ``points`` (``n x m``, minimisation) one by one to the local upper bounds ``U``
    (``k x m``) and their defining points ``Z`` (``k x m x m``): Lacour et al.'s Algorithm 1, as
    BoTorch's ``update_local_upper_bounds_incremental``."""
    for z in points:
        U, Z = _add_point(U, Z, z)
    return U, Z


def _add_point(U: np.ndarray, Z: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One point's update (BoTorch's ``compute_local_upper_bounds``)."""
    m = U.shape[-1]
    inside = (U > z).all(axis=-1)  # the search zones that contain z
    if not inside.any():
        return U, Z
    A, A_Z = U[inside], Z[inside]
    new_U, new_Z = [], []
    mask = np.ones(m, dtype=bool)
    for j in range(m):
        mask[j] = False
        add = z[j] >= A_Z[:, mask, j].max(axis=-1)
        if add.any():
            u_j = A[add].copy()
            u_j[:, j] = z[j]
            Z_ku = A_Z[add][:, mask]
            P_uj = np.zeros((u_j.shape[0], m, m), dtype=U.dtype)
            P_uj[:, mask] = Z_ku[Z_ku[..., j] <= z[j]].reshape(u_j.shape[0], m - 1, -1)
            P_uj[:, ~mask] = z
            new_U.append(u_j)
            new_Z.append(P_uj)
        mask[j] = True
    U, Z = U[~inside], Z[~inside]
    if new_U:
        U = np.concatenate([U, *new_U], axis=0)
        Z = np.concatenate([Z, *new_Z], axis=0)
    return U, Z


def partition_bounds(Z: np.ndarray, U: np.ndarray, ref_point: np.ndarray) -> np.ndarray:
    """``2 x cells x m`` lower and upper vertices of the cells (BoTorch's ``get_partition_bounds``:
    Lacour et al.'s Equation 2), empty cells removed."""
    m = U.shape[-1]
    bounds = np.empty((2, U.shape[0], m), dtype=U.dtype)
    bounds[0, :, 0] = Z[:, 0, 0]
    bounds[1, :, 0] = ref_point[0]
    for j in range(1, m):
        bounds[0, :, j] = Z[:, :j, j].max(axis=-1)
        bounds[1, :, j] = U[:, j]
    empty = (bounds[1] <= bounds[0]).any(axis=-1)
    return bounds[:, ~empty]


class NumpyNondominatedPartitioning(FastNondominatedPartitioning):
    """:class:`FastNondominatedPartitioning` with its two incremental passes in NumPy (identical cells)."""

    def _partition_space(self) -> None:
        if len(self.batch_shape) > 0:  # BoTorch's own path (which refuses batches of fronts)
            return super()._partition_space()
        m = self.num_outcomes
        U = self._neg_ref_point.detach().cpu().numpy().reshape(1, m).copy()
        Z = np.zeros((1, m, m), dtype=U.dtype)
        for j in range(m):
            Z[0, j] = -np.inf
            Z[0, j, j] = U[0, j]
        U, Z = local_upper_bounds(self._neg_pareto_Y.detach().cpu().numpy(), U, Z)
        like = {"dtype": self.Y.dtype, "device": self.Y.device}
        self.register_buffer("_U", torch.as_tensor(U, **like))
        self._Z = torch.as_tensor(Z, **like)
        self._get_partitioning()

    def _get_partitioning(self) -> None:
        m = self.num_outcomes
        U2 = np.full((1, m), np.inf)
        Z2 = np.broadcast_to(self.ref_point.detach().cpu().numpy(), (1, m, m)).copy()
        for j in range(m):
            Z2[0, j, j] = U2[0, j]
        U2, Z2 = local_upper_bounds(-self._U.detach().cpu().numpy(), U2.astype(Z2.dtype), Z2)
        bounds = partition_bounds(Z2, U2, np.full(m, np.inf, dtype=Z2.dtype))
        self.hypercell_bounds = torch.as_tensor(bounds, dtype=self.Y.dtype, device=self.Y.device)
