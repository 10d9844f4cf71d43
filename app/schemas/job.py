"""Job views. One job model underneath; each API area shows it in the seed's shape for that area."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, HttpUrl

from app.pipelines.encode import AudioFormat
from app.schemas.text import LanguageCode

MAX_ROW_ID = 2**31 - 1
"""Ids are 32-bit integers in every supported database: a larger one is refused as invalid, never looked up."""
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


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
    notes: list[str]
    """What to know about a completed transcript that looks wrong but is not a failure (no speech, file cut short)."""
    source_url: str | None
    batch_id: str | None


class TranslationUrlCreate(BaseModel):
    url: HttpUrl
    source_language: LanguageCode | None = None
    target_language: LanguageCode | None = None
    output_format: AudioFormat = AudioFormat.WAV
    dub: bool = True


class BatchState(BaseModel):
    """Where a batch stands as a whole."""

    batch_id: str
    status: str
    """``pending`` or ``processing`` while jobs remain; once all have ended, ``completed``, ``failed`` or
    ``cancelled`` where they all ended alike, else ``partial``."""
    progress: float
    """Mean progress of its jobs (an ended job counts as 100)."""
    counts: dict[str, int]
    """How many of its jobs are in each status."""


class BatchPublic(BatchState):
    jobs: list[TranslationJobPublic]


class LanguagesPublic(BaseModel):
    transcription: list[str]
    """Languages the speech recognition model transcribes (and detects)."""
    translation: list[dict[str, Any]]
    """Per target language: which sources reach it, directly or through English, and by which engines."""
    dubbing: dict[str, dict[str, Any]]
    """Languages a bundled voice speaks intelligibly (measured), with the voice used."""


class SpeakerTime(BaseModel):
    speaker: str
    speaking_time: float
    """Seconds this speaker talks (overlapped speech counts for each speaker in it)."""


class SpeakerSegment(BaseModel):
    start: float
    end: float
    speaker: str


class TimeRange(BaseModel):
    start: float
    end: float


class SpeakerJobPublic(BaseModel):
    """A diarization or speaker extraction job: progress, then who spoke when and links to every output."""

    id: int
    kind: str
    status: str
    progress: float
    step: str | None
    time_remaining: str | None
    error: dict[str, Any] | None
    created_at: datetime
    completed_at: datetime | None
    task_id: str | None
    input_filename: str | None
    options: dict[str, Any]
    """The speaker count or bounds asked for (and, for diarization, whether to transcribe)."""
    engine: str | None
    duration: float | None
    num_speakers: int | None
    speakers: list[SpeakerTime]
    segments: list[SpeakerSegment]
    overlaps: list[TimeRange]
    """Where two or more speakers talk at once."""
    known_voices: list[dict[str, Any]]
    """Speakers named after a voice profile: speaker (the diarizer's label), voice_id, name, similarity."""
    rttm_url: str | None
    json_url: str | None
    transcript: dict[str, Any] | None
    """With ``transcribe=true``: language, engine and counts; the documents are in ``transcript_urls``."""
    transcript_urls: dict[str, str]
    """Transcript with a speaker on every word and segment, by format: txt, srt, vtt, json."""
    extraction: dict[str, Any] | None
    """For extraction: the method, what happens to overlapped speech, and each track's speaking time."""
    tracks: dict[str, str]
    """Speaker -> download URL of that speaker's track."""
