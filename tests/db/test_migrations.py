"""Migrations are the only way the schema is made: they must apply, reverse and match the models, on both
databases the service supports."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import app.models  # noqa: F401 - registers every table
from app.db.base import Base
from app.db.migrate import downgrade, upgrade
from app.db.session import build_engine


def assert_schema_matches_models(url: str) -> None:
    engine = build_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def tables(url: str) -> set[str]:
    engine = build_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    url: str = request.getfixturevalue("postgres_url")  # already at head: take it down first
    downgrade(url, "base")
    request.addfinalizer(lambda: upgrade(url))
    return url


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    upgrade(empty_database)
    assert {"users", "jobs", "alembic_version"} <= tables(empty_database)
    assert_schema_matches_models(empty_database)
    downgrade(empty_database, "base")
    assert tables(empty_database) <= {"alembic_version"}
    upgrade(empty_database)
    assert_schema_matches_models(empty_database)
