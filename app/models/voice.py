"""Voice profiles (a consenting speaker's cleaned reference and its embedding) and the audit trail of their use."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, TimestampedMixin, UTCDateTime, utcnow
from app.models.job import Job


class VoiceProfile(TimestampedMixin, Base):
    __tablename__ = "voice_profiles"
    __table_args__ = {"sqlite_autoincrement": True}
    """A deleted profile's id is never handed to a new one (see migration 0004)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    consent: Mapped[bool] = mapped_column(Boolean)
    """The uploader confirmed the speaker agreed to have their voice cloned; profiles are refused without it."""
    reference_key: Mapped[str] = mapped_column(String(512))
    """The cleaned reference (speech only, loudness-normalised, 16 kHz mono WAV) in storage."""
    original_key: Mapped[str] = mapped_column(String(512))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    speech_seconds: Mapped[float] = mapped_column(Float)
    embedding: Mapped[list[float]] = mapped_column(JSON)
    """Unit-length speaker embedding of the cleaned reference, computed once at creation."""
    embedder: Mapped[str] = mapped_column(String(128))
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the sample check measured: loudness, peak, clipping, speakers found."""
    conditioning: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Per engine, what it derived from the reference once (e.g. the voice-matching parameters)."""


class VoiceUse(Base):
    """One cloning job's use of a voice: who, when, and a hash of the text (never the text itself)."""

    __tablename__ = "voice_uses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    voice_id: Mapped[int] = mapped_column(ForeignKey("voice_profiles.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    text_sha256: Mapped[str] = mapped_column(String(64))
    text_chars: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    engine: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now(), index=True)

    @classmethod
    def of(cls, job: Job) -> VoiceUse:
        """The entry for one run of a cloning job: its submission, or a retry, which speaks the text again."""
        text: str = job.params["input_text"]
        return cls(
            voice_id=job.params["voice_id"],
            user_id=job.owner_id,
            job_id=job.id,
            text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            text_chars=len(text),
            language=job.params["language"],
            engine=job.params["engine"],
        )
