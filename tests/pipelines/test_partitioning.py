"""The NumPy box decomposition gives BoTorch's cells exactly, and qLogNEHVI uses it."""

import pytest
import torch
from botorch.utils.multi_objective.box_decompositions.non_dominated import FastNondominatedPartitioning

from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
from botorch.models import SingleTaskGP
from botorch.sampling.normal import SobolQMCNormalSampler

from surrogate_nas.pipelines.search.bo.acquisition import QLogNEHVI
from surrogate_nas.pipelines.search.bo.partitioning import NumpyNondominatedPartitioning


def fronts():
    """Random outcome sets of 0-40 points in 3-5 objectives, some with ties and repeated values."""
    g = torch.Generator().manual_seed(0)
    for case in range(12):
        m, n = 3 + case % 3, int(torch.randint(0, 40, (1,), generator=g))
        Y = torch.rand(n, m, generator=g, dtype=torch.double)
        if case % 3 == 0:
            Y = (Y * 4).round() / 4
        if case % 4 == 0 and n:
            Y[: n // 2, 0] = Y[0, 0]
        yield torch.full((m,), 0.1 * (case % 2), dtype=torch.double), Y


@pytest.mark.parametrize("ref_point, Y", list(fronts()))
def test_cells_are_botorchs_bit_for_bit(ref_point, Y):
    ours = NumpyNondominatedPartitioning(ref_point, Y=Y).get_hypercell_bounds()
    theirs = FastNondominatedPartitioning(ref_point, Y=Y).get_hypercell_bounds()
    assert ours.dtype == theirs.dtype and torch.equal(ours, theirs)
    assert NumpyNondominatedPartitioning(ref_point, Y=Y).compute_hypervolume() == (
        FastNondominatedPartitioning(ref_point, Y=Y).compute_hypervolume())


def test_three_objective_acquisition_values_are_botorchs_with_pending_points(monkeypatch):
    from botorch.acquisition.multi_objective import logei

    monkeypatch.setattr(logei, "_load_attempted", True)  # both on BoTorch's pure-PyTorch path, as in a search
    g = torch.Generator().manual_seed(1)
    X = torch.rand(30, 4, generator=g, dtype=torch.double)
    Y = torch.stack([X.sum(-1), -X[:, 0] ** 2, X[:, 1] - X[:, 2]], -1)
    model = SingleTaskGP(X, Y).eval()
    ref = (Y.min(0).values - 0.1).tolist()
    kw = dict(X_baseline=X, prune_baseline=True, cache_root=False)
    functions = []
    for kind in (QLogNEHVI, qLogNoisyExpectedHypervolumeImprovement):
        torch.manual_seed(0)  # pruning the baseline draws from the global generator
        functions.append(kind(model, ref, sampler=SobolQMCNormalSampler(torch.Size([16]), seed=3), **kw))
        functions[-1].set_X_pending(torch.rand(2, 4, generator=torch.Generator().manual_seed(2), dtype=torch.double))
    ours, theirs = functions
    assert all(isinstance(p, NumpyNondominatedPartitioning) for p in ours.partitioning.box_decompositions)
    candidates = torch.rand(50, 1, 4, generator=g, dtype=torch.double)
    with torch.no_grad():
        assert torch.equal(ours(candidates), theirs(candidates))
