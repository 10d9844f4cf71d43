"""Job rows to API views, with signed, expiring download URLs for their outputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any

from app.models.job import Job, JobStatus
from app.models.voice import VoiceProfile
from app.pipelines.encode import AudioFormat
from app.pipelines.formats import TranscriptFormat
from app.schemas.job import JobPublic, SpeakerJobPublic, TranslationJobPublic
from app.schemas.voice import CloneJobPublic, CloneStatusPublic, TaskStatus, VoicePublic
from app.services.progress import format_time_remaining
from app.services.speaker import DIARIZATION_JSON, DIARIZATION_RTTM, track_artifact
from app.services.translation import TRANSCRIPT_FORMATS, transcript_artifact
from app.storage import Storage


def download_name(job: Job, artifact: str) -> str:
    """What a downloaded output is called: the client's file name, any language, with the artifact's suffix
    (``meeting.transcript.srt``); the ``Content-Disposition`` carries it safely."""
    stem = PurePath((job.input_filename or "").replace("\\", "/")).stem.strip(" .") or f"job-{job.id}"
    return f"{stem}.{artifact}"


def output_urls(job: Job, storage: Storage, expires_in: int) -> dict[str, str]:
    if job.status != "completed":
        return {}
    return {
        name: storage.download_url(key, filename=download_name(job, name), expires_in=expires_in)
        for name, key in sorted(job.artifacts.items())
    }


def _error(job: Job) -> dict[str, str | None] | None:
    return {"error_code": job.error_code, "message": job.error_message} if job.error_code else None


def job_public(job: Job, storage: Storage, expires_in: int) -> JobPublic:
    return JobPublic(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        step=job.step,
        time_remaining=format_time_remaining(job.eta_seconds),
        error=_error(job),
        params=job.params,
        input_filename=job.input_filename,
        result=job.result,
        outputs=output_urls(job, storage, expires_in),
        task_id=job.task_id,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        completed_at=job.completed_at,
    )


def translation_public(job: Job, storage: Storage, expires_in: int) -> TranslationJobPublic:
    urls = output_urls(job, storage, expires_in)
    transcripts, translations = (
        {fmt.value: urls[name] for fmt in TRANSCRIPT_FORMATS if (name := transcript_artifact(fmt, kind)) in urls}
        for kind in ("transcript", "translation")
    )
    result = job.result or {}
    return TranslationJobPublic(
        id=job.id,
        kind=job.kind,
        status=job.status,
        source_language=job.params.get("source_language"),
        target_language=job.params.get("target_language"),
        progress=job.progress,
        step=job.step,
        time_remaining=format_time_remaining(job.eta_seconds),
        error=_error(job),
        created_at=job.created_at,
        completed_at=job.completed_at,
        task_id=job.task_id,
        input_filename=job.input_filename,
        detected_language=result.get("detected_language"),
        duration=result.get("duration", job.params.get("input_duration")),
        output_url=next((url for name, url in urls.items() if name.startswith("speech.")), None),
        transcript_url=transcripts.get("txt"),
        transcript_urls=transcripts,
        translation_url=translations.get("txt"),
        translation_urls=translations,
        dubbing=result.get("dubbing"),
        notes=result.get("notes", []),
        source_url=job.params.get("source_url"),
        batch_id=job.batch_id,
    )


def speaker_public(job: Job, storage: Storage, expires_in: int) -> SpeakerJobPublic:
    urls = output_urls(job, storage, expires_in)
    result = job.result or {}
    extraction = result.get("extraction")
    tracks: dict[str, str] = {}
    if extraction:
        track_format = AudioFormat(extraction["format"])
        tracks = {
            track["speaker"]: urls[name]
            for track in extraction["tracks"]
            if (name := track_artifact(track["speaker"], track_format)) in urls
        }
    options = {key: job.params.get(key) for key in ("num_speakers", "min_speakers", "max_speakers")}
    for key in ("transcribe", "language", "output_format", "known_voices"):
        if key in job.params:
            options[key] = job.params[key]
    return SpeakerJobPublic(
        id=job.id,
        kind=job.kind,
        status=job.status,
        progress=job.progress,
        step=job.step,
        time_remaining=format_time_remaining(job.eta_seconds),
        error=_error(job),
        created_at=job.created_at,
        completed_at=job.completed_at,
        task_id=job.task_id,
        input_filename=job.input_filename,
        options=options,
        engine=result.get("engine"),
        duration=result.get("duration", job.params.get("input_duration")),
        num_speakers=result.get("num_speakers"),
        speakers=result.get("speakers", []),
        segments=result.get("segments", []),
        overlaps=result.get("overlaps", []),
        known_voices=result.get("known_voices", []),
        rttm_url=urls.get(DIARIZATION_RTTM),
        json_url=urls.get(DIARIZATION_JSON),
        transcript=result.get("transcript"),
        transcript_urls={
            fmt.value: urls[name] for fmt in TranscriptFormat if (name := f"transcript.{fmt.value}") in urls
        },
        extraction=extraction,
        tracks=tracks,
    )


TASK_STATES = {
    "pending": "PENDING",
    "processing": "STARTED",
    "completed": "SUCCESS",
    "failed": "FAILURE",
    "cancelled": "REVOKED",
}


def voice_public(profile: VoiceProfile, storage: Storage, expires_in: int) -> VoicePublic:
    return VoicePublic(
        id=profile.id,
        name=profile.name,
        description=profile.description,
        language=profile.language,
        file_path=profile.reference_key,
        reference_url=storage.download_url(
            profile.reference_key, filename=f"voice-{profile.id}-reference.wav", expires_in=expires_in
        ),
        original_filename=profile.original_filename,
        speech_seconds=profile.speech_seconds,
        consent=profile.consent,
        embedder=profile.embedder,
        quality=profile.quality,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


def clone_job_public(job: Job) -> CloneJobPublic:
    params = job.params
    return CloneJobPublic(
        id=job.id,
        status=job.status,
        voice_id=params["voice_id"],
        input_text=params["input_text"],
        language=params["language"],
        speed=params["speed"],
        pitch=params["pitch"],
        output_format=params["output_format"],
        progress=job.progress,
        batch_id=job.batch_id,
        created_at=job.created_at,
        task_id=job.task_id,
    )


def clone_status_public(job: Job, storage: Storage, expires_in: int) -> CloneStatusPublic:
    urls = output_urls(job, storage, expires_in)
    return CloneStatusPublic(
        job_id=job.id,
        status=job.status,
        created_at=job.created_at,
        completed_at=job.completed_at,
        output_url=next((url for name, url in urls.items() if name.startswith("speech.")), None),
        task_status=TaskStatus(
            state=TASK_STATES[job.status],
            progress=job.progress,
            step=job.step,
            time_remaining=format_time_remaining(job.eta_seconds),
            error=_error(job),
        ),
        result=job.result,
    )


def batch_state(batch_id: str, jobs: Sequence[Job]) -> dict[str, Any]:
    """The ``BatchState`` fields of a batch's jobs."""
    statuses = [JobStatus(job.status) for job in jobs]
    counts = Counter(status.value for status in statuses)
    if not all(status.is_terminal for status in statuses):
        started = any(status is not JobStatus.PENDING for status in statuses)
        status = JobStatus.PROCESSING.value if started else JobStatus.PENDING.value
    else:
        status = statuses[0].value if len(counts) == 1 else "partial"
    progress = [100.0 if s.is_terminal else float(job.progress or 0.0) for s, job in zip(statuses, jobs, strict=True)]
    return {
        "batch_id": batch_id,
        "status": status,
        "progress": round(sum(progress) / max(len(progress), 1), 1),
        "counts": dict(counts),
    }
