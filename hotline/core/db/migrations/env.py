"""Alembic environment: runs on a connection handed in by hotline.core.db.migrate (async engines)."""

from __future__ import annotations

from alembic import context

from hotline.core.db.base import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `hotline db upgrade` (hotline.core.db.migrate)")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
