"""Voice profiles and the audit trail of their use.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "voice_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("reference_key", sa.String(length=512), nullable=False),
        sa.Column("original_key", sa.String(length=512), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("speech_seconds", sa.Float(), nullable=False),
        sa.Column("embedding", sa.JSON(), nullable=False),
        sa.Column("embedder", sa.String(length=128), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("conditioning", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_voice_profiles_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_profiles")),
    )
    op.create_index(op.f("ix_voice_profiles_owner_id"), "voice_profiles", ["owner_id"], unique=False)
    op.create_table(
        "voice_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("engine", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["voice_id"], ["voice_profiles.id"], name=op.f("fk_voice_uses_voice_id_voice_profiles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_voice_uses_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_voice_uses_job_id_jobs"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_uses")),
    )
    op.create_index(op.f("ix_voice_uses_voice_id"), "voice_uses", ["voice_id"], unique=False)
    op.create_index(op.f("ix_voice_uses_user_id"), "voice_uses", ["user_id"], unique=False)
    op.create_index(op.f("ix_voice_uses_created_at"), "voice_uses", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("voice_uses")
    op.drop_table("voice_profiles")
