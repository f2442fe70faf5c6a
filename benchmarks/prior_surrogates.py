"""Choose how BO's surrogate reads a prior: source scores as GP features, a multi-task GP, or RGPE.

``search --prior`` needs a surrogate that learns how much a source tells about the target.
Three candidates, each given the same target evaluations and the same source:

* ``features`` (what ``search --prior`` does, :mod:`surrogate_nas.pipelines.search.prior`): the
  package's GP on the architecture features plus the source's normal score of each architecture's
  rank, one ARD lengthscale per column;
* ``mtgp``: BoTorch's ``MultiTaskGP`` (an ICM kernel: the task covariance is learned) on the
  architecture features, with ``--source-rows`` random evaluations of the source as a second task;
* ``rgpe``: the ranking-weighted GP ensemble (Feurer et al., 2018): a GP fitted on the same source
  rows and one on the target's, weighted by how often each ranks the target's evaluations best
  (256 posterior samples; the target GP by its leave-one-out posterior);

and ``none``, the target's evaluations alone. Two transfers on the visible tables (CIFAR-100 with
the CIFAR-10 table as source and the reverse, 200-epoch validation accuracy), each with a good, a
shuffled (values permuted over the rows, new per seed) and a negated source (as
``benchmarks/priors.py``), at ``n`` = 10, 20 and 50 target evaluations drawn at random; the model
then scores every other architecture. Measured: Kendall tau over those, and the regret of the
model's top 10 (best true value among the 10 it predicts best, against the table's optimum),
which is what a BO step acts on; and the CPU seconds of a fit and prediction.

    python benchmarks/prior_surrogates.py --seeds 4 --sizes 10,50 --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import kendalltau

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import add_run_args, markdown_table, save_frame, start_run, write_section  # noqa: E402
from priors import PRIORS, TRANSFERS, prior_table  # noqa: E402

MODELS = ("none", "features", "mtgp", "rgpe")
SIZES = (10, 20, 50)
TOP = 10
RGPE_SAMPLES = 256
FEATURES = "default"


def _gp(X: np.ndarray, y: np.ndarray, onehot: int = 0):
    """The package's GP as BO fits it (one thread, no target transform, no calibration)."""
    from surrogate_nas.predictors.gp import GPPredictor

    return GPPredictor(onehot_columns=onehot, threads=1, target_transform="none", calibration="none").fit(X, y)


def _standard(y: np.ndarray) -> np.ndarray:
    return (y - y.mean()) / (y.std() if y.std() > 0 else 1.0)


def _mtgp(Xs, ys, Xt, yt, X_test) -> np.ndarray:
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import MultiTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    X = np.vstack([np.hstack([Xs, np.zeros((len(Xs), 1))]), np.hstack([Xt, np.ones((len(Xt), 1))])])
    Y = np.concatenate([_standard(ys), _standard(yt)])[:, None]
    model = MultiTaskGP(torch.as_tensor(X), torch.as_tensor(Y), task_feature=-1, output_tasks=[1])
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    with torch.no_grad():
        return model.posterior(torch.as_tensor(X_test)).mean.reshape(-1).numpy()


def _loo(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out posterior means and standard deviations of a GP fitted on every row (closed form)."""
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from gpytorch.mlls import ExactMarginalLogLikelihood

    Xt, yt = torch.as_tensor(X), torch.as_tensor(_standard(y))[:, None]
    model = SingleTaskGP(Xt, yt)
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    model.eval()
    with torch.no_grad():
        K = model.covar_module(Xt).to_dense() + model.likelihood.noise * torch.eye(len(X), dtype=Xt.dtype)
        inv = torch.linalg.inv(K)
        yc = yt[:, 0] - model.mean_module(Xt)
        diag = torch.diagonal(inv)
        mean = model.mean_module(Xt) + yc - (inv @ yc) / diag
    return mean.numpy(), (1.0 / diag).sqrt().numpy()


def _ranking_losses(draws: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Misranked pairs of ``y`` in each row of ``draws``."""
    less = y[:, None] < y[None, :]
    return ((draws[:, :, None] < draws[:, None, :]) != less[None]).sum(axis=(1, 2))


def _rgpe(Xs, ys, Xt, yt, X_test, rng) -> tuple[np.ndarray, float]:
    """RGPE's mean on ``X_test`` and the source model's weight."""
    source = _gp(Xs, _standard(ys))
    target = _gp(Xt, _standard(yt))
    mean_s, std_s = source.predict(Xt)
    mean_t, std_t = _loo(Xt, yt)
    draws_s = mean_s + std_s * rng.standard_normal((RGPE_SAMPLES, len(Xt)))
    draws_t = mean_t + std_t * rng.standard_normal((RGPE_SAMPLES, len(Xt)))
    losses = np.stack([_ranking_losses(draws_s, yt), _ranking_losses(draws_t, yt)])
    best = losses.min(axis=0)
    wins = (losses == best).astype(float)
    wins /= wins.sum(axis=0)  # ties share a sample
    weight = wins.mean(axis=1)
    return weight[0] * source.predict(X_test)[0] + weight[1] * target.predict(X_test)[0], float(weight[0])


def one_cell(job) -> list[dict]:
    """Every model on one (transfer, source kind, seed, n): Kendall tau, top-10 regret and CPU seconds."""
    from surrogate_nas.pipelines.search.prior import Prior
    from surrogate_nas.tables import load_benchmark

    (target_name, source_name), kind, seed, n, source_rows = job
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    target_table, source_table = load_benchmark(target_name), load_benchmark(source_name)
    source_table = prior_table(source_table, kind, seed)
    space = target_table.search_space()
    archs = space.enumerate()
    y_all = np.array([target_table.lookup(a) for a in archs], dtype=np.float64)
    s_all = np.array([source_table.lookup(a) for a in archs], dtype=np.float64)
    X_all = space.features(archs, FEATURES)  # BO's default features of a listed space
    onehot = len(space.feature_names("onehot")) if space.parse_kind(FEATURES)[0] == "onehot" else 0
    rng = np.random.default_rng([seed, n, 7])
    train = rng.choice(len(archs), n, replace=False)
    rest = np.setdiff1d(np.arange(len(archs)), train)
    rows = rng.choice(rest, source_rows, replace=False)  # source evaluations, none of the target's
    optimum = y_all.max()
    out = []
    for model in MODELS:
        start = time.process_time()
        extra = {}
        if model == "none":
            pred = _gp(X_all[train], y_all[train], onehot).predict(X_all[rest])[0]
        elif model == "features":
            prior = Prior.from_tables([source_table], space)
            cols = prior.columns(archs)
            Xp = np.hstack([X_all, cols])
            pred = _gp(Xp[train], y_all[train], onehot).predict(Xp[rest])[0]
        elif model == "mtgp":
            pred = _mtgp(X_all[rows], s_all[rows], X_all[train], y_all[train], X_all[rest])
        else:
            pred, extra["source_weight"] = _rgpe(X_all[rows], s_all[rows], X_all[train], y_all[train], X_all[rest],
                                                 np.random.default_rng([seed, n, 11]))
        seconds = time.process_time() - start
        top = rest[np.argsort(-pred, kind="stable")[:TOP]]
        out.append({"target": target_name, "source": source_name, "prior": kind, "seed": seed, "n": n,
                    "model": model, "tau": kendalltau(pred, y_all[rest])[0],
                    "top10_regret": optimum - y_all[top].max(), "cpu_s": seconds, **extra})
    return out


def main(argv=None) -> None:
    parser = add_run_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--source-rows", type=int, default=300,
                        help="source evaluations the multi-task GP and RGPE are given")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="target evaluations, comma-separated")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")]
    start_run(args.allow_dirty)
    jobs = [(t, kind, seed, n, args.source_rows) for t in TRANSFERS for kind in PRIORS for seed in range(args.seeds)
            for n in sizes]
    began = time.time()
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for i, cell in enumerate(pool.map(one_cell, jobs), 1):
            rows += cell
            print(f"[{i}/{len(jobs)}] {cell[0]['target']} {cell[0]['prior']} seed {cell[0]['seed']} n={cell[0]['n']}: "
                  + ", ".join(f"{r['model']} tau {r['tau']:.3f}" for r in cell), flush=True)
    frame = pd.DataFrame(rows)
    save_frame(frame, "prior_surrogates")
    tables = []
    for (target, source), part in frame.groupby(["target", "source"], sort=False):
        for metric, fmt in (("tau", "{:.3f} ± {:.3f}"), ("top10_regret", "{:.4f} ± {:.4f}")):
            stats = part.groupby(["prior", "model", "n"], sort=False)[metric].agg(["mean", "sem"])
            shown = pd.DataFrame([{"prior": "-" if m == "none" else p, "model": m,
                                   **{f"n={n}": fmt.format(*stats.loc[(p, m, n)]) for n in sizes}}
                                  for p in PRIORS for m in MODELS if not (p != PRIORS[0] and m == "none")])
            tables.append(f"### {target} with {source} as source: {metric.replace('_', ' ')}\n\n"
                          f"{markdown_table(shown)}")
    weights = frame[frame.model == "rgpe"].groupby(["target", "prior"], sort=False)["source_weight"].mean()
    cpu = frame.groupby("model", sort=False)["cpu_s"].median()
    write_section("prior_surrogates", "How BO's surrogate reads a prior: features, multi-task GP or RGPE", f"""
Each model is given n random evaluations of the target table and one source (the other NB-201
table as it is, shuffled, or negated), then scores every other architecture; mean ± s.e. over
{args.seeds} seeds (seeds 0 to {args.seeds - 1}). `features` is what `search --prior` does (the source's rank scores as GP
inputs); `mtgp` BoTorch's MultiTaskGP and `rgpe` the ranking-weighted ensemble, both given
{args.source_rows} random evaluations of the source (a GP over all 6,466 would cost a step far more
than the budget allows); `none` the target's evaluations alone. Top-10 regret: the table's optimum
minus the best of the 10 architectures the model predicts best (lower is better). See the script's
docstring for the protocol.

{(chr(10) * 2).join(tables)}

RGPE's mean weight on the source: {", ".join(f"{t} {p} {w:.2f}" for (t, p), w in weights.items())}.
Median CPU seconds per fit and prediction: {", ".join(f"{m} {s:.2f}" for m, s in cpu.items())}.
This command took {(time.time() - began) / 60:.0f} min.
""")
    print(frame.groupby(["target", "prior", "model", "n"], sort=False)[["tau", "top10_regret"]].mean().to_string())


if __name__ == "__main__":
    main()
