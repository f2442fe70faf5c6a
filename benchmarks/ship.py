"""From a search to a network you can ship: export and final-training time, and the few-shot ``latency@local`` model.

Two parts, one run, with a database and MLflow store of its own:

* **export**: ``surrogate_nas.export`` of ``--archs`` NAS-Bench-201 cells (seeded sample) trained on
  digits (C=16, N=1, ``--epochs`` epochs, one thread): wall seconds of the whole export (training,
  TorchScript, ONNX with its check against TorchScript, model card, MLflow logging) and of a final
  training (``retrain_epochs=--epochs``, ``seeds=--seeds`` on ``--workers`` local processes), with the
  test accuracy of the exported ``model.pt`` and the final training's mean ± s.d. over seeds.
* **fewshot**: ``--measure`` NAS-Bench-201 cells measured on this machine as ``latency@local`` measures
  them (the live search's network: C=16, N=1, digits' 1x8x8 inputs, 10 classes, batch 1, one thread;
  :func:`surrogate_nas.pipelines.ship.measure.measure`); the few-shot latency model that
  ``latency@local`` falls back on past its measuring budget (``make_predictor("latency")``) is fitted on
  n = 10, 20 and 50 of them (``--repeats`` seeded draws each) and its Spearman with the measurement
  taken on all the others.

    python benchmarks/ship.py
    python benchmarks/ship.py --archs 1 --seeds 2 --measure 80 --repeats 5   # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402

NETWORK = {"channels": 16, "cells_per_stage": 1}
SIZES = (10, 20, 50)


def part_export(archs: list[str], epochs: int, seeds: int, workers: int) -> pd.DataFrame:
    from surrogate_nas.pipelines.ship import export

    rows = []
    with tempfile.TemporaryDirectory() as tmp:  # one database and MLflow store for the run (MLflow keeps its engines)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp}/mlruns/mlflow.db"
        db = f"sqlite:///{tmp}/nas.db"
        for i, arch in enumerate(archs):
            start = time.perf_counter()
            report = export(Path(tmp) / f"one{i}", arch=arch, dataset="digits", epochs=epochs, db=db, **NETWORK)
            export_s = time.perf_counter() - start
            start = time.perf_counter()
            final = export(Path(tmp) / f"final{i}", arch=arch, dataset="digits", epochs=epochs, db=db,
                           retrain_epochs=epochs, seeds=seeds, workers=workers, **NETWORK)
            final_s = time.perf_counter() - start
            card, summary = report.networks[0].card, final.networks[0].card["final_training"]
            rows.append({"arch": arch, "export_s": export_s, "test_accuracy": card["test_accuracy"],
                         "onnx": bool(card["files"].get("model.onnx")), "logged": bool(card["mlflow_run_id"]),
                         "final_s": final_s, "final_mean": summary["test_accuracy_mean"],
                         "final_sd": summary["test_accuracy_sd"]})
            print(f"  cell {i}: export {export_s:.0f} s, final training of {seeds} seeds {final_s:.0f} s", flush=True)
    return pd.DataFrame(rows)


def part_fewshot(n: int, repeats: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    from surrogate_nas.pipelines.ship.measure import measure
    from surrogate_nas.predictors.registry import make_predictor
    from surrogate_nas.spaces import get_space

    space = get_space("nb201")
    with tempfile.TemporaryDirectory() as tmp:
        measured = measure("nb201", sample=n, seed=0, input_shape=(1, 8, 8), num_classes=10, warmup=2, repeats=10,
                           db=f"sqlite:///{tmp}/nas.db", **NETWORK)
    archs = [space.parse(a) for a in measured["arch"]]
    y = measured["latency_ms"].to_numpy(np.float64)
    rows = []
    for size in SIZES:
        for seed in range(repeats):
            pick = np.random.default_rng(seed).permutation(len(archs))
            train, test = pick[:size], pick[size:]
            kind, model = make_predictor("latency", space)
            model.fit(space.features([archs[i] for i in train], kind), y[train])
            predicted = model.predict(space.features([archs[i] for i in test], kind))[0]
            rows.append({"n": size, "seed": seed, "spearman": float(spearmanr(predicted, y[test]).statistic)})
    return measured, pd.DataFrame(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archs", type=int, default=3, help="cells exported")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the final training")
    parser.add_argument("--workers", type=int, default=2, help="local processes of the final training")
    parser.add_argument("--measure", type=int, default=200, help="cells measured for the few-shot part")
    parser.add_argument("--repeats", type=int, default=20, help="seeded draws of the n measured cells")
    add_run_args(parser)
    args = parser.parse_args(argv)
    start_run(args.allow_dirty)
    import torch

    from surrogate_nas.spaces import get_space

    torch.set_num_threads(1)
    listed = get_space("nb201").enumerate()
    archs = [listed[i].to_string() for i in np.random.default_rng(0).choice(len(listed), args.archs, replace=False)]
    exported = part_export(archs, args.epochs, args.seeds, args.workers)
    measured, fewshot = part_fewshot(args.measure, args.repeats)
    save_frame(exported, "ship_export")
    save_frame(fewshot, "ship_fewshot")
    shown = pd.DataFrame({
        "cell": range(len(exported)),
        "export, s": exported["export_s"].map("{:.0f}".format),
        "model.pt test accuracy, %": exported["test_accuracy"].map("{:.2f}".format),
        "ONNX written and checked": exported["onnx"].map({True: "yes", False: "no"}),
        "logged to MLflow": exported["logged"].map({True: "yes", False: "no"}),
        f"final training ({args.seeds} seeds), s": exported["final_s"].map("{:.0f}".format),
        "final test accuracy, % (mean ± s.d.)": [f"{m:.2f} ± {s:.2f}" for m, s in
                                                  zip(exported["final_mean"], exported["final_sd"])],
    })
    spread = measured["spread_pct"].median() if "spread_pct" in measured else float("nan")
    summary = fewshot.groupby("n")["spearman"].agg(["mean", "std", "min"]).reset_index()
    summary.columns = ["n measured", "Spearman (mean)", "s.d.", "worst"]
    write_section("ship", "From a search to a network you can ship: export, final training, few-shot latency", f"""
**Export** of {args.archs} NAS-Bench-201 cells (seeded sample) trained on digits, C=16, N=1, {args.epochs} epochs,
one thread: wall seconds of `surrogate_nas.export` (training, TorchScript, ONNX checked against TorchScript,
model card, MLflow logging) and of a final training from scratch ({args.seeds} seeds on {args.workers} local
processes, the best seed exported), with test accuracies. The run has its own database and MLflow store.

{markdown_table(shown)}

**Few-shot `latency@local`**: {args.measure} cells measured on this machine as a live search's `latency@local`
measures them (C=16, N=1, 1x8x8 inputs, batch 1, one thread; median spread of the repeats
{spread:.1f}% of the median); the latency model it falls back on past its measuring budget, fitted on n of
them ({args.repeats} seeded draws per n), against the measurement of all the others:

{markdown_table(summary, floatfmt=".3f")}
""")
    print(markdown_table(shown))
    print(markdown_table(summary, floatfmt=".3f"))


if __name__ == "__main__":
    main()
