from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import RedirectResponse

from app.api.deps import CurrentUser, JobId, OutboxDep, SessionDep, SettingsDep, StorageDep
from app.api.presenters import translation_public
from app.api.ratelimit import limit_by_user
from app.core.errors import (
    InvalidAudio,
    InvalidJobState,
    PayloadTooLarge,
    RateLimited,
    ResourceNotFound,
    UnsupportedMediaType,
)
from app.models.job import JobKind, JobStatus
from app.pipelines.formats import TranscriptFormat
from app.schemas.job import TranslationJobPublic
from app.services.jobs import job_service
from app.services.transcription import transcription_service

router = APIRouter(prefix="/translation", tags=["translation"], responses={404: ResourceNotFound.openapi()})

KIND = JobKind.TRANSCRIPTION


@router.post(
    "/translate/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranslationJobPublic,
    dependencies=[Depends(limit_by_user("translation"))],
    responses={
        413: PayloadTooLarge.openapi(),
        415: UnsupportedMediaType.openapi(),
        422: InvalidAudio.openapi("Undecodable audio, unsupported language or invalid parameters"),
        429: RateLimited.openapi(),
    },
)
def create_translation(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="Audio or video file (WAV, MP3, OGG, FLAC, M4A, WebM, ...)")],
    source_language: Annotated[str | None, Form(description="Spoken language; omit to auto-detect")] = None,
    target_language: Annotated[str | None, Form(description="Translate into this language; omit to transcribe")] = None,
) -> TranslationJobPublic:
    """Upload audio and start a transcription (translation when ``target_language`` is given) job."""
    job = transcription_service.submit(
        session,
        outbox,
        storage,
        owner_id=user.id,
        file=file.file,
        filename=file.filename,
        source_language=source_language,
        target_language=target_language,
        max_bytes=settings.max_upload_bytes,
    )
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.get("/translations/", response_model=list[TranslationJobPublic])
def list_translations(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[TranslationJobPublic]:
    """List your translation and transcription jobs, newest first."""
    jobs, _ = job_service.list(session, owner_id=user.id, kind=KIND, status=status_filter, limit=limit, offset=offset)
    return [translation_public(job, storage, settings.download_url_expire_seconds) for job in jobs]


@router.get("/translations/{job_id}", response_model=TranslationJobPublic)
def get_translation(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> TranslationJobPublic:
    """Status, progress and result links of one job."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kind=KIND)
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.get(
    "/translations/{job_id}/transcript",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={409: InvalidJobState.openapi("The job has not completed")},
)
def get_transcript(
    job_id: JobId,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    format: Annotated[TranscriptFormat, Query()] = TranscriptFormat.TXT,
) -> RedirectResponse:
    """Redirect to the transcript in the requested format (txt, srt, vtt, json)."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kind=KIND)
    key = transcription_service.transcript_key(job, format)
    name = f"transcript-{job.id}.{format.value}"
    return RedirectResponse(storage.download_url(key, filename=name, expires_in=settings.download_url_expire_seconds))


@router.post(
    "/translations/{job_id}/retry",
    response_model=TranslationJobPublic,
    responses={409: InvalidJobState.openapi()},
)
def retry_translation(
    job_id: JobId,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
) -> TranslationJobPublic:
    """Run a failed or cancelled job again."""
    job = job_service.retry(session, outbox, owner_id=user.id, job_id=job_id, kind=KIND)
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/translations/{job_id}/cancel",
    response_model=TranslationJobPublic,
    responses={409: InvalidJobState.openapi()},
)
def cancel_translation(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, outbox: OutboxDep, user: CurrentUser
) -> TranslationJobPublic:
    """Cancel a pending or running job."""
    job = job_service.cancel(session, outbox, owner_id=user.id, job_id=job_id, kind=KIND)
    return translation_public(job, storage, settings.download_url_expire_seconds)
