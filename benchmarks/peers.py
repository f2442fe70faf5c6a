"""The peer protocol: every peer library at its documented best, tuned once, then fixed.

A comparison is only as fair as the weakest-configured peer. Every peer in
``benchmarks/search.py``, ``benchmarks/device_pareto.py`` and ``benchmarks/multi_fidelity.py``
therefore runs under the rules below, and the rules live here, in one place.

1. **Documented settings for the budget and fidelities at hand** (:data:`PEERS`, ``defaults``):

   * Optuna ``TPESampler``: ``n_startup_trials=10`` (Optuna's documented default: random
     trials before TPE starts; https://optuna.readthedocs.io/en/stable/reference/samplers/generated/optuna.samplers.TPESampler.html),
     ``multivariate`` in the grid (same page: multivariate TPE models the parameters jointly,
     Falkner et al. 2018). Used on several objectives it is MOTPE (same page, "For
     multi-objective TPE (MOTPE)").
   * Optuna ``GPSampler``: ``deterministic_objective=True``, because a table lookup is
     deterministic (the documented meaning of that flag: the noise variance is fixed near 0;
     https://optuna.readthedocs.io/en/stable/reference/samplers/generated/optuna.samplers.GPSampler.html),
     ``n_startup_trials`` 10 (its default) in the grid.
   * Optuna ``NSGAIISampler`` / ``NSGAIIISampler``: ``population_size`` sized to the budget
     (the documented default of 50 gives three generations in 150 evaluations; the docs define
     it as "number of individuals (trials) in a generation";
     https://optuna.readthedocs.io/en/stable/reference/samplers/generated/optuna.samplers.NSGAIISampler.html,
     ``.../optuna.samplers.NSGAIIISampler.html``). The NSGA-III page itself notes that TPE or GP
     samplers are worth considering below 1,000 trials, which is why MOTPE is a peer too.
   * Optuna pruners: the NB-201 tables report accuracy at 12 and 200 epochs only, so a pruner's
     rungs must sit at 12 and 200. ``SuccessiveHalvingPruner(min_resource=12,
     min_early_stopping_rate=0)`` has its first rung at 12 (the reported step) and never sees
     a later one (https://optuna.readthedocs.io/en/stable/reference/generated/optuna.pruners.SuccessiveHalvingPruner.html);
     its ``reduction_factor`` (default 4) is the knob, tried over 2, 3, 4, 6 and 8 (the range our
     own ``mf-bo`` chose its ``eta`` from). ``HyperbandPruner`` makes
     ``floor(log_eta(200/12)) + 1`` brackets whose first rungs are ``12 * eta**s``: with
     ``eta=3`` they are 12, 36 and 108 epochs, two of which never see a report (the handicap of
     the old benchmark). ``reduction_factor=16`` is the one setting whose brackets are exactly
     {rung at 12, no rung before 200}: two brackets, like DEHB's and Hyperband's own ladder on
     this table (https://optuna.readthedocs.io/en/stable/reference/generated/optuna.pruners.HyperbandPruner.html).
     The Optuna tutorial ("Which Sampler and Pruner Should be Used?") recommends Hyperband with
     TPE; both pruners are run.
   * DEHB (https://automl.github.io/DEHB/, ask & tell): ``min_fidelity=12, max_fidelity=200``
     and ``eta=200/12``, the one ladder with exactly the table's two levels (with its default
     ``eta=3`` it would ask for 22 and 67 epochs, which the table cannot answer). The ladder then
     fixes its population sizes (Hyperband's bracket sizes), so the grid is over its DE knobs,
     ``mutation_factor`` and ``crossover_prob`` (defaults 0.5 and 0.5).
   * SMAC3 ``MultiFidelityFacade`` (https://automl.github.io/SMAC3/latest/advanced_usage/2_multi_fidelity,
     ``.../api/smac/facade/multi_fidelity_facade``): Hyperband intensifier with
     ``min_budget=12, max_budget=200`` and ``eta=200/12`` (budgets exactly 12 and 200),
     ``deterministic=True`` in the scenario (a table lookup), random forest and EI as the facade
     sets them; the grid is over its initial design (``n_configs_per_hyperparameter``, default 10).

2. **A small grid of each peer's main knob** (:data:`PEERS`, ``grid``), tried on one visible
   problem with seeds that are never reported (:data:`SELECTION_SEEDS`, 100-104) by
   ``benchmarks/peer_selection.py``; the best setting by that problem's headline score is then
   fixed for every table and device. The grid, the scores, the choice, the selection seeds and
   the installed versions are written to the ``peer_selection`` section of docs/benchmarks.md;
   the rows are kept in ``docs/results/peer_selection.csv``, which :func:`chosen` reads.

3. **Same table, budget, seeds and scoring as ours.** A NAS-Bench-201 cell is six categorical
   parameters (one per edge, five operations each, :func:`suggest_cell`), looked up in the
   table through the same :class:`~surrogate_nas.pipelines.search.evaluators.TabularEvaluator`
   our strategies use; the table-driven peers run through
   :func:`~surrogate_nas.pipelines.search.runner.run_search` as a
   :class:`~surrogate_nas.pipelines.search.strategies.base.Strategy` (:class:`OptunaStrategy`),
   so curves, regret and hypervolume are computed by the same code.

4. **Repeats are free.** Optuna samples the 15,625 labelled cells, our strategies the 6,466
   canonical ones. A proposal whose canonical cell (isomorphic twins included) was already
   evaluated is answered from the cache and told to the sampler without counting against the
   budget: this only helps the peer (the single- and multi-objective samplers are told the cached
   value again, as Optuna's maintainers suggest for duplicates in optuna/optuna#2021). With a
   pruner (``multi_fidelity.py``) a trial proposing a cell already trained to 200 epochs is told
   pruned instead, the other route of that thread: told complete again, TPE piles up on its best
   cells and stops proposing new ones. After :data:`MAX_REPEATS` repeats in a row (a converged
   population) the next trial is a random unseen cell, counted, and reported.

Peers are benchmark-only, never runtime dependencies: ``pip install -e .[bench]`` and
``pip install --no-deps dehb==0.1.2`` (DEHB pins numpy<2, which would downgrade the numpy the
package runs on; it runs on numpy 2).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from surrogate_nas.pipelines.search.history import Objective, Suggestion, Trial, parse_objectives
from surrogate_nas.pipelines.search.strategies.base import Strategy

RESULTS = Path(__file__).resolve().parent.parent / "docs" / "results"
SELECTION_FILE = RESULTS / "peer_selection.csv"
SELECTION_SEEDS = tuple(range(100, 105))
"""Seeds of the setting selection; the reported runs use seeds 0..19, never these."""
MAX_REPEATS = 1000
"""Consecutive repeated proposals after which a slot gets a random unseen cell."""

LOW_EPOCHS, FULL_EPOCHS = 12, 200
"""The NB-201 tables' two fidelities."""


@dataclass(frozen=True)
class PeerSpec:
    """One peer: its library, the problem kind it runs on, documented settings and the knob grid.

    Attributes:
        name: the label in the benchmark tables.
        library: the pip distribution whose version the sections name.
        kind: ``single``, ``multi`` (several objectives) or ``fidelity``.
        defaults: settings every run uses (documented ones, matched to budget and fidelities).
        grid: the knob settings tried on the selection problem (merged over ``defaults``); the
            first is the documented default, which wins ties.
        doc: the documentation followed, in a few words.
    """

    name: str
    library: str
    kind: str
    defaults: dict
    grid: tuple[dict, ...]
    doc: str


PEERS: dict[str, PeerSpec] = {p.name: p for p in (
    PeerSpec("optuna-tpe", "optuna", "single", {"n_startup_trials": 10},
             tuple({"n_startup_trials": n, "multivariate": m} for m in (False, True) for n in (10, 20)),
             "TPESampler: n_startup_trials default 10; multivariate TPE"),
    PeerSpec("optuna-gp", "optuna", "single", {"deterministic_objective": True},
             tuple({"n_startup_trials": n} for n in (10, 20)),
             "GPSampler: deterministic_objective=True for a table; n_startup_trials default 10"),
    PeerSpec("optuna-nsga2", "optuna", "multi", {},
             tuple({"population_size": p} for p in (50, 10, 20, 30)),
             "NSGAIISampler: population_size (default 50) is one generation"),
    PeerSpec("optuna-nsga3", "optuna", "multi", {},
             tuple({"population_size": p} for p in (50, 10, 20, 30)),
             "NSGAIIISampler: population_size (default 50), default reference points"),
    PeerSpec("optuna-motpe", "optuna", "multi", {"n_startup_trials": 10},
             tuple({"n_startup_trials": n, "multivariate": m} for m in (False, True) for n in (10, 20)),
             "TPESampler on several objectives (MOTPE)"),
    PeerSpec("optuna-tpe-sh", "optuna", "fidelity", {"min_resource": LOW_EPOCHS, "n_startup_trials": 10},
             tuple({"reduction_factor": r, "multivariate": m} for m in (False, True) for r in (4, 2, 3, 6, 8)),
             "TPESampler + SuccessiveHalvingPruner(min_resource=12), rung at the reported 12 epochs"),
    PeerSpec("optuna-tpe-hb", "optuna", "fidelity",
             {"min_resource": LOW_EPOCHS, "max_resource": FULL_EPOCHS, "reduction_factor": 16, "n_startup_trials": 10},
             tuple({"multivariate": m} for m in (False, True)),
             "TPESampler + HyperbandPruner(12, 200, reduction_factor=16): brackets {12, 200}"),
    PeerSpec("dehb", "dehb", "fidelity",
             {"min_fidelity": LOW_EPOCHS, "max_fidelity": FULL_EPOCHS, "eta": FULL_EPOCHS / LOW_EPOCHS},
             tuple({"mutation_factor": f, "crossover_prob": c} for f in (0.5, 0.8) for c in (0.5, 0.9)),
             "DEHB ask & tell, fidelity ladder = the table's 12 and 200 epochs"),
    PeerSpec("smac-mf", "smac", "fidelity",
             {"min_budget": LOW_EPOCHS, "max_budget": FULL_EPOCHS, "eta": FULL_EPOCHS / LOW_EPOCHS,
              "deterministic": True},
             tuple({"n_configs_per_hyperparameter": n} for n in (10, 2)),
             "SMAC3 MultiFidelityFacade (Hyperband, random forest, EI), budgets 12 and 200"),
)}
"""Peer name -> :class:`PeerSpec`."""


def setting_key(setting: dict) -> str:
    """A setting as one stable string (the CSV column and the tables show it)."""
    return json.dumps(setting, sort_keys=True)


def settings_of(name: str, knob: dict) -> dict:
    """The full settings of peer ``name`` with grid point ``knob``."""
    return {**PEERS[name].defaults, **knob}


# -- choosing the knob from the selection rows ------------------------------------------
HIGHER_IS_BETTER = {"single": False, "multi": True, "fidelity": False}
"""Selection scores: mean regret (single), mean HV ratio (multi), mean cost to the target (fidelity)."""


def choose(rows: pd.DataFrame) -> dict[str, dict]:
    """The best grid point per peer from selection rows (``peer, kind, setting, seed, score``).

    The mean score over seeds decides; a tie keeps the earlier grid point (the documented default first).
    """
    out = {}
    for peer, g in rows.groupby("peer", sort=False):
        spec = PEERS[peer]
        means = g.groupby("setting", sort=False)["score"].mean()
        order = [setting_key(k) for k in spec.grid if setting_key(k) in means.index]
        sign = -1.0 if HIGHER_IS_BETTER[spec.kind] else 1.0
        best = min(order, key=lambda k: (sign * means[k], order.index(k)))
        out[peer] = json.loads(best)
    return out


@dataclass(frozen=True)
class Choice:
    """The fixed settings of the peers and where they were chosen."""

    settings: dict[str, dict]
    rows: pd.DataFrame

    def of(self, name: str) -> dict:
        """Full settings of ``name``: documented defaults plus its chosen knob."""
        if name not in self.settings:
            raise SystemExit(f"{SELECTION_FILE.name} has no selection rows for {name!r}: run "
                             f"`python benchmarks/peer_selection.py --kinds {PEERS[name].kind}` first")
        return settings_of(name, self.settings[name])

    def line(self, names: Sequence[str]) -> str:
        """One sentence for a section: the settings used and where they were chosen."""
        parts = [f"`{n}` {setting_key(self.of(n))}" for n in names]
        rows = self.rows[self.rows["peer"].isin(list(names))]
        seeds = ", ".join(str(s) for s in sorted(rows["seed"].unique()))
        commits = ", ".join(f"`{c}`" for c in sorted(set(rows["commit"].astype(str)))) if "commit" in rows else "unknown"
        return ("Peer settings (documented defaults plus the knob chosen by `benchmarks/peer_selection.py` on "
                f"nb201-cifar10 with seeds {seeds}, rows made at commit {commits}, then fixed; see the peer "
                "protocol section): " + "; ".join(parts) + ".")


def chosen(path: Path = SELECTION_FILE) -> Choice:
    """The peers' fixed settings, from the selection rows in ``docs/results/peer_selection.csv``.

    Raises:
        SystemExit: no selection has been run (run ``benchmarks/peer_selection.py`` first).
    """
    if not Path(path).exists():
        raise SystemExit(f"{path} is missing: run `python benchmarks/peer_selection.py` first; it chooses each "
                         "peer's setting on seeds 100-104 and every benchmark then uses that choice")
    rows = pd.read_csv(path)
    return Choice(choose(rows), rows)


# -- NAS-Bench-201 cells as Optuna parameters -------------------------------------------
def nb201_cell(space, ops: Sequence[str]):
    """The NB-201 cell with edge operations ``ops`` (edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), in ``space``."""
    o = list(ops)
    if len(o) != 6:
        raise ValueError(f"an NB-201 cell has 6 edges, got {len(o)} operations")
    return space.parse(f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|")


def cell_params(arch) -> dict[str, str]:
    """The Optuna parameters (``edge0`` .. ``edge5``) of an NB-201 cell: the inverse of :func:`suggest_cell`."""
    return {f"edge{i}": op for i, op in enumerate(arch.ops)}


def suggest_cell(trial, space):
    """Ask an Optuna trial for one NB-201 cell: six categorical parameters, one per edge."""
    from surrogate_nas.spaces.nb201.cell import OPS

    return nb201_cell(space, [trial.suggest_categorical(f"edge{i}", list(OPS)) for i in range(6)])


def optuna_sampler(name: str, settings: dict, seed: int):
    """The Optuna sampler of peer ``name`` with ``settings``."""
    import optuna

    s = dict(settings)
    if name in ("optuna-tpe", "optuna-motpe", "optuna-tpe-sh", "optuna-tpe-hb"):
        keep = {k: s[k] for k in ("n_startup_trials", "multivariate") if k in s}
        return optuna.samplers.TPESampler(seed=seed, **keep)
    if name == "optuna-gp":
        return optuna.samplers.GPSampler(seed=seed, **s)
    if name == "optuna-nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed, **s)
    if name == "optuna-nsga3":
        return optuna.samplers.NSGAIIISampler(seed=seed, **s)
    raise ValueError(f"{name!r} is not an Optuna sampler peer")


class OptunaStrategy(Strategy):
    """An Optuna sampler behind our ask/tell interface, on an NB-201 table's space.

    Each suggestion is one Optuna trial (:func:`suggest_cell`). A trial whose cell is already
    evaluated (same canonical key) is told the cached values at once and does not count
    (see the module docstring, rule 4); one whose cell is pending waits for that result.

    Attributes:
        repeats: proposals answered from the cache.
        fallbacks: slots filled at random after :data:`MAX_REPEATS` repeats in a row.
    """

    name = "optuna"
    multi_objective = True

    def __init__(self, space, objectives=None, seed: int = 0, peer: str = "optuna-tpe",
                 settings: dict | None = None) -> None:
        import optuna

        super().__init__(space, objectives, seed)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.name = peer
        directions = ["maximize" if o.maximize else "minimize" for o in self.objectives]
        self.study = optuna.create_study(directions=directions,
                                         sampler=optuna_sampler(peer, settings or {}, seed))
        self._values: dict[str, list[float]] = {}
        self._open: dict[str, list] = {}
        self.repeats = self.fallbacks = 0

    def _values_of(self, trial: Trial) -> list[float] | None:
        if trial.status != "ok":
            return None
        values = [float(trial.value if j == 0 and o.name not in trial.objectives else trial.objectives[o.name])
                  for j, o in enumerate(self.objectives)]
        return values if all(math.isfinite(v) for v in values) else None

    def _answer(self, otrial, values) -> None:
        import optuna

        if values is None:
            self.study.tell(otrial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(otrial, values if len(values) > 1 else values[0])

    def ask(self, n, pending=()):
        taken = self.taken_keys(pending)
        out: list[Suggestion] = []
        while len(out) < n:
            for _ in range(MAX_REPEATS):
                otrial = self.study.ask()
                arch = suggest_cell(otrial, self.space)
                key = arch.canonical_key
                if key in self._values:
                    self.repeats += 1
                    self._answer(otrial, self._values[key])
                    continue
                self._open.setdefault(key, []).append(otrial)
                if key in taken:  # pending: answered when its result comes
                    self.repeats += 1
                    continue
                taken.add(key)
                out.append(Suggestion(arch))
                break
            else:
                fresh = self.fresh(1, taken)
                if not fresh:
                    break
                self.fallbacks += 1
                otrial = self.study.ask(fixed_distributions(cell_params(fresh[0].arch)))
                self._open.setdefault(fresh[0].key, []).append(otrial)
                out += fresh
        return out

    def tell(self, trials):
        super().tell(trials)
        for t in trials:
            values = self._values_of(t)
            self._values[t.key] = values
            for otrial in self._open.pop(t.key, []):
                self._answer(otrial, values)


def fixed_distributions(params: dict[str, str]) -> dict:
    """Optuna distributions that can only take ``params`` (to tell a fallback cell to the sampler)."""
    import optuna

    return {k: optuna.distributions.CategoricalDistribution([v]) for k, v in params.items()}


def peer_curves(table, peer: str, settings: dict, budget: int, seeds, objectives=None, metrics=(),
                batch_size: int = 1) -> pd.DataFrame:
    """Curves of an Optuna peer on ``table``, in :func:`~surrogate_nas.pipelines.search.benchmark.benchmark_search`'s
    layout (plus ``repeats`` and ``fallbacks`` per row), scored by the same runner.

    Peers run one trial at a time by default (``batch_size=1``), which only helps them: each
    proposal sees every result before it.
    """
    from surrogate_nas.pipelines.search.benchmark import CURVE_COLUMNS, benchmark_evaluator
    from surrogate_nas.pipelines.search.runner import run_search

    objs = parse_objectives(objectives) if objectives else None
    evaluator = benchmark_evaluator(table, objs, (), metrics)
    objs = objs or (Objective(evaluator.target, evaluator.maximize),)
    reported = [o.name for o in objs] if len(objs) > 1 else []
    columns = CURVE_COLUMNS[2:] + [c for c in reported if c not in CURVE_COLUMNS]
    parts = []
    for seed in ([seeds] if isinstance(seeds, int) else seeds):
        strategy = OptunaStrategy(evaluator.space, objs, seed=int(seed), peer=peer, settings=settings)
        trace = run_search(strategy, evaluator, budget=budget, batch_size=batch_size, seed=int(seed), objectives=objs)
        frame = trace.frame.assign(**{c: [t.objectives.get(c) for t in trace.history] for c in reported})
        part = frame.reindex(columns=columns)
        part.insert(0, "seed", int(seed))
        part.insert(0, "strategy", peer)
        parts.append(part.assign(repeats=strategy.repeats, fallbacks=strategy.fallbacks))
    return pd.concat(parts, ignore_index=True)


def installed(libraries: Sequence[str]) -> dict[str, str | None]:
    """Installed version of each peer library (``None`` when missing)."""
    import importlib.metadata

    out = {}
    for lib in libraries:
        try:
            out[lib] = importlib.metadata.version(lib)
        except importlib.metadata.PackageNotFoundError:
            out[lib] = None
    return out


def mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
