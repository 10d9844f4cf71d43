"""Voice profile ids are never reused on SQLite.

Without ``AUTOINCREMENT`` SQLite hands a new row the highest id in use plus one, so a profile made after its owner
deleted their newest one took the deleted profile's id, and clone jobs still queued for the deleted voice spoke
with the new one. PostgreSQL's sequences never reuse an id; nothing changes there.

The table is rebuilt to declare it. Dropping the old table deletes its rows first, which cascades to their audit
entries (``voice_uses``), so those are set aside for the rebuild and put back.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rebuild_voice_profiles(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TEMPORARY TABLE voice_uses_kept AS SELECT * FROM voice_uses")
    with op.batch_alter_table(
        "voice_profiles", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    op.execute("INSERT INTO voice_uses SELECT * FROM voice_uses_kept")
    op.execute("DROP TABLE voice_uses_kept")


def upgrade() -> None:
    _rebuild_voice_profiles(autoincrement=True)


def downgrade() -> None:
    _rebuild_voice_profiles(autoincrement=False)
