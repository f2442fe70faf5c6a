"""The contracts of plug-ins, as code you can run (scikit-learn's ``check_estimator`` idea).

Each ``check_*`` function runs every rule a kind of plug-in must keep and raises
``AssertionError`` naming the first broken rule; it returns nothing when all hold. surrogate-nas's
own test suite runs the same functions over every built-in implementation, so they are the
one definition of what a space, a strategy, a predictor, an executor or an evaluator must do::

    from surrogate_nas.testing import check_predictor, check_space, check_strategy

    def test_my_plugins():
        check_space(MySpace())
        check_strategy(MyStrategy, MySpace())
        check_predictor(MyPredictor())

:func:`check_space` and :func:`check_predictor` need the core only; :func:`check_strategy`,
:func:`check_executor` and :func:`check_evaluator` need the search machinery and are imported
from :mod:`surrogate_nas.pipelines.testing` on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable

import numpy as np

from surrogate_nas.errors import InputDataError, NotFittedError

MALFORMED_TEXTS = ("", "not an architecture", "|||;;;", "0" * 500)
"""Texts no space may read as an architecture."""


def fail(who, rule: str) -> None:
    """Raise the ``AssertionError`` of a broken rule: who broke which rule."""
    raise AssertionError(f"{who}: {rule}")


def expect(condition, who, rule: str) -> None:
    """Assert ``condition``, naming ``who`` and the ``rule`` when it does not hold."""
    if not condition:
        fail(who, rule)


def expect_raises(error: type[BaseException], action: Callable[[], object], who, rule: str) -> BaseException:
    """Run ``action``; it must raise ``error`` (the rule says why). Returns the exception."""
    try:
        action()
    except error as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - any other exception breaks the rule; say which it was
        fail(who, f"{rule} (raised {type(exc).__name__}: {exc} instead of {error.__name__})")
    fail(who, f"{rule} (nothing was raised; expected {error.__name__})")
    raise AssertionError  # unreachable; for type checkers


def expect_works(action: Callable[[], object], who, rule: str):
    """Run ``action`` and return its result; an exception breaks ``rule`` (named with what was raised)."""
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - whatever the plug-in raised, the rule is what is reported
        fail(who, f"{rule} (raised {type(exc).__name__}: {exc})")


class ForeignArchitecture:
    """An architecture value of no space: hashable, printable, with a key of its own."""

    canonical_key = "foreign-architecture"

    def to_string(self) -> str:
        return "foreign"

    def __repr__(self) -> str:
        return "ForeignArchitecture()"


# -- spaces ----------------------------------------------------------------------------------
def check_space(space, n: int = 6, seed: int = 0) -> None:
    """Run the search-space contract on ``space`` (a :class:`~surrogate_nas.spaces.SearchSpace`).

    Values are immutable, hashable, printed and parsed back, and keep their canonical key;
    malformed text and foreign values are :class:`~surrogate_nas.errors.InputDataError`;
    sampling avoids excluded keys, never repeats and follows its generator; neighbours are
    one-step moves inside the space; enumeration lists one per key; every feature kind is
    finite, named and independent of row order. When the space builds networks
    (``has_network``): the ``cost`` and ``zc`` features, the network maps inputs to logits,
    its counts match it, fewer than two classes are refused, and, when the space declares
    ``input_multiple`` > 1, inputs of another size are refused. Network options are read or
    refused. The ``dag`` kind, when offered, is a graph of typed nodes shared by twins. Nothing
    assumes images of a given size or a convolutional network.

    Raises:
        AssertionError: naming the space and the first broken rule.
    """
    from surrogate_nas.spaces import SearchSpace

    who = repr(space)
    expect(isinstance(space, SearchSpace), who, "a space is a surrogate_nas.spaces.SearchSpace")
    expect(isinstance(space.name, str) and space.name and space.name == space.name.strip(), who,
           "the space has a name (the database stores architectures under it)")
    size = space.size()
    n = n if size is None else min(n, size)
    sample = space.sample_unseen(n, np.random.default_rng(seed))
    expect(len(sample) == n, who, f"sample_unseen({n}) returns {n} architectures of a space that holds that many")
    _check_values(space, who, sample)
    _check_sampling(space, who, sample, size, seed)
    _check_moves(space, who, sample, seed)
    _check_features(space, who, sample)
    if getattr(space, "has_network", True):
        _check_network(space, who, sample)
    _check_network_options(space, who)
    if "dag" in space.feature_kinds():
        _check_dag(space, who, sample)


def _check_values(space, who, sample) -> None:
    for arch in sample:
        text = space.format(arch)
        expect(isinstance(text, str), who, "format(arch) is text")
        again = expect_works(lambda t=text: space.parse(t), who, f"parse(format(arch)) is the same value ({text!r})")
        expect(again == arch and hash(again) == hash(arch), who,
               f"parse(format(arch)) is the same value with the same hash ({text!r})")
        expect(isinstance(arch.canonical_key, str) and again.canonical_key == arch.canonical_key, who,
               "canonical_key is text that survives the round trip")
        expect(space.is_member(arch), who, "sampled architectures are members of the space")
        expect(space.as_architecture(text) == arch, who, "as_architecture(text) reads the text form")
        expect(space.representative(arch).canonical_key == arch.canonical_key, who,
               "representative(arch) shares arch's canonical key")
    for garbage in MALFORMED_TEXTS:
        expect_raises(InputDataError, lambda g=garbage: space.parse(g), who,
                      f"parse({garbage[:20]!r}) of malformed text raises InputDataError")
    foreign = ForeignArchitecture()
    expect(not space.is_member(foreign), who, "a value of no space is not a member")
    expect_raises(InputDataError, lambda: space.features([foreign], "onehot"), who,
                  "features of a value of another space raise InputDataError")


def _check_sampling(space, who, sample, size, seed) -> None:
    keys = {a.canonical_key for a in sample}
    expect(len(keys) == len(sample), who, "sample_unseen never repeats a canonical key")
    more_n = 10 if size is None else min(10, size - len(keys))
    more = space.sample_unseen(more_n, np.random.default_rng(seed + 1), keys)
    more_keys = {a.canonical_key for a in more}
    expect(len(more) == more_n and len(more_keys) == more_n, who,
           f"sample_unseen({more_n}, exclude=...) returns {more_n} distinct new architectures")
    expect(not keys & more_keys, who, "sample_unseen avoids the excluded canonical keys")
    first = space.sample_unseen(3, np.random.default_rng(seed + 5))
    expect(first == space.sample_unseen(3, np.random.default_rng(seed + 5)), who,
           "sampling with equally seeded generators gives the same architectures")
    listed = space.enumerate()
    if listed is None:
        return
    expect(len({a.canonical_key for a in listed}) == len(listed) == space.size(), who,
           "enumerate() lists one architecture per canonical key, size() of them")


def _check_moves(space, who, sample, seed) -> None:
    if space.size() == 1:
        return
    for arch in sample[:3]:
        nbrs = space.neighbours(arch)
        expect(nbrs and all(space.is_member(x) for x in nbrs), who, "neighbours(arch) are members of the space")
        expect(any(x.canonical_key != arch.canonical_key for x in nbrs), who,
               "neighbours(arch) include another canonical architecture")
        taken = {arch.canonical_key} | {x.canonical_key for x in nbrs[: len(nbrs) // 2]}
        child = space.mutate(arch, np.random.default_rng(seed + 2), taken)
        expect(space.is_member(child) and child.canonical_key not in taken, who,
               "mutate(arch, rng, exclude) is a member outside the excluded keys")


def _check_features(space, who, sample) -> None:
    from surrogate_nas.spaces.base import COST_NAMES

    kinds = space.feature_kinds()
    expect("onehot" in kinds, who, "every space offers the onehot features")
    if getattr(space, "has_network", True):
        from surrogate_nas.proxy_names import PROXY_NAMES
        from surrogate_nas.spaces.zc import ZC_PROXIES

        expect({"cost", "zc"} <= set(kinds), who, "a space that builds networks offers the cost and zc features")
        expect(space.feature_names("cost") == list(COST_NAMES), who, f"the cost columns are {list(COST_NAMES)}")
        expect(space.feature_names("zc") == [f"zc_{p}" for p in ZC_PROXIES], who,
               "the zc columns are the chosen zero-cost proxies")
        if "zcall" in kinds:
            expect(space.feature_names("zcall") == [f"zc_{p}" for p in PROXY_NAMES], who,
                   "the zcall columns are every zero-cost proxy")
        expect("zc" not in space.parse_kind("cheap"), who, "the cheap set leaves out the costly zc proxies")
    expect(space.parse_kind("onehot+default") == ["onehot", *space.parse_kind("default")], who,
           "'default' stands for the space's default set inside a joined kind")
    for kind in (*kinds, "default", "cheap"):
        archs = sample[:1] if kind == "zcall" else sample  # every proxy of a new architecture is computed afresh
        X = space.features(archs, kind)
        expect(X.shape == (len(archs), len(space.feature_names(kind))) and X.dtype == np.float64, who,
               f"features(archs, {kind!r}) is n x len(feature_names({kind!r})) float64")
        expect(np.isfinite(X).all(), who, f"features of kind {kind!r} are finite")
        expect(np.array_equal(X[::-1], space.features(archs[::-1], kind)), who,
               f"features of kind {kind!r} do not depend on the order of the rows")
    expect_raises(InputDataError, lambda: space.features(sample, "pixels"), who,
                  "an unknown feature kind raises InputDataError")


def _check_network(space, who, sample) -> None:
    import torch

    net_config = space.network_config()
    expect(net_config == space.default_network, who, "network_config() without options is default_network")
    multiple = max(int(getattr(space, "input_multiple", 1)), 1)
    side = multiple * math.ceil(8 / multiple)
    shape = (1, side, side)
    for arch in sample[:2]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            net = expect_works(lambda a=arch: space.build_network(a, net_config, shape, 10), who,
                               f"build_network(arch, network_config(), {shape}, 10) builds a network")
        expect(isinstance(net, torch.nn.Module), who, "build_network returns a torch.nn.Module")
        with torch.no_grad():
            out = net(torch.zeros(3, *shape))
        expect(tuple(out.shape) == (3, 10), who, f"the network maps 3 x {shape} inputs to 3 x 10 logits")
        expect(space.count_params(arch, net_config, shape, 10) == sum(p.numel() for p in net.parameters()), who,
               "count_params equals the parameters of the built network")
        expect(space.count_flops(arch, net_config, shape, 10) > 0, who, "count_flops is positive")
        params, flops = space.reference_cost(arch)
        expect(isinstance(params, int) and isinstance(flops, int) and params > 0 and flops > 0, who,
               "reference_cost(arch) is two positive ints (params, FLOPs)")
    if multiple > 1:
        expect_raises(InputDataError, lambda: space.build_network(sample[0], net_config, (1, side - 1, side + 1), 10),
                      who, f"build_network refuses heights and widths that are not multiples of {multiple} "
                           "(input_multiple)")
    expect_raises(InputDataError, lambda: space.count_params(sample[0], net_config, shape, 1), who,
                  "a network for fewer than two classes is refused with InputDataError")


def _check_network_options(space, who) -> None:
    for option, flag in (("channels", "-C"), ("cells_per_stage", "-N")):
        if option in space.network_options:
            expect(getattr(space.network_config(**{option: 9}), option) == 9, who,
                   f"network_config({option}=9) sets {option}")
        else:
            error = expect_raises(InputDataError, lambda o=option: space.network_config(**{o: 9}), who,
                                  f"network_config({option}=...) of a space without that option is refused")
            expect(flag in str(error), who, f"the refusal of {option} names its flag {flag}")


def _check_dag(space, who, sample) -> None:
    from surrogate_nas.spaces.dag import dag_nodes, dag_shape

    names = space.feature_names("dag")
    n, types = dag_shape(len(names), dag_nodes(names))
    X = space.features(sample, "dag")
    adj, onehot = X[:, : n * n].reshape(-1, n, n), X[:, n * n :].reshape(-1, n, types)
    expect(set(np.unique(X)) <= {0.0, 1.0} and adj.sum() > 0, who, "dag rows are 0/1 with edges")
    expect(np.all(np.triu(adj, 1).sum(axis=(1, 2)) == adj.sum(axis=(1, 2))), who, "dag edges run forward")
    expect(np.all(onehot.sum(axis=2) <= 1) and np.all(adj.sum(axis=2)[onehot.sum(axis=2) == 0] == 0), who,
           "each dag node has at most one type, and untyped nodes have no edges")
    for arch in sample[:3]:
        twin = space.representative(arch)
        expect(np.array_equal(space.features([twin], "dag"), space.features([arch], "dag")), who,
               "twins share their dag row")


# -- predictors ------------------------------------------------------------------------------
def check_predictor(predictor, X=None, y=None) -> None:
    """Run the predictor contract (:mod:`surrogate_nas.predictors.base`, scikit-learn's conventions) on
    an unfitted ``predictor``, with ``X`` (``n x d``, n >= 10) and ``y`` or a small random problem.

    ``fit(X, y)`` returns the predictor and ``predict(X)`` gives ``(mean, std)`` of shape ``(n,)``,
    finite, ``std >= 0``; a ``predict_distribution(X)``, where there is one, summarises to exactly
    ``predict(X)``, its 90% intervals hold the predicted means and its density is finite and
    positive at them; predicting before fitting raises NotFittedError; another feature count
    is InputDataError; neither touches torch's global random state; the same data give the same
    predictions; ``get_params``/``set_params`` and a clone from the parameters work as in
    scikit-learn (an unknown parameter is InputDataError).

    Raises:
        AssertionError: naming the predictor and the first broken rule.
    """
    import torch

    who = f"{type(predictor).__name__}"
    if X is None:
        rng = np.random.default_rng(1)
        X = rng.random((40, 4))
        y = X[:, 0] * 3 + rng.normal(scale=0.05, size=40)
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    expect(X.ndim == 2 and len(X) >= 10 and y.shape == (len(X),), "check_predictor",
           "needs X of n x d with n >= 10 and y of n")
    for method in ("fit", "predict", "get_params", "set_params"):
        expect(callable(getattr(predictor, method, None)), who, f"a predictor has a {method} method")
    params = predictor.get_params()
    expect(isinstance(params, dict), who, "get_params() is a dict of hyper-parameters")
    fresh = type(predictor)(**params)
    expect(fresh.get_params() == params, who, "a predictor built from get_params() has the same parameters")
    expect_raises(NotFittedError, lambda: predictor.predict(X), who, "predicting before fit raises NotFittedError")
    state = torch.get_rng_state()
    expect(predictor.fit(X, y) is predictor, who, "fit(X, y) returns the predictor itself")
    expect(torch.equal(state, torch.get_rng_state()), who, "fitting does not touch torch's global random state")
    k = min(7, len(X))
    mean, std = predictor.predict(X[:k])
    expect(torch.equal(state, torch.get_rng_state()), who, "predicting does not touch torch's global random state")
    mean, std = np.asarray(mean), np.asarray(std)
    expect(mean.shape == (k,) and std.shape == (k,), who, f"predict(X) returns (mean, std), each of shape (n,)")
    expect(np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0), who,
           "predicted means are finite and standard deviations finite and >= 0")
    expect_raises(InputDataError, lambda: predictor.predict(X[:, :-1]), who,
                  "predicting with another number of features than fit saw raises InputDataError")
    if callable(getattr(predictor, "predict_distribution", None)):
        _check_distribution(predictor, X[:k], mean, std, who)
    again_mean, again_std = fresh.fit(X, y).predict(X[:k])
    expect(np.allclose(mean, again_mean) and np.allclose(std, again_std), who,
           "two predictors with the same parameters fitted on the same data predict the same")
    clone = type(predictor)(**predictor.get_params())
    expect_raises(NotFittedError, lambda: clone.predict(X), who, "a clone from get_params() is unfitted")
    if "random_state" in params:
        expect(clone.set_params(random_state=7).get_params()["random_state"] == 7, who,
               "set_params(random_state=...) sets it and returns the predictor")
    expect_raises(InputDataError, lambda: clone.set_params(no_such_parameter=1), who,
                  "set_params with an unknown parameter raises InputDataError")


def _check_distribution(predictor, X, mean, std, who) -> None:
    dist = predictor.predict_distribution(X)
    m, s = dist.summary()
    expect(np.array_equal(m, mean) and np.array_equal(s, std), who,
           "predict_distribution(X).summary() is exactly predict(X)")
    low, high = dist.interval(0.9)
    expect(np.all(low <= mean) and np.all(mean <= high), who, "the 90% intervals hold the predicted means")
    expect(np.all(np.isfinite(dist.logpdf(mean))), who, "the density is finite and positive at the predicted means")


# -- the rest needs the search machinery ------------------------------------------------------
_PIPELINE_CHECKS = ("check_strategy", "check_executor", "check_evaluator")


def __getattr__(name: str):
    if name in _PIPELINE_CHECKS:
        return getattr(importlib.import_module("surrogate_nas.pipelines.testing"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["check_evaluator", "check_executor", "check_predictor", "check_space", "check_strategy", "expect",
           "expect_raises", "expect_works", "fail"]
