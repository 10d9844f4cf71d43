from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import RedirectResponse

from app.api.deps import (
    BatchId,
    CatalogDep,
    CurrentUser,
    JobId,
    OutboxDep,
    PageLimit,
    PageOffset,
    SessionDep,
    SettingsDep,
    StorageDep,
    UrlPolicyDep,
)
from app.api.presenters import batch_state, download_name, translation_public
from app.api.ratelimit import RetryAdmission, charge_batch, limit_by_user
from app.core.config import MAX_BATCH_JOBS
from app.core.errors import (
    InvalidAudio,
    InvalidJobState,
    PayloadTooLarge,
    RateLimited,
    ResourceNotFound,
    UnsupportedMediaType,
)
from app.models.job import JobKind, JobStatus
from app.pipelines.encode import AudioFormat
from app.pipelines.formats import TranscriptFormat
from app.schemas.job import BatchPublic, LanguagesPublic, TranslationJobPublic, TranslationUrlCreate
from app.schemas.text import LanguageCode
from app.services.jobs import job_service
from app.services.translation import TranslationRequest, UploadLimits, transcript_artifact, translation_service

router = APIRouter(prefix="/translation", tags=["translation"], responses={404: ResourceNotFound.openapi()})

KINDS = (JobKind.TRANSCRIPTION, JobKind.TRANSLATION)
SUBMISSION_ERRORS: dict[int | str, dict[str, Any]] = {
    413: PayloadTooLarge.openapi(),
    415: UnsupportedMediaType.openapi(),
    422: InvalidAudio.openapi("Undecodable audio, unsupported language pair or invalid parameters"),
    429: RateLimited.openapi(),
}


def translation_form(
    source_language: Annotated[
        LanguageCode | None, Form(description="Spoken language; omit to detect it (per segment)")
    ] = None,
    target_language: Annotated[
        LanguageCode | None, Form(description="Translate into this language; omit to transcribe")
    ] = None,
    output_format: Annotated[AudioFormat, Form(description="Format of the dubbed speech")] = AudioFormat.WAV,
    dub: Annotated[bool, Form(description="Speak the translation (when a bundled voice speaks it)")] = True,
) -> TranslationRequest:
    return TranslationRequest(source_language, target_language, output_format, dub)


TranslationForm = Annotated[TranslationRequest, Depends(translation_form)]


@router.get("/languages", response_model=LanguagesPublic)
def languages(catalog: CatalogDep) -> LanguagesPublic:
    """What this installation can do: transcription languages, translation pairs, dubbing voices."""
    return LanguagesPublic(
        transcription=sorted(catalog.transcription_languages),
        translation=catalog.router.available_pairs(catalog.transcription_languages),
        dubbing=catalog.dubbing_languages,
    )


@router.post(
    "/translate/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranslationJobPublic,
    dependencies=[Depends(limit_by_user("translation"))],
    responses=SUBMISSION_ERRORS,
)
def create_translation(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    catalog: CatalogDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="Audio or video file (WAV, MP3, OGG, FLAC, M4A, WebM, ...)")],
    request: TranslationForm,
) -> TranslationJobPublic:
    """Upload audio and start a transcription job, or a translation (and dubbing) job when ``target_language``."""
    job = translation_service.submit_file(
        session,
        outbox,
        storage,
        catalog,
        owner_id=user.id,
        file=file.file,
        filename=file.filename,
        request=request,
        limits=UploadLimits.of(settings),
    )
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/translate/url/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TranslationJobPublic,
    dependencies=[Depends(limit_by_user("translation"))],
    responses=SUBMISSION_ERRORS,
)
def create_translation_from_url(
    body: TranslationUrlCreate,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    catalog: CatalogDep,
    policy: UrlPolicyDep,
    user: CurrentUser,
) -> TranslationJobPublic:
    """Transcribe or translate a recording from a link (YouTube, TikTok, Instagram or a direct media URL)."""
    request = TranslationRequest(body.source_language, body.target_language, body.output_format, body.dub)
    job = translation_service.submit_url(
        session, outbox, catalog, policy, owner_id=user.id, url=str(body.url), request=request
    )
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/translate/batch/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchPublic,
    dependencies=[Depends(limit_by_user("translation"))],
    responses=SUBMISSION_ERRORS,
)
def create_translation_batch(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    catalog: CatalogDep,
    user: CurrentUser,
    files: Annotated[list[UploadFile], File(alias="files[]", description="Audio or video files")],
    request: TranslationForm,
    http: Request,
) -> BatchPublic:
    """Start one job per file, all under one batch id; one bad file refuses the whole batch, storing nothing."""
    charge_batch(http, settings, user.id, "translation", jobs=len(files))
    batch_id, jobs = translation_service.submit_batch(
        session,
        outbox,
        storage,
        catalog,
        owner_id=user.id,
        files=[(upload.file, upload.filename) for upload in files],
        request=request,
        limits=UploadLimits.of(settings),
    )
    expires = settings.download_url_expire_seconds
    return BatchPublic(**batch_state(batch_id, jobs), jobs=[translation_public(job, storage, expires) for job in jobs])


@router.get("/batches/{batch_id}", response_model=BatchPublic)
def get_batch(
    batch_id: BatchId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> BatchPublic:
    """The jobs of one batch, to follow them together."""
    jobs, count = job_service.list(session, owner_id=user.id, kinds=KINDS, batch_id=batch_id, limit=MAX_BATCH_JOBS)
    if not count:
        raise ResourceNotFound("Batch not found", details={"batch_id": batch_id})
    expires = settings.download_url_expire_seconds
    in_order = list(reversed(jobs))
    return BatchPublic(
        **batch_state(batch_id, in_order), jobs=[translation_public(job, storage, expires) for job in in_order]
    )


@router.get("/translations/", response_model=list[TranslationJobPublic])
def list_translations(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    status_filter: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> list[TranslationJobPublic]:
    """List your translation and transcription jobs, newest first."""
    jobs, _ = job_service.list(session, owner_id=user.id, kinds=KINDS, status=status_filter, limit=limit, offset=offset)
    return [translation_public(job, storage, settings.download_url_expire_seconds) for job in jobs]


@router.get("/translations/{job_id}", response_model=TranslationJobPublic)
def get_translation(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> TranslationJobPublic:
    """Status, progress and result links of one job."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kinds=KINDS)
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
    translated: Annotated[bool, Query(description="The translation instead of the source transcript")] = False,
) -> RedirectResponse:
    """Redirect to the transcript (or its translation) in the requested format (txt, srt, vtt, json)."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kinds=KINDS)
    name = transcript_artifact(format, "translation" if translated else "transcript")
    key = job_service.artifact_key(job, name)
    url = storage.download_url(key, filename=download_name(job, name), expires_in=settings.download_url_expire_seconds)
    return RedirectResponse(url)


@router.post(
    "/translations/{job_id}/retry",
    response_model=TranslationJobPublic,
    responses={409: InvalidJobState.openapi(), 429: RateLimited.openapi()},
)
def retry_translation(
    job_id: JobId,
    admit: RetryAdmission,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
) -> TranslationJobPublic:
    """Run a failed or cancelled job again."""
    job = job_service.retry(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS, admit=admit)
    return translation_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/translations/{job_id}/cancel", response_model=TranslationJobPublic, responses={409: InvalidJobState.openapi()}
)
def cancel_translation(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, outbox: OutboxDep, user: CurrentUser
) -> TranslationJobPublic:
    """Cancel a pending or running job."""
    job = job_service.cancel(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS)
    return translation_public(job, storage, settings.download_url_expire_seconds)
