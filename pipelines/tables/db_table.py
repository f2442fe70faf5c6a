"""The project's own database as a benchmark table.

What ``seed`` (and live search) trained becomes a :class:`BenchmarkTable`, so
predictors are compared and searches replayed on it exactly as on a published
table. One setting is used at a time (space, dataset, network, epochs); repeated
training seeds of one architecture are averaged.
"""

from __future__ import annotations

import json

import pandas as pd

from surrogate_nas.errors import InputDataError
from surrogate_nas.records import NetworkConfig
from surrogate_nas.tables import BenchmarkTable, table_from_frame

METRICS = ("valid_acc", "test_acc", "params", "flops", "train_seconds")


def table_from_store(store, space: str | None = None, dataset: str | None = None, metric: str = "valid_acc",
                     network: dict | None = None, epochs: int | None = None) -> BenchmarkTable:
    """Finished ``ok`` evaluations of one setting, one row per architecture.

    Unspecified parts of the setting default to the most common value in the
    database, so ``table_from_store(store)`` gives the largest coherent table.
    """
    if metric not in METRICS:
        raise InputDataError(f"unknown database metric {metric!r}; expected one of {', '.join(METRICS)}")
    df = store.dataframe(status="ok")
    if df.empty:
        raise InputDataError(f"the database {store.url} holds no finished evaluations; run `surrogate-nas seed` first")
    wanted_network = None if network is None else json.dumps(network, sort_keys=True)
    for column, value in (("space", space), ("dataset", dataset), ("network", wanted_network), ("epochs", epochs)):
        if value is None:
            value = df[column].value_counts().index[0]
        elif value not in set(df[column]):
            known = ", ".join(map(str, sorted(set(df[column]))))
            raise InputDataError(f"the database {store.url} has no finished evaluations with {column}={value} "
                                 f"(it has: {known})")
        df = df[df[column] == value]
    first = df.iloc[0]
    grouped = (df.groupby("canonical_key", sort=True)
                 .agg(arch=("arch", "first"), **{m: (m, "mean") for m in METRICS}))
    frame = pd.DataFrame(grouped).reset_index(drop=True)
    net = NetworkConfig.from_dict(json.loads(first["network"])).label()
    name = f"db:{first['space']}-{first['dataset']}-{net}-{first['epochs']}ep"
    return table_from_frame(name, frame, metric, space=first["space"], test_column="test_acc",
                            cost_column="train_seconds", size_column="params")

