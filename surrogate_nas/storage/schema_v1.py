"""The version-1 tables (surrogate-nas 0.1.0), frozen, so that migrations can read old databases.

Never change these definitions: they describe databases already on users' disks.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

architectures = Table(
    "architectures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("space", String(32), nullable=False),
    Column("arch", String(255), nullable=False),
    Column("canonical_key", String(512), nullable=False),
    Column("encoding", JSON, nullable=False),
    Column("params_ref", BigInteger),
    Column("flops_ref", BigInteger),
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
    Column("message", Text, nullable=False),
    Column("mlflow_run_id", String(64)),
    Column("worker", String(255), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
)

features = Table(
    "features",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(512), nullable=False),
    Column("name", String(128), nullable=False),
    Column("value", Float),
)

searches = Table(
    "searches",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False),
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
)

TABLES = (architectures, evaluations, features, searches, search_trials)
"""Parents before children: create in this order, drop in reverse."""
