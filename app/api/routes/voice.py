from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile, status

from app.api.deps import (
    BatchId,
    CurrentUser,
    EnginesDep,
    JobId,
    OutboxDep,
    PageLimit,
    PageOffset,
    SessionDep,
    SettingsDep,
    StorageDep,
)
from app.api.presenters import batch_state, clone_job_public, clone_status_public, voice_public
from app.api.ratelimit import RetryAdmission, charge_batch, limit_by_user
from app.core.config import MAX_BATCH_JOBS
from app.core.errors import InvalidAudio, InvalidJobState, PayloadTooLarge, RateLimited, ResourceNotFound
from app.engines.synthesis import VOICE_CATALOGUE
from app.engines.voice import VoiceMatchingCloner
from app.models.job import JobKind
from app.schemas.job import MAX_ROW_ID
from app.schemas.text import Description, LanguageCode, VoiceName
from app.schemas.voice import (
    CloneBatchCreate,
    CloneBatchPublic,
    CloneCreate,
    CloneJobPublic,
    CloneStatusPublic,
    EnginePublic,
    VoicePublic,
    VoiceUpdate,
    VoiceUsePublic,
)
from app.services.jobs import job_service
from app.services.voice import CloneRequest, ProfileFields, voice_service

router = APIRouter(prefix="/voice", tags=["voice"], responses={404: ResourceNotFound.openapi()})

KINDS = (JobKind.VOICE_CLONE,)
VoiceId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Voice profile id")]
SUBMISSION_ERRORS: dict[int | str, dict[str, Any]] = {
    413: PayloadTooLarge.openapi(),
    422: InvalidAudio.openapi("Invalid sample, missing consent, unsupported language or invalid parameters"),
    429: RateLimited.openapi(),
}


@router.get("/engines", response_model=list[EnginePublic])
def list_engines(engines: EnginesDep) -> list[EnginePublic]:
    """The installed speech engines: which clone a voice, in which languages, under which licence; ``default``
    marks the one cloning jobs use."""
    configured = engines.cloner_info()
    cloners = (
        [configured] if configured.name == VoiceMatchingCloner.info.name else [configured, VoiceMatchingCloner.info]
    )
    spoken: dict[str, list[str]] = {}
    for language, choice in VOICE_CATALOGUE.items():
        spoken.setdefault(f"{choice.engine}:{choice.voice}", []).append(language)
    stock = [
        EnginePublic(
            name=name,
            kind="stock voice",
            clones=False,
            languages=sorted(languages),
            licence="Piper joe: see its model card; Kokoro-82M: Apache-2.0; espeak-ng: GPL-3.0-or-later",
            description="A bundled voice, as used for dubbing",
            default=False,
        )
        for name, languages in spoken.items()
    ]
    return [
        *(
            EnginePublic(
                name=info.name,
                kind=info.kind,
                clones=info.clones,
                languages=info.languages,
                licence=info.licence,
                description=info.description,
                default=info is configured,
            )
            for info in cloners
        ),
        *stock,
    ]


@router.get("/voices/", response_model=list[VoicePublic])
def list_voices(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[VoicePublic]:
    """Your voice profiles, newest first."""
    profiles = voice_service.list_profiles(session, owner_id=user.id, limit=limit, offset=offset)
    return [voice_public(profile, storage, settings.download_url_expire_seconds) for profile in profiles]


@router.post(
    "/voices/",
    status_code=status.HTTP_201_CREATED,
    response_model=VoicePublic,
    dependencies=[Depends(limit_by_user("voice"))],
    responses=SUBMISSION_ERRORS,
)
def create_voice(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    engines: EnginesDep,
    user: CurrentUser,
    name: Annotated[VoiceName, Form()],
    file: Annotated[UploadFile, File(description="A recording of one person speaking (3 s to 5 min)")],
    consent: Annotated[bool, Form(description="The speaker agreed to have their voice cloned")] = False,
    description: Annotated[Description | None, Form()] = None,
    language: Annotated[LanguageCode, Form(description="The language the speaker speaks")] = "en",
) -> VoicePublic:
    """Create a voice profile from a consented sample: checked, cleaned, embedded once."""
    profile = voice_service.create_profile(
        session,
        storage,
        engines,
        owner_id=user.id,
        fields=ProfileFields(name.strip(), description, language, consent),
        file=file.file,
        filename=file.filename,
        max_bytes=settings.max_upload_bytes,
    )
    return voice_public(profile, storage, settings.download_url_expire_seconds)


@router.get("/voices/{voice_id}", response_model=VoicePublic)
def get_voice(
    voice_id: VoiceId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> VoicePublic:
    """One voice profile."""
    profile = voice_service.get_profile(session, owner_id=user.id, voice_id=voice_id)
    return voice_public(profile, storage, settings.download_url_expire_seconds)


@router.patch("/voices/{voice_id}", response_model=VoicePublic)
def update_voice(
    voice_id: VoiceId,
    body: VoiceUpdate,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    engines: EnginesDep,
    user: CurrentUser,
) -> VoicePublic:
    """Rename a voice profile or change its description or language."""
    profile = voice_service.update_profile(
        session,
        owner_id=user.id,
        voice_id=voice_id,
        changes=body.model_dump(exclude_unset=True),
        engine=engines.cloner_info(),
    )
    return voice_public(profile, storage, settings.download_url_expire_seconds)


@router.delete("/voices/{voice_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_voice(voice_id: VoiceId, session: SessionDep, storage: StorageDep, user: CurrentUser) -> None:
    """Delete a voice profile, its audio and its audit trail."""
    voice_service.delete_profile(session, storage, owner_id=user.id, voice_id=voice_id)


@router.get("/voices/{voice_id}/uses", response_model=list[VoiceUsePublic])
def voice_uses(
    voice_id: VoiceId,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> list[VoiceUsePublic]:
    """Who cloned this voice, when, and a SHA-256 of each text (the audit trail), newest first, a page at a time;
    ``X-Total-Count`` says how long the whole trail is."""
    uses, total = voice_service.uses(session, owner_id=user.id, voice_id=voice_id, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(total)
    return [VoiceUsePublic.model_validate(use, from_attributes=True) for use in uses]


@router.post(
    "/clone/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CloneJobPublic,
    dependencies=[Depends(limit_by_user("voice"))],
    responses=SUBMISSION_ERRORS,
)
def create_clone(
    body: CloneCreate, session: SessionDep, outbox: OutboxDep, engines: EnginesDep, user: CurrentUser
) -> CloneJobPublic:
    """Start a cloning job: speak ``input_text`` in a voice profile's voice."""
    request = CloneRequest(body.voice_id, body.input_text, body.language, body.speed, body.pitch, body.output_format)
    job = voice_service.submit_clone(session, outbox, owner_id=user.id, request=request, engine=engines.cloner_info())
    return clone_job_public(job)


@router.post(
    "/clone/batch/",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=CloneBatchPublic,
    dependencies=[Depends(limit_by_user("voice"))],
    responses=SUBMISSION_ERRORS,
)
def create_clone_batch(
    body: CloneBatchCreate,
    session: SessionDep,
    settings: SettingsDep,
    outbox: OutboxDep,
    engines: EnginesDep,
    user: CurrentUser,
    http: Request,
) -> CloneBatchPublic:
    """One job per voice and text (many texts in one voice, or one text in many voices), under one batch id."""
    charge_batch(http, settings, user.id, "voice", jobs=len(body.voice_ids) * len(body.texts))
    template = CloneRequest(0, "", body.language, body.speed, body.pitch, body.output_format)
    batch_id, jobs = voice_service.submit_batch(
        session,
        outbox,
        owner_id=user.id,
        voice_ids=body.voice_ids,
        texts=body.texts,
        template=template,
        engine=engines.cloner_info(),
        max_jobs=settings.max_batch_files,
    )
    return CloneBatchPublic(**batch_state(batch_id, jobs), jobs=[clone_job_public(job) for job in jobs])


@router.get("/clone/batch/{batch_id}", response_model=CloneBatchPublic)
def get_clone_batch(batch_id: BatchId, session: SessionDep, user: CurrentUser) -> CloneBatchPublic:
    """The cloning jobs of one batch, to follow them together."""
    jobs, count = job_service.list(session, owner_id=user.id, kinds=KINDS, batch_id=batch_id, limit=MAX_BATCH_JOBS)
    if not count:
        raise ResourceNotFound("Batch not found", details={"batch_id": batch_id})
    in_order = list(reversed(jobs))
    return CloneBatchPublic(**batch_state(batch_id, in_order), jobs=[clone_job_public(job) for job in in_order])


@router.get("/clone/{job_id}/status", response_model=CloneStatusPublic)
def get_clone_status(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> CloneStatusPublic:
    """Status, progress and (once completed) the audio link and speaker similarity of a cloning job."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id, kinds=KINDS)
    return clone_status_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/clone/{job_id}/retry",
    response_model=CloneStatusPublic,
    responses={409: InvalidJobState.openapi(), 429: RateLimited.openapi()},
)
def retry_clone(
    job_id: JobId,
    admit: RetryAdmission,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
) -> CloneStatusPublic:
    """Run a failed or cancelled cloning job again."""
    job = job_service.retry(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS, admit=admit)
    return clone_status_public(job, storage, settings.download_url_expire_seconds)


@router.post("/clone/{job_id}/cancel", response_model=CloneStatusPublic, responses={409: InvalidJobState.openapi()})
def cancel_clone(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, outbox: OutboxDep, user: CurrentUser
) -> CloneStatusPublic:
    """Cancel a pending or running cloning job."""
    job = job_service.cancel(session, outbox, owner_id=user.id, job_id=job_id, kinds=KINDS)
    return clone_status_public(job, storage, settings.download_url_expire_seconds)
