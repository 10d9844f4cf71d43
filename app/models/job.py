"""The one job model behind every kind of work (transcription, translation, cloning, speaker analysis)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TimestampedMixin, UTCDateTime


class JobKind(StrEnum):
    TRANSCRIPTION = "transcription"
    TRANSLATION = "translation"
    DIARIZATION = "diarization"
    SPEAKER_EXTRACTION = "speaker_extraction"
    VOICE_CLONE = "voice_clone"


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


class Job(TimestampedMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_owner_id_created_at", "owner_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.PENDING, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    """Percent complete, 0-100."""
    step: Mapped[str | None] = mapped_column(String(64))
    """The pipeline step now running, as shown in progress messages."""
    eta_seconds: Mapped[float | None] = mapped_column(Float)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """The options the job was submitted with (languages, formats, ...)."""
    input_key: Mapped[str | None] = mapped_column(String(512))
    input_filename: Mapped[str | None] = mapped_column(String(255))
    artifacts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Output name -> storage key (e.g. ``transcript.srt``)."""
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """A small summary of the outcome (language, duration, ...); large outputs live in ``artifacts``."""
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[str | None] = mapped_column(String(64))
    """The Celery task id of the current attempt; a message carrying another id is stale and ignored."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Runs started, over every retry; outputs of each run live under their own prefix."""
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    """Shared by the jobs of one batch submission, to follow them together."""
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    """Times the current task's message was claimed; more than one means a worker died running it."""
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)
