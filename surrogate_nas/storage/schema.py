"""The database schema: SQLAlchemy Core tables, and the version they carry.

Tables are plain Core objects (no ORM classes), so every read is turned into a
frozen record by hand and no session-bound row ever leaves this package.
Bump :data:`SCHEMA_VERSION` and add a step to
:data:`surrogate_nas.storage.migrations.MIGRATIONS` whenever a table changes.
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

SCHEMA_VERSION = 1
"""Version written to ``meta.schema_version`` by this release."""

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
    Column("space", String(32), nullable=False),
    Column("arch", String(255), nullable=False),
    Column("canonical_key", String(512), nullable=False),
    Column("encoding", JSON, nullable=False),
    # Size at NAS-Bench-201's reference setting (C=16, N=5, 3x32x32 input, 10 classes).
    Column("params_ref", BigInteger),
    Column("flops_ref", BigInteger),
    UniqueConstraint("space", "arch", name="uq_architectures_space_arch"),
    Index("ix_architectures_canonical_key", "canonical_key"),
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("architecture_id", Integer, ForeignKey("architectures.id"), nullable=False),
    Column("canonical_key", String(512), nullable=False),
    Column("dataset", String(64), nullable=False),
    Column("channels", Integer, nullable=False),
    Column("cells_per_stage", Integer, nullable=False),
    Column("epochs", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("train_config", JSON, nullable=False),
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
    Column("finished_at", DateTime),
    UniqueConstraint(
        "canonical_key",
        "dataset",
        "channels",
        "cells_per_stage",
        "epochs",
        "seed",
        name="uq_evaluations_setting",
    ),
    Index("ix_evaluations_dataset_status", "dataset", "status"),
)

features = Table(
    "features",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(512), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Float),
    UniqueConstraint("key", "name", name="uq_features_key_name"),
)

searches = Table(
    "searches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("config", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

search_trials = Table(
    "search_trials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("search_id", Integer, ForeignKey("searches.id"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("arch", String(255), nullable=False),
    Column("values", JSON, nullable=False),
    Column("evaluation_id", Integer, ForeignKey("evaluations.id", ondelete="SET NULL")),
    Column("cost_seconds", Float),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("search_id", "arch", name="uq_search_trials_search_arch"),
)
