"""Job views. One job model underneath; each API area shows it in the seed's shape for that area."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, HttpUrl

from app.pipelines.encode import AudioFormat


class JobEvent(BaseModel):
    """A progress message as pushed over the WebSocket."""

    job_id: int
    kind: str
    status: str
    progress: float
    details: dict[str, Any]


class JobPublic(BaseModel):
    id: int
    kind: str
    status: str
    progress: float
    step: str | None
    time_remaining: str | None
    error: dict[str, Any] | None
    params: dict[str, Any]
    input_filename: str | None
    result: dict[str, Any] | None
    outputs: dict[str, str]
    """Output name -> download URL (signed and expiring)."""
    task_id: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


class TranslationJobPublic(BaseModel):
    """The seed's translation job shape, plus progress and every transcript format."""

    id: int
    kind: str
    status: str
    source_language: str | None
    target_language: str | None
    progress: float
    step: str | None
    time_remaining: str | None
    error: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None
    task_id: str | None
    input_filename: str | None
    detected_language: str | None
    duration: float | None
    output_url: str | None
    """Translated speech (dubbing); absent for transcription-only jobs."""
    transcript_url: str | None
    transcript_urls: dict[str, str]
    """Source-language transcript download URLs by format: txt, srt, vtt, json."""
    translation_url: str | None
    translation_urls: dict[str, str]
    """Translated transcript download URLs by format."""
    dubbing: dict[str, Any] | None
    """Whether speech was produced, and if not why; segments that had to be sped up or shortened."""
    source_url: str | None
    batch_id: str | None


class TranslationUrlCreate(BaseModel):
    url: HttpUrl
    source_language: str | None = None
    target_language: str | None = None
    output_format: AudioFormat = AudioFormat.WAV
    dub: bool = True


class BatchPublic(BaseModel):
    batch_id: str
    jobs: list[TranslationJobPublic]


class LanguagesPublic(BaseModel):
    transcription: list[str]
    """Languages the speech recognition model transcribes (and detects)."""
    translation: list[dict[str, Any]]
    """Per target language: which sources reach it, directly or through English, and by which engines."""
    dubbing: dict[str, dict[str, Any]]
    """Languages a bundled voice speaks intelligibly (measured), with the voice used."""
