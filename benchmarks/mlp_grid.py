"""A 62,208-row table of a known function: the validation loss of an MLP over nine choices.

No public NAS table is this large and user-shaped (hyperparameters of one model, every
combination listed), so the step-cost benchmark makes one: each row is a combination of
nine choices (4 x 4 x 4 x 4 x 3 x 3 x 3 x 3 x 3 = 62,208) and ``val_loss`` is a fixed,
documented function of them, built to look like what an MLP's validation loss does:

* the learning rate has an optimum that depends on the optimiser (SGD wants a larger one)
  and grows with the batch size (the linear scaling rule), with a quadratic penalty in
  ``log10`` units around it;
* capacity (layers x width) underfits when small and overfits when large, dropout and
  weight decay pulling the overfit back (too much of them underfits again);
* the activation and the initialisation interact (tanh under He, ReLU under a plain
  normal init, deep nets without GELU);
* a deterministic pseudo-noise of s.d. 0.004 per row (from the row's own text), so the
  optimum is unique and rankings are not exactly separable.

The same rows come out on every machine; nothing is drawn from a global random state.

    python benchmarks/mlp_grid.py OUT_DIR   # writes OUT_DIR/space.json and OUT_DIR/mlp_grid.csv
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

CHOICES = {
    "layers": [1, 2, 3, 4],
    "width": [32, 64, 128, 256],
    "learning_rate": [0.0003, 0.001, 0.003, 0.01],
    "batch_size": [16, 32, 64, 128],
    "dropout": [0.0, 0.2, 0.4],
    "weight_decay": [0.0, 0.0001, 0.001],
    "activation": ["relu", "tanh", "gelu"],
    "optimizer": ["sgd", "adam", "adamw"],
    "init": ["he", "xavier", "normal"],
}
METRIC = "val_loss"


def val_loss(row: dict) -> float:
    """The known function (see the module docstring); lower is better."""
    best_log_lr = (-2.0 if row["optimizer"] == "sgd" else -3.0) + 0.15 * np.log2(row["batch_size"] / 32)
    lr = 0.08 * (np.log10(row["learning_rate"]) - best_log_lr) ** 2
    capacity = np.log2(row["layers"] * row["width"] / 32)  # 0 .. 5
    regulariser = row["dropout"] / 0.4 + (np.log10(row["weight_decay"]) + 5 if row["weight_decay"] else 0.0) / 2
    underfit = 0.12 * np.exp(-0.9 * capacity) + 0.02 * max(regulariser - capacity / 2, 0.0)
    overfit = 0.015 * capacity**1.5 / (1.0 + regulariser)
    pairing = {("tanh", "he"): 0.02, ("relu", "normal"): 0.03, ("gelu", "xavier"): -0.005}
    activation = pairing.get((row["activation"], row["init"]), 0.0)
    activation += 0.01 * (row["layers"] - 1) * (row["activation"] != "gelu")
    adamw = -0.006 if row["optimizer"] == "adamw" and row["weight_decay"] else 0.0
    text = json.dumps(row, separators=(",", ":"), sort_keys=True).encode()
    noise = np.random.default_rng(int.from_bytes(hashlib.sha1(text).digest()[:8], "little")).normal(0.0, 0.004)
    return float(0.08 + lr + underfit + overfit + activation + adamw + noise)


def frame() -> pd.DataFrame:
    """Every combination, with its ``arch`` (the space's JSON form) and ``val_loss``."""
    names = list(CHOICES)
    rows = []
    for values in itertools.product(*CHOICES.values()):
        row = dict(zip(names, values))
        rows.append({"arch": json.dumps(row, separators=(",", ":")), METRIC: val_loss(row)})
    return pd.DataFrame(rows)


def write(folder: Path) -> tuple[Path, Path]:
    """Write ``space.json`` and ``mlp_grid.csv`` into ``folder``; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    space = folder / "space.json"
    space.write_text(json.dumps({"name": "mlp-grid", "choices": CHOICES}, indent=1))
    table = folder / "mlp_grid.csv"
    frame().to_csv(table, index=False)
    return space, table


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "mlp_grid")):
        print(path)
