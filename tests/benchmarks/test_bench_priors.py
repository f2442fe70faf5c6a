"""benchmarks/priors.py: the goal's verdicts, a bad prior judged against noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench_scripts import load_script


@pytest.fixture(scope="module")
def priors():
    return load_script("priors")


def _runs(shuffled_to_optimum, none_to_optimum, good_to_optimum=(2.0,) * 20) -> pd.DataFrame:
    rows = []
    for condition, values in (("none", none_to_optimum), ("shuffled", shuffled_to_optimum), ("good", good_to_optimum)):
        for seed, v in enumerate(values):
            rows.append({"target": "t", "source": "s", "condition": condition, "seed": seed, "to_optimum": v,
                         **{f"regret@{m}": 0.1 for m in (10, 20, 50)}})
    return pd.DataFrame(rows)


def test_a_bad_prior_is_worse_only_when_the_difference_is_beyond_noise(priors):
    rng = np.random.default_rng(0)
    none = rng.integers(10, 60, 20).astype(float)
    noisy = priors.verdicts(_runs(none + rng.choice([-3.0, 4.0], 20), none), 100, 15)
    assert "good prior, median 2 trainings" in noisy[0] and "met" in noisy[0]
    assert "no worse than no prior beyond noise" in noisy[1] and "Mann-Whitney p =" in noisy[1]
    never = priors.verdicts(_runs([np.nan] * 20, none), 100, 15)
    assert "WORSE than no prior" in never[1] and "> 100" in never[1]
