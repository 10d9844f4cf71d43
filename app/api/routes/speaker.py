from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from app.api.deps import (
    CatalogDep,
    CurrentUser,
    JobId,
    OutboxDep,
    PageLimit,
    PageOffset,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from app.api.presenters import download_name, speaker_public
from app.api.ratelimit import RetryAdmission, limit_by_user
from app.core.config import Settings
from app.core.errors import (
    InvalidAudio,
    InvalidJobState,
    PayloadTooLarge,
    RateLimited,
    ResourceNotFound,
    UnsupportedMediaType,
)
from app.engines.speaker import MAX_SPEAKERS
from app.models.job import JobKind, JobStatus
from app.models.user import User
from app.pipelines.encode import AudioFormat
from app.schemas.job import SpeakerJobPublic
from app.schemas.text import LanguageCode
from app.services.catalog import LanguageCatalog
from app.services.jobs import job_service
from app.services.outbox import JobOutbox
from app.services.speaker import DIARIZATION_RTTM, KINDS, SpeakerRequest, speaker_service
from app.services.translation import UploadLimits
from app.storage import Storage

router = APIRouter(prefix="/speaker", tags=["speaker"], responses={404: ResourceNotFound.openapi()})

SUBMISSION_ERRORS: dict[int | str, dict[str, Any]] = {
    413: PayloadTooLarge.openapi(),
    415: UnsupportedMediaType.openapi(),
    422: InvalidAudio.openapi("Undecodable audio or invalid speaker counts"),
    429: RateLimited.openapi(),
}
SpeakerCount = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS, description="Exact number of speakers, if known")]
MinSpeakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS, description="At least this many speakers")]
MaxSpeakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS, description="At most this many speakers")]
KNOWN_VOICES_PATTERN = r"^\s*\d{1,9}(\s*,\s*\d{1,9}){0,19}\s*$"
Upload = Annotated[UploadFile, File(description="Audio or video file (WAV, MP3, OGG, FLAC, M4A, WebM, ...)")]


def diarization_form(
    num_speakers: SpeakerCount = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    transcribe: Annotated[bool, Form(description="Also transcribe, with a speaker on every word")] = False,
    language: Annotated[
        LanguageCode | None, Form(description="Spoken language for the transcript; omit to detect")
    ] = None,
    known_voices: Annotated[
        str | None,
        Form(pattern=KNOWN_VOICES_PATTERN, description="Voice profile ids to name speakers after, e.g. 3,7"),
    ] = None,
) -> SpeakerRequest:
    voices = tuple(int(part) for part in known_voices.split(",")) if known_voices else ()
    return SpeakerRequest(
        num_speakers, min_speakers, max_speakers, transcribe=transcribe, language=language, known_voices=voices
    )


def extraction_form(
    num_speakers: SpeakerCount = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    output_format: Annotated[AudioFormat, Form(description="Format of the speaker tracks")] = AudioFormat.WAV,
) -> SpeakerRequest:
    return SpeakerRequest(num_speakers, min_speakers, max_speakers, output_format=output_format)


def _start(
    kind: JobKind,
    request: SpeakerRequest,
    file: UploadFile,
    session: Session,
    settings: Settings,
    storage: Storage,
    outbox: JobOutbox,
    catalog: LanguageCatalog,
    user: User,
) -> SpeakerJobPublic:
    job = speaker_service.submit(
        session,
        outbox,
        storage,
        owner_id=user.id,
        kind=kind,
        file=file.file,
        filename=file.filename,
        request=request,
        transcription_languages=catalog.transcription_languages,
        limits=UploadLimits.of(settings),
    )
    return speaker_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/diarize",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SpeakerJobPublic,
    dependencies=[Depends(limit_by_user("speaker"))],
    responses=SUBMISSION_ERRORS,
)
def create_diarization(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    catalog: CatalogDep,
    user: CurrentUser,
    file: Upload,
    request: Annotated[SpeakerRequest, Depends(diarization_form)],
) -> SpeakerJobPublic:
    """Start a diarization job: who spoke when (and, with ``transcribe``, who said each word)."""
    return _start(JobKind.DIARIZATION, request, file, session, settings, storage, outbox, catalog, user)


@router.post(
    "/extract",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SpeakerJobPublic,
    dependencies=[Depends(limit_by_user("speaker"))],
    responses=SUBMISSION_ERRORS,
)
def create_extraction(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    catalog: CatalogDep,
    user: CurrentUser,
    file: Upload,
    request: Annotated[SpeakerRequest, Depends(extraction_form)],
) -> SpeakerJobPublic:
    """Start a speaker extraction job: one audio track per speaker, with the diarization it followed."""
    return _start(JobKind.SPEAKER_EXTRACTION, request, file, session, settings, storage, outbox, catalog, user)


@router.get("/jobs/", response_model=list[SpeakerJobPublic])
def list_speaker_jobs(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> list[SpeakerJobPublic]:
    """List your diarization and extraction jobs, newest first."""
    jobs, _ = job_service.list(session, owner_id=user.id, kinds=KINDS, status=status_filter, limit=limit, offset=offset)
    return [speaker_public(job, storage, settings.download_url_expire_seconds) for job in jobs]


@router.get("/jobs/{job_id}", response_model=SpeakerJobPublic)
def get_speaker_job(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> SpeakerJobPublic:
    """Status and results of one diarization or extraction job."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kinds=KINDS)
    return speaker_public(job, storage, settings.download_url_expire_seconds)


@router.get(
    "/jobs/{job_id}/rttm",
    status_code=status.HTTP_307_TEMPORARY_REDIRECT,
    responses={409: InvalidJobState.openapi("The job has not completed")},
)
def get_rttm(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> RedirectResponse:
    """Redirect to the diarization as RTTM."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kinds=KINDS)
    key = job_service.artifact_key(job, DIARIZATION_RTTM)
    url = storage.download_url(
        key, filename=download_name(job, DIARIZATION_RTTM), expires_in=settings.download_url_expire_seconds
    )
    return RedirectResponse(url)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=SpeakerJobPublic,
    responses={409: InvalidJobState.openapi(), 429: RateLimited.openapi()},
)
def retry_speaker_job(
    job_id: JobId,
    admit: RetryAdmission,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
) -> SpeakerJobPublic:
    """Run a failed or cancelled job again."""
    job = job_service.retry(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS, admit=admit)
    return speaker_public(job, storage, settings.download_url_expire_seconds)


@router.post("/jobs/{job_id}/cancel", response_model=SpeakerJobPublic, responses={409: InvalidJobState.openapi()})
def cancel_speaker_job(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, outbox: OutboxDep, user: CurrentUser
) -> SpeakerJobPublic:
    """Cancel a pending or running job."""
    job = job_service.cancel(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS)
    return speaker_public(job, storage, settings.download_url_expire_seconds)
