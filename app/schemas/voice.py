"""Voice profiles and cloning jobs as the API shows them (the seed's shapes, plus what users need to judge a clone)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from app.pipelines.encode import AudioFormat
from app.schemas.job import BatchState, RowId
from app.schemas.text import Description, LanguageCode, SpokenText, VoiceName


class VoicePublic(BaseModel):
    id: int
    name: str
    description: str | None
    language: str
    file_path: str
    """Storage key of the cleaned reference (speech only, loudness-normalised)."""
    reference_url: str
    """Signed, expiring download link of the cleaned reference."""
    original_filename: str | None
    speech_seconds: float
    consent: bool
    embedder: str
    quality: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class VoiceUpdate(BaseModel):
    name: VoiceName | None = None
    description: Description | None = None
    language: str | None = Field(default=None, min_length=2, max_length=8)


class VoiceUsePublic(BaseModel):
    id: int
    job_id: int | None
    user_id: int
    text_sha256: str
    text_chars: int
    language: str
    engine: str
    created_at: datetime


class CloneOptions(BaseModel):
    language: LanguageCode | None = Field(default=None, description="Language of the text; defaults to the voice's")
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    pitch: float = Field(default=0.0, ge=-12.0, le=12.0, description="Shift in semitones")
    output_format: AudioFormat = AudioFormat.WAV


class CloneCreate(CloneOptions):
    voice_id: RowId
    input_text: SpokenText


class CloneBatchCreate(CloneOptions):
    voice_ids: list[RowId] = Field(min_length=1, max_length=20, description="One or more voices, each once")
    texts: list[SpokenText] = Field(
        min_length=1, max_length=20, description="One or more texts, each spoken by each voice"
    )

    @field_validator("voice_ids")
    @classmethod
    def _each_voice_once(cls, voice_ids: list[int]) -> list[int]:
        repeated = sorted(voice_id for voice_id, count in Counter(voice_ids).items() if count > 1)
        if repeated:
            raise ValueError(f"lists voice {', '.join(map(str, repeated))} more than once")
        return voice_ids


class CloneJobPublic(BaseModel):
    id: int
    status: str
    voice_id: int
    input_text: str
    language: str
    speed: float
    pitch: float
    output_format: str
    progress: float
    batch_id: str | None
    created_at: datetime
    task_id: str | None


class TaskStatus(BaseModel):
    state: str
    """Celery's vocabulary: PENDING, STARTED, SUCCESS, FAILURE, REVOKED."""
    progress: float
    step: str | None
    time_remaining: str | None
    error: dict[str, Any] | None


class CloneStatusPublic(BaseModel):
    job_id: int
    status: str
    created_at: datetime
    completed_at: datetime | None
    output_url: str | None
    task_status: TaskStatus
    result: dict[str, Any] | None
    """Engine, speaker similarity to the reference, duration, sentences, stock voice adapted."""


class CloneBatchPublic(BatchState):
    jobs: list[CloneJobPublic]


class EnginePublic(BaseModel):
    name: str
    kind: str
    clones: bool
    languages: list[str]
    licence: str
    description: str
    default: bool
