"""Migrations are the only way the schema is made: they must apply, reverse and match the models, on both
databases the service supports."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


def test_a_deleted_voice_profiles_id_is_never_handed_out_again(empty_database: str) -> None:
    """Ids are SQLite's weak point (it reuses the highest freed one); the migration that fixes it keeps the audit
    trail of the profiles it rebuilds."""
    upgrade(empty_database, "0003")
    engine = build_engine(empty_database)
    profile = (
        "INSERT INTO voice_profiles (owner_id, name, language, consent, reference_key, original_key, speech_seconds,"
        " embedding, embedder, quality, conditioning) VALUES (1, :name, 'en', true, 'r', 'o', 5.0, '[]', 'd', '{}',"
        " '{}')"
    )
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO users (email, hashed_password, is_active) VALUES ('a@example.com', 'x', true)")
        )
        connection.execute(text(profile), {"name": "kept"})
        connection.execute(text(profile), {"name": "deleted"})
        connection.execute(
            text(
                "INSERT INTO voice_uses (voice_id, user_id, text_sha256, text_chars, language, engine)"
                " VALUES (1, 1, 'h', 4, 'en', 'e'), (2, 1, 'h', 4, 'en', 'e')"
            )
        )
    upgrade(empty_database)
    with engine.begin() as connection:
        uses = connection.execute(text("SELECT voice_id FROM voice_uses ORDER BY voice_id")).scalars().all()
        connection.execute(text("DELETE FROM voice_profiles WHERE name = 'deleted'"))
        new_id = connection.execute(text(profile + " RETURNING id"), {"name": "new"}).scalar_one()
    engine.dispose()
    assert uses == [1, 2]
    assert new_id == 3
    assert_schema_matches_models(empty_database)
