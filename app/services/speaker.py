"""Speaker analysis jobs: diarization (optionally with a transcript that names the speaker of every word) and
speaker extraction (one audio track per speaker).

The API side checks the options and stores the upload; the worker side runs the pipelines and stores the results:
the diarization as JSON (also kept in the job's result) and RTTM, transcripts in every format, and the tracks.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO, Protocol

from sqlalchemy.orm import Session

from app.core.errors import InvalidInput
from app.core.metrics import MODEL_INFERENCE_SECONDS
from app.engines.speaker.base import MAX_SPEAKERS, Diarization, DiarizationOptions, Diarizer
from app.engines.transcriber import Transcriber, TranscriptionOptions
from app.ingest.errors import MediaTooLong
from app.models.job import Job, JobKind
from app.pipelines import diarization as diarization_pipeline
from app.pipelines.attribution import attribute_speakers
from app.pipelines.encode import AudioFormat
from app.pipelines.extraction import Separator
from app.pipelines.formats import TranscriptFormat, render_rttm, render_transcript
from app.pipelines.hooks import ProgressHook, relabelled
from app.pipelines.naming import KnownVoice, NamedSpeaker, name_speakers
from app.pipelines.transcription import TranscriptionPipeline
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.outbox import JobOutbox
from app.services.translation import ProcessingLimits, UnsupportedLanguage, UploadLimits
from app.services.uploads import read_chunks, upload_service
from app.services.voice import voice_service
from app.storage import Storage

KINDS = (JobKind.DIARIZATION, JobKind.SPEAKER_EXTRACTION)
DIARIZATION_JSON = "diarization.json"
DIARIZATION_RTTM = "diarization.rttm"
TRANSCRIBE_WEIGHT = 1.2
"""Transcribing costs about this much more than diarizing (bundled models on CPU), for progress weights."""
EXTRACT_WEIGHT = 0.3


def track_artifact(speaker: str, fmt: AudioFormat) -> str:
    return f"track-{speaker}.{fmt.value}"


@dataclass(frozen=True)
class SpeakerRequest:
    """What a speaker analysis job was asked for."""

    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None
    transcribe: bool = False
    language: str | None = None
    output_format: AudioFormat = AudioFormat.WAV
    known_voices: tuple[int, ...] = ()
    """Voice profile ids to name speakers after."""


class SpeakerEngines(Protocol):
    def diarizer(self) -> Diarizer: ...

    def separator(self) -> Separator: ...

    def transcriber(self) -> Transcriber: ...


class SpeakerService:
    # --- API side -------------------------------------------------------------------------------------------

    def validate(self, request: SpeakerRequest, transcription_languages: frozenset[str]) -> SpeakerRequest:
        """Refuse inconsistent speaker counts or an unknown language (422), before anything is stored."""
        for field in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(request, field)
            if value is not None and not 1 <= value <= MAX_SPEAKERS:
                raise InvalidInput(
                    f"{field} must be between 1 and {MAX_SPEAKERS}", details={"field": field, "value": value}
                )
        low, high, exact = request.min_speakers, request.max_speakers, request.num_speakers
        if low is not None and high is not None and low > high:
            raise InvalidInput(
                "min_speakers must not exceed max_speakers", details={"min_speakers": low, "max_speakers": high}
            )
        if exact is not None and ((low is not None and exact < low) or (high is not None and exact > high)):
            raise InvalidInput(
                "num_speakers lies outside min_speakers..max_speakers",
                details={"num_speakers": exact, "min_speakers": low, "max_speakers": high},
            )
        language = request.language.strip().lower() if request.language else None
        if language and language not in transcription_languages:
            raise UnsupportedLanguage(
                details={"field": "language", "error": f"'{language}' is not a supported language"}
            )
        if len(request.known_voices) > MAX_SPEAKERS:
            raise InvalidInput(f"At most {MAX_SPEAKERS} known voices", details={"field": "known_voices"})
        return SpeakerRequest(
            exact,
            low,
            high,
            request.transcribe,
            language,
            request.output_format,
            tuple(dict.fromkeys(request.known_voices)),
        )

    def submit(
        self,
        session: Session,
        outbox: JobOutbox,
        storage: Storage,
        *,
        owner_id: int,
        kind: JobKind,
        file: BinaryIO,
        filename: str | None,
        request: SpeakerRequest,
        transcription_languages: frozenset[str],
        limits: UploadLimits,
    ) -> Job:
        request = self.validate(request, transcription_languages)
        for voice_id in request.known_voices:  # another user's voice is "not found", like any of their resources
            voice_service.get_profile(session, owner_id=owner_id, voice_id=voice_id)
        stored = upload_service.store_audio(
            session, storage, owner_id=owner_id, file=file, filename=filename, max_bytes=limits.max_bytes
        )
        if stored.audio.duration > limits.max_duration_seconds:
            raise MediaTooLong(details={"duration": stored.audio.duration, "max_seconds": limits.max_duration_seconds})
        params: dict[str, Any] = {
            "num_speakers": request.num_speakers,
            "min_speakers": request.min_speakers,
            "max_speakers": request.max_speakers,
            "known_voices": list(request.known_voices),
            "input_duration": round(stored.audio.duration, 3),
            "input_bytes": stored.size,
        }
        if kind is JobKind.DIARIZATION:
            params |= {"transcribe": request.transcribe, "language": request.language}
        else:
            params["output_format"] = request.output_format.value
        return job_service.create(
            session,
            outbox,
            owner_id=owner_id,
            kind=kind,
            params=params,
            input_key=stored.key,
            input_filename=stored.filename,
        )

    # --- worker side ----------------------------------------------------------------------------------------

    def step_weights(self, job: Job) -> Mapping[str, float]:
        weights = dict(diarization_pipeline.STEP_WEIGHTS)
        if job.kind == JobKind.SPEAKER_EXTRACTION:
            weights["extracting"] = EXTRACT_WEIGHT
        elif job.params.get("transcribe"):
            weights["transcribing"] = TRANSCRIBE_WEIGHT
        return weights

    def process(
        self,
        job: Job,
        *,
        storage: Storage,
        engines: SpeakerEngines,
        limits: ProcessingLimits,
        load_voices: Callable[[list[int]], list[KnownVoice]],
        hook: ProgressHook,
    ) -> JobOutcome:
        assert job.input_key is not None
        params = job.params
        options = DiarizationOptions(params.get("num_speakers"), params.get("min_speakers"), params.get("max_speakers"))
        diarizer = engines.diarizer()
        prefix = output_prefix(job)
        artifacts: dict[str, str] = {}
        with storage.open_local(job.input_key) as path:
            started = time.perf_counter()
            diarization = diarizer.diarize(path, options, hook)
            MODEL_INFERENCE_SECONDS.labels(diarizer.name, job.kind).observe(time.perf_counter() - started)
            named: list[NamedSpeaker] = []
            if params.get("known_voices"):
                diarization, named = name_speakers(diarization, load_voices(params["known_voices"]))
            document = diarization.serialize()
            uri = PurePath(job.input_filename or f"job-{job.id}").stem
            self._save(storage, prefix, DIARIZATION_JSON, render_transcript(document, TranscriptFormat.JSON), artifacts)
            self._save(storage, prefix, DIARIZATION_RTTM, render_rttm(document, uri), artifacts)
            result: dict[str, Any] = {
                **document,
                "options": params_of(options),
                "known_voices": [asdict(n) for n in named],
            }
            if job.kind == JobKind.SPEAKER_EXTRACTION:
                result["extraction"] = self._extract(
                    job, path, diarization, engines.separator(), storage, prefix, artifacts, hook
                )
            elif params.get("transcribe"):
                result["transcript"] = self._transcribe(
                    path,
                    diarization,
                    engines.transcriber(),
                    params.get("language"),
                    limits,
                    storage,
                    prefix,
                    artifacts,
                    hook,
                )
        return JobOutcome(result=result, artifacts=artifacts)

    def _transcribe(
        self,
        path: Path,
        diarization: Diarization,
        transcriber: Transcriber,
        language: str | None,
        limits: ProcessingLimits,
        storage: Storage,
        prefix: str,
        artifacts: dict[str, str],
        hook: ProgressHook,
    ) -> dict[str, Any]:
        options = TranscriptionOptions(language=language, beam_size=limits.beam_size, batch_size=limits.batch_size)
        pipeline = TranscriptionPipeline(transcriber, max_seconds=limits.max_duration_seconds)
        transcript = pipeline.apply(path, options, relabelled("transcribing", hook))
        document = attribute_speakers(transcript.serialize(), diarization.turns)
        for fmt in TranscriptFormat:
            self._save(storage, prefix, f"transcript.{fmt.value}", render_transcript(document, fmt), artifacts)
        return {
            "language": transcript.language,
            "engine": transcript.engine,
            "segments": len(document["segments"]),
            "words": sum(len(segment.get("words", [])) for segment in document["segments"]),
        }

    def _extract(
        self,
        job: Job,
        path: Path,
        diarization: Diarization,
        separator: Separator,
        storage: Storage,
        prefix: str,
        artifacts: dict[str, str],
        hook: ProgressHook,
    ) -> dict[str, Any]:
        fmt = AudioFormat(job.params.get("output_format", AudioFormat.WAV))
        with tempfile.TemporaryDirectory(prefix="audio-api-tracks-") as folder:
            extracted = separator.extract(path, diarization, Path(folder), fmt, hook)
            for track in extracted.tracks:
                name = track_artifact(track.speaker, fmt)
                with track.path.open("rb") as file:
                    storage.save(f"{prefix}/{name}", read_chunks(file))
                artifacts[name] = f"{prefix}/{name}"
        return {**extracted.serialize(), "format": fmt.value}

    @staticmethod
    def _save(storage: Storage, prefix: str, name: str, text: str, artifacts: dict[str, str]) -> None:
        storage.save(f"{prefix}/{name}", [text.encode("utf-8")])
        artifacts[name] = f"{prefix}/{name}"


def params_of(options: DiarizationOptions) -> dict[str, int | None]:
    return {
        "num_speakers": options.num_speakers,
        "min_speakers": options.min_speakers,
        "max_speakers": options.max_speakers,
    }


speaker_service = SpeakerService()
