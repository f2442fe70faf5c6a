"""Which trained weights stay beside the database (``--keep-weights``), and the disk they take.

Every finished training of a live search (or ``seed``) hands its weights to the store unless
the policy is ``none``; once the run ends, those of its trainings that the policy does not
keep are deleted: ``best`` keeps the best, ``front`` the Pareto front, ``auto`` both (what
``export`` needs), ``all`` everything.
"""

from __future__ import annotations

from collections.abc import Iterable


def prune_weights(store, policy: str, evaluation_ids: Iterable[int], best: Iterable[int] = (),
                  front: Iterable[int] = ()) -> tuple[int, int]:
    """Delete the kept weights of ``evaluation_ids`` that ``policy`` does not keep (``best`` and
    ``front`` are ids among them); return how many of them are kept and their bytes."""
    ids = [int(i) for i in evaluation_ids if i is not None]
    keep = set(ids) if policy == "all" else set()
    if policy in ("best", "auto"):
        keep |= set(best)
    if policy in ("front", "auto"):
        keep |= set(front) or set(best)
    weights, count, size = store.weights, 0, 0
    for evaluation_id in ids:
        path = weights.path(evaluation_id)
        if evaluation_id not in keep:
            weights.delete(str(path))
        elif path.is_file():
            count, size = count + 1, size + path.stat().st_size
    return count, size
