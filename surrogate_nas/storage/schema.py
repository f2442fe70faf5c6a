"""The database schema: SQLAlchemy Core tables, and the version they carry.

Tables are plain Core objects (no ORM classes), so every read is turned into a
frozen record by hand and no session-bound row ever leaves this package.
Bump :data:`SCHEMA_VERSION` and add a step to
:data:`surrogate_nas.storage.migrations.MIGRATIONS` whenever a table changes.

An evaluation is one training of one function (``space``, ``canonical_key``) under one
setting: the dataset, the network (``network``, canonical JSON of the space's
:class:`~surrogate_nas.records.NetworkConfig`), the training recipe (``recipe``, canonical
JSON of everything in :class:`~surrogate_nas.records.TrainConfig` but the epochs), the
epochs and the seed. The unique key on exactly these columns is what keeps any number
of processes from training the same thing twice.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 2
"""Version written to ``meta.schema_version`` by this release."""

ARCH_LENGTH = 2048
KEY_LENGTH = 1024

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

architectures = Table(
    "architectures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space", String(64), nullable=False),
    Column("arch", String(ARCH_LENGTH), nullable=False),
    Column("canonical_key", String(KEY_LENGTH), nullable=False),
    # Size in the space's reference network (NAS-Bench convention: 3x32x32 input, 10 classes).
    Column("params_ref", BigInteger),
    Column("flops_ref", BigInteger),
    UniqueConstraint("space", "arch", name="uq_architectures_space_arch"),
    Index("ix_architectures_space_key", "space", "canonical_key"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("architecture_id", Integer, ForeignKey("architectures.id"), nullable=False),
    Column("space", String(64), nullable=False),
    Column("canonical_key", String(KEY_LENGTH), nullable=False),
    Column("dataset", String(128), nullable=False),
    Column("network", String(255), nullable=False),
    Column("recipe", String(512), nullable=False),
    Column("epochs", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("valid_acc", Float),
    Column("test_acc", Float),
    Column("train_losses", JSON),
    Column("valid_accs", JSON),
    Column("train_seconds", Float),
    Column("params", BigInteger),
    Column("flops", BigInteger),
    Column("device", String(64)),
    Column("message", Text, nullable=False, default=""),
    Column("mlflow_run_id", String(64)),
    Column("worker", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime),
    Column("finished_at", DateTime),
    Column("checkpoint", String(1024)),
    UniqueConstraint(
        "space",
        "canonical_key",
        "dataset",
        "network",
        "recipe",
        "epochs",
        "seed",
        name="uq_evaluations_setting_v2",
    ),
    Index("ix_evaluations_space_dataset_status", "space", "dataset", "status"),
)

features = Table(
    "features",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space", String(64), nullable=False),
    Column("key", String(KEY_LENGTH), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Float),
    UniqueConstraint("space", "key", "name", name="uq_features_space_key_name"),
)

searches = Table(
    "searches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("config", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("mlflow_run_id", String(64)),
    # The hypervolume reference point a multi-objective search fixed from its first evaluations.
    Column("ref_point", JSON),
)

search_trials = Table(
    "search_trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("search_id", Integer, ForeignKey("searches.id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("arch", String(ARCH_LENGTH), nullable=False),
    # Fraction of the full training budget this trial was evaluated at (1.0: full fidelity).
    Column("fidelity", Float, nullable=False, default=1.0),
    Column("values", JSON, nullable=False),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id", ondelete="SET NULL")),
    Column("cost_seconds", Float),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("search_id", "arch", "fidelity", name="uq_search_trials_search_arch_fidelity"),
)
