"""Transcription and translation jobs: what the API accepts, and how a worker turns the input into results.

A job without a target language transcribes; with one it also translates and, where a bundled voice speaks the
target language, dubs. Inputs come as uploads (stored at submission) or URLs (fetched by the worker, through the
SSRF-safe client). Every language pair is checked against the installed engines at submission, so a job never
fails later for want of a route.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import AppError, InvalidInput
from app.core.metrics import MODEL_INFERENCE_SECONDS
from app.engines.transcriber import Transcriber, TranscriptionOptions
from app.engines.translation.base import UnsupportedLanguagePair
from app.engines.translation.router import PIVOT
from app.ingest import UrlPolicy, fetch_media
from app.ingest.errors import MediaTooLong
from app.models.job import Job, JobKind
from app.pipelines import transcription, translation
from app.pipelines.audio import probe_audio
from app.pipelines.encode import AudioFormat, encode_audio
from app.pipelines.formats import TranscriptFormat, render_transcript
from app.pipelines.hooks import ProgressHook
from app.pipelines.transcription import TranscriptionPipeline
from app.pipelines.translation import DubbingVoice, TranslationOptions, TranslationPipeline
from app.services.catalog import LanguageCatalog
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.outbox import JobOutbox
from app.services.uploads import read_chunks, safe_filename, upload_service
from app.storage import Storage

TRANSCRIPT_FORMATS = tuple(TranscriptFormat)
DOWNLOAD_WEIGHT = 0.1
TRUNCATION_SLACK_SECONDS = 1.0
"""Decoded audio this much (or 5 %) shorter than the header announces means the file was cut short."""


class UnsupportedLanguage(InvalidInput):
    error_code = "UNSUPPORTED_LANGUAGE"
    default_message = "Unsupported language code"


def transcript_artifact(fmt: TranscriptFormat, kind: str = "transcript") -> str:
    return f"{kind}.{fmt.value}"


@dataclass(frozen=True)
class TranslationRequest:
    source_language: str | None = None
    target_language: str | None = None
    output_format: AudioFormat = AudioFormat.WAV
    dub: bool = True


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_duration_seconds: float
    max_batch_files: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        return cls(settings.max_upload_bytes, settings.max_media_duration_seconds, settings.max_batch_files)


class SpeechEngines(Protocol):
    """The worker's engines, loaded once per process."""

    def transcriber(self) -> Transcriber: ...

    def voice_for(self, language: str) -> DubbingVoice: ...


@dataclass(frozen=True)
class ProcessingLimits:
    beam_size: int
    batch_size: int
    max_bytes: int
    max_duration_seconds: float
    url_policy: UrlPolicy
    url_timeout_seconds: float


class TranslationService:
    # --- API side -------------------------------------------------------------------------------------------

    def validate(self, catalog: LanguageCatalog, request: TranslationRequest) -> TranslationRequest:
        """Normalise the languages and refuse any the installation cannot serve (422), before anything is stored."""
        source = request.source_language.strip().lower() if request.source_language else None
        target = request.target_language.strip().lower() if request.target_language else None
        if target:
            target = catalog.router.plain_target(source or PIVOT, target)
        if source and source not in catalog.transcription_languages:
            raise UnsupportedLanguage(
                details={"field": "source_language", "error": f"'{source}' is not a supported language"}
            )
        if target:
            # A detected source can be any spoken language; each reaches English by speech translation, so English
            # reaching the target is what makes every source work.
            try:
                catalog.router.plan(source or PIVOT, target)
            except UnsupportedLanguagePair as refused:
                listed = refused.details if isinstance(refused.details, dict) else {}
                details = {**listed, "reachable_targets": catalog.router.reachable_targets(source)}
                if source is None:
                    details.pop("source", None)
                    message = f"Nothing installed translates into '{target}'"
                    raise UnsupportedLanguagePair(message, details=details) from refused
                raise UnsupportedLanguagePair(refused.message, details=details) from refused
        return TranslationRequest(source, target, request.output_format, request.dub)

    def submit_file(
        self,
        session: Session,
        outbox: JobOutbox,
        storage: Storage,
        catalog: LanguageCatalog,
        *,
        owner_id: int,
        file: BinaryIO,
        filename: str | None,
        request: TranslationRequest,
        limits: UploadLimits,
        batch_id: str | None = None,
    ) -> Job:
        request = self.validate(catalog, request)
        stored = upload_service.store_audio(
            session, storage, owner_id=owner_id, file=file, filename=filename, max_bytes=limits.max_bytes
        )
        if stored.audio.duration > limits.max_duration_seconds:
            raise MediaTooLong(details={"duration": stored.audio.duration, "max_seconds": limits.max_duration_seconds})
        params = {**_params(request), "input_duration": round(stored.audio.duration, 3), "input_bytes": stored.size}
        return job_service.create(
            session,
            outbox,
            owner_id=owner_id,
            kind=_kind(request),
            params=params,
            input_key=stored.key,
            input_filename=stored.filename,
            batch_id=batch_id,
        )

    def submit_url(
        self,
        session: Session,
        outbox: JobOutbox,
        catalog: LanguageCatalog,
        policy: UrlPolicy,
        *,
        owner_id: int,
        url: str,
        request: TranslationRequest,
    ) -> Job:
        """Check the URL now (scheme and every address its host resolves to); the worker fetches it."""
        request = self.validate(catalog, request)
        policy.check(url)
        return job_service.create(
            session, outbox, owner_id=owner_id, kind=_kind(request), params={**_params(request), "source_url": url}
        )

    def submit_batch(
        self,
        session: Session,
        outbox: JobOutbox,
        storage: Storage,
        catalog: LanguageCatalog,
        *,
        owner_id: int,
        files: Sequence[tuple[BinaryIO, str | None]],
        request: TranslationRequest,
        limits: UploadLimits,
    ) -> tuple[str, list[Job]]:
        """One job per file under one batch id. All or nothing: a bad file refuses the batch (saying which), and
        the request's rollback removes the files already stored."""
        if len(files) > limits.max_batch_files:
            raise InvalidInput(f"A batch holds at most {limits.max_batch_files} files", details={"files": len(files)})
        batch_id = str(uuid.uuid4())
        jobs = []
        for index, (file, filename) in enumerate(files):
            try:
                jobs.append(
                    self.submit_file(
                        session,
                        outbox,
                        storage,
                        catalog,
                        owner_id=owner_id,
                        file=file,
                        filename=filename,
                        request=request,
                        limits=limits,
                        batch_id=batch_id,
                    )
                )
            except AppError as exc:  # 413 and 415 too: the whole batch is refused, so say which file it was
                previous = exc.details if isinstance(exc.details, dict) else {}
                exc.details = {**previous, "file_index": index, "filename": filename}
                raise
        return batch_id, jobs

    # --- worker side ----------------------------------------------------------------------------------------

    def step_weights(self, job: Job) -> Mapping[str, float]:
        weights = translation.STEP_WEIGHTS if job.kind == JobKind.TRANSLATION else transcription.STEP_WEIGHTS
        return {"downloading": DOWNLOAD_WEIGHT, **weights} if job.input_key is None else weights

    def process(
        self,
        job: Job,
        *,
        storage: Storage,
        engines: SpeechEngines,
        catalog: LanguageCatalog,
        limits: ProcessingLimits,
        record_input: Callable[[str, str], None],
        hook: ProgressHook,
    ) -> JobOutcome:
        if job.input_key is None:
            job.input_key, job.input_filename = self._fetch(job, storage, limits, hook)
            record_input(job.input_key, job.input_filename)
        transcriber = engines.transcriber()
        options = TranscriptionOptions(
            language=job.params.get("source_language"), beam_size=limits.beam_size, batch_size=limits.batch_size
        )
        pipeline = TranscriptionPipeline(transcriber, max_seconds=limits.max_duration_seconds)
        prefix = output_prefix(job)
        artifacts: dict[str, str] = {}
        started = time.perf_counter()
        with storage.open_local(job.input_key) as path:
            if job.kind == JobKind.TRANSLATION:
                result = TranslationPipeline(pipeline, catalog.router, engines.voice_for).apply(
                    path,
                    TranslationOptions(job.params["target_language"], options, dub=job.params.get("dub", True)),
                    hook,
                )
                source = result.source
            else:
                source = pipeline.apply(path, options, hook)
        MODEL_INFERENCE_SECONDS.labels(transcriber.name, job.kind).observe(time.perf_counter() - started)

        summary = _transcript_summary(source)
        self._store_transcripts(storage, prefix, "transcript", source.serialize(), artifacts)
        if job.kind == JobKind.TRANSLATION:
            self._store_transcripts(storage, prefix, "translation", result.serialize(), artifacts)
            summary["translation"] = {
                "target_language": result.target_language,
                "routes": sorted({segment.route for segment in result.segments}),
                "engines": result.engines,
            }
            summary["dubbing"] = self._store_dub(
                storage, prefix, result, AudioFormat(job.params["output_format"]), artifacts
            )
        return JobOutcome(result=summary, artifacts=artifacts)

    def _fetch(self, job: Job, storage: Storage, limits: ProcessingLimits, hook: ProgressHook) -> tuple[str, str]:
        hook("downloading", completed=0.0, total=1.0)
        with tempfile.TemporaryDirectory(prefix="audio-api-fetch-") as folder:
            media = fetch_media(
                job.params["source_url"],
                Path(folder),
                policy=limits.url_policy,
                max_bytes=limits.max_bytes,
                max_duration_seconds=limits.max_duration_seconds,
                timeout_seconds=limits.url_timeout_seconds,
                on_progress=lambda received, size: hook(
                    "downloading", completed=float(received if size else 0), total=float(size or 1)
                ),
            )
            duration = probe_audio(media.path).duration
            if duration > limits.max_duration_seconds:
                raise MediaTooLong(details={"duration": duration, "max_seconds": limits.max_duration_seconds})
            name = safe_filename(media.filename)
            key = f"users/{job.owner_id}/inputs/{uuid.uuid4().hex}/{name}"
            with media.path.open("rb") as file:
                storage.save(key, read_chunks(file), max_bytes=limits.max_bytes)
        hook("downloading", completed=1.0, total=1.0)
        return key, media.filename

    @staticmethod
    def _store_transcripts(
        storage: Storage, prefix: str, kind: str, document: dict[str, Any], artifacts: dict[str, str]
    ) -> None:
        for fmt in TRANSCRIPT_FORMATS:
            name = transcript_artifact(fmt, kind)
            storage.save(f"{prefix}/{name}", [render_transcript(document, fmt).encode("utf-8")])
            artifacts[name] = f"{prefix}/{name}"

    @staticmethod
    def _store_dub(
        storage: Storage,
        prefix: str,
        result: translation.TranslationResult,
        fmt: AudioFormat,
        artifacts: dict[str, str],
    ) -> dict[str, Any]:
        if result.dub is None:
            return {"available": False, "reason": result.dub_unavailable_reason or "Dubbing was not requested"}
        name = f"speech.{fmt.value}"
        with tempfile.TemporaryDirectory(prefix="audio-api-dub-") as folder:
            target = Path(folder) / name
            encode_audio(result.dub.samples, result.dub.sample_rate, fmt, target)
            with target.open("rb") as file:
                storage.save(f"{prefix}/{name}", read_chunks(file))
        artifacts[name] = f"{prefix}/{name}"
        fits = result.dub.report
        return {
            "available": True,
            "format": fmt.value,
            "segments": len(fits),
            "sped_up_segments": [fit.segment_id for fit in fits if fit.tempo > 1.0],
            "shortened_segments": [
                {
                    "segment_id": fit.segment_id,
                    "start": fit.start,
                    "tempo": round(fit.tempo, 3),
                    "overlaps_next": fit.overlapped_next,
                }
                for fit in fits
                if fit.shortened
            ],
        }


def _kind(request: TranslationRequest) -> JobKind:
    return JobKind.TRANSLATION if request.target_language else JobKind.TRANSCRIPTION


def _params(request: TranslationRequest) -> dict[str, Any]:
    return {
        "source_language": request.source_language,
        "target_language": request.target_language,
        "output_format": request.output_format.value,
        "dub": request.dub,
    }


def _transcript_summary(source: transcription.Transcript) -> dict[str, Any]:
    return {
        "detected_language": source.language,
        "language_probability": round(source.language_probability, 4),
        "duration": round(source.duration, 3),
        "engine": source.engine,
        "segments": len(source.segments),
        "words": sum(len(segment.words) for segment in source.segments),
        "languages": sorted({s.language for s in source.segments if s.language}),
        "notes": _transcript_notes(source),
    }


def _transcript_notes(source: transcription.Transcript) -> list[str]:
    """What a user should know about a transcript that looks wrong but is not a failure."""
    notes = []
    if source.declared_duration - source.duration > max(TRUNCATION_SLACK_SECONDS, 0.05 * source.declared_duration):
        notes.append(
            f"The file decodes to {source.duration:.1f} s of audio though its header announces "
            f"{source.declared_duration:.1f} s: it looks cut short, and only the decodable part was transcribed."
        )
    if not source.segments:
        notes.append("No speech was found in the recording, so the transcript is empty.")
    return notes


translation_service = TranslationService()
