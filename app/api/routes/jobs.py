from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import CurrentUser, JobId, OutboxDep, PageLimit, PageOffset, SessionDep, SettingsDep, StorageDep
from app.api.presenters import job_public
from app.api.ratelimit import RetryAdmission
from app.core.errors import InvalidJobState, RateLimited, ResourceNotFound
from app.models.job import JobKind, JobStatus
from app.schemas.job import JobPublic, JobsPublic
from app.services.jobs import job_service

router = APIRouter(prefix="/jobs", tags=["jobs"], responses={404: ResourceNotFound.openapi()})


@router.get("/", response_model=JobsPublic)
def list_jobs(
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    user: CurrentUser,
    kind: JobKind | None = None,
    status: JobStatus | None = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> JobsPublic:
    """List your jobs of every kind, newest first."""
    jobs, count = job_service.list(
        session, owner_id=user.id, kinds=None if kind is None else [kind], status=status, limit=limit, offset=offset
    )
    return JobsPublic(
        data=[job_public(job, storage, settings.download_url_expire_seconds) for job in jobs], count=count
    )


@router.get("/{job_id}", response_model=JobPublic)
def get_job(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, user: CurrentUser
) -> JobPublic:
    """One job of any kind."""
    job = job_service.get(session, owner_id=user.id, job_id=job_id)
    return job_public(job, storage, settings.download_url_expire_seconds)


@router.post("/{job_id}/cancel", response_model=JobPublic, responses={409: InvalidJobState.openapi()})
def cancel_job(
    job_id: JobId, session: SessionDep, settings: SettingsDep, storage: StorageDep, outbox: OutboxDep, user: CurrentUser
) -> JobPublic:
    """Cancel a pending or running job."""
    job = job_service.cancel(session, outbox, owner_id=user.id, job_id=job_id)
    return job_public(job, storage, settings.download_url_expire_seconds)


@router.post(
    "/{job_id}/retry", response_model=JobPublic, responses={409: InvalidJobState.openapi(), 429: RateLimited.openapi()}
)
def retry_job(
    job_id: JobId,
    admit: RetryAdmission,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    outbox: OutboxDep,
    user: CurrentUser,
) -> JobPublic:
    """Run a failed or cancelled job again (counted as a submission of its kind)."""
    job = job_service.retry(session, outbox, owner_id=user.id, job_id=job_id, admit=admit)
    return job_public(job, storage, settings.download_url_expire_seconds)
