"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from wikibridge import schema
from wikibridge.migrations.env_filters import include_object
from wikibridge.models import Base


def test_schema_at_head_matches_the_models(engine: Engine) -> None:
    assert schema.is_at_head(engine)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []
