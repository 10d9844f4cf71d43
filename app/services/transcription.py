"""Transcription jobs: what the API accepts, and how a worker turns the stored input into transcripts."""

from __future__ import annotations

import time
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.core.errors import InvalidInput, InvalidJobState, ResourceNotFound
from app.core.metrics import MODEL_INFERENCE_SECONDS
from app.engines.languages import WHISPER_LANGUAGES
from app.engines.transcriber import Transcriber, TranscriptionOptions
from app.models.job import Job, JobKind, JobStatus
from app.pipelines.formats import TranscriptFormat, render_transcript
from app.pipelines.hooks import ProgressHook
from app.pipelines.transcription import TranscriptionPipeline
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.outbox import JobOutbox
from app.services.uploads import upload_service
from app.storage import Storage


class UnsupportedLanguage(InvalidInput):
    error_code = "UNSUPPORTED_LANGUAGE"
    default_message = "Unsupported language code"


class UnsupportedLanguagePair(InvalidInput):
    error_code = "UNSUPPORTED_LANGUAGE_PAIR"
    default_message = "This installation cannot translate into the requested language"


def transcript_artifact(fmt: TranscriptFormat) -> str:
    return f"transcript.{fmt.value}"


TRANSCRIPT_FORMATS = tuple(TranscriptFormat)


class TranscriptionService:
    def validate_languages(self, source_language: str | None, target_language: str | None) -> str | None:
        source = source_language.strip().lower() if source_language else None
        if source and source not in WHISPER_LANGUAGES:
            raise UnsupportedLanguage(
                details={"field": "source_language", "error": f"'{source}' is not a supported language code"}
            )
        if target_language:
            raise UnsupportedLanguagePair(
                "Only transcription is available in this installation; omit target_language",
                details={"field": "target_language", "available_targets": []},
            )
        return source

    def submit(
        self,
        session: Session,
        outbox: JobOutbox,
        storage: Storage,
        *,
        owner_id: int,
        file: BinaryIO,
        filename: str | None,
        source_language: str | None,
        target_language: str | None,
        max_bytes: int,
    ) -> Job:
        source = self.validate_languages(source_language, target_language)
        stored = upload_service.store_audio(
            session, storage, owner_id=owner_id, file=file, filename=filename, max_bytes=max_bytes
        )
        params = {
            "source_language": source,
            "target_language": None,
            "input_duration": round(stored.audio.duration, 3),
            "input_bytes": stored.size,
        }
        return job_service.create(
            session,
            outbox,
            owner_id=owner_id,
            kind=JobKind.TRANSCRIPTION,
            params=params,
            input_key=stored.key,
            input_filename=stored.filename,
        )

    def transcript_key(self, job: Job, fmt: TranscriptFormat) -> str:
        """The storage key of a finished job's transcript in one format."""
        if job.status != JobStatus.COMPLETED:
            raise InvalidJobState(f"The job is {job.status}; transcripts exist once it completes")
        key = job.artifacts.get(transcript_artifact(fmt))
        if key is None:
            raise ResourceNotFound(f"This job has no {fmt.value} transcript")
        return key

    def process(
        self,
        job: Job,
        *,
        storage: Storage,
        transcriber: Transcriber,
        beam_size: int,
        batch_size: int,
        hook: ProgressHook,
    ) -> JobOutcome:
        """Worker side: transcribe the stored input and store every transcript format."""
        if job.input_key is None:
            raise InvalidInput("The job has no input file")
        options = TranscriptionOptions(
            language=job.params.get("source_language"), beam_size=beam_size, batch_size=batch_size
        )
        started = time.perf_counter()
        with storage.open_local(job.input_key) as path:
            transcript = TranscriptionPipeline(transcriber).apply(path, options, hook)
        MODEL_INFERENCE_SECONDS.labels(transcriber.name, "transcribe").observe(time.perf_counter() - started)

        document = transcript.serialize()
        prefix = output_prefix(job)
        artifacts: dict[str, str] = {}
        for fmt in TRANSCRIPT_FORMATS:
            key = f"{prefix}/{transcript_artifact(fmt)}"
            storage.save(key, [render_transcript(document, fmt).encode("utf-8")])
            artifacts[transcript_artifact(fmt)] = key
        result = {
            "detected_language": transcript.language,
            "language_probability": round(transcript.language_probability, 4),
            "duration": round(transcript.duration, 3),
            "engine": transcript.engine,
            "segments": len(transcript.segments),
            "words": sum(len(segment.words) for segment in transcript.segments),
            "languages": sorted({s.language for s in transcript.segments if s.language}),
        }
        return JobOutcome(result=result, artifacts=artifacts)


transcription_service = TranscriptionService()
