"""The job lifecycle, shared by every job kind.

API side: create (and enqueue after commit), read, list, cancel, retry — always scoped to the owner, so another
user's job is simply "not found". Worker side: claim, report progress, complete, fail. State changes made by the
worker are conditional updates on (status, task_id), so a cancel racing a finishing job, or a stale redelivered
message, can never overwrite the newer state.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.config import QUEUE_TRANSLATION
from app.core.errors import InvalidJobState, ResourceNotFound, ServiceUnavailable
from app.db.base import utcnow
from app.db.uow import after_commit
from app.models.job import Job, JobKind, JobStatus
from app.pipelines.hooks import Progress
from app.services.dispatch import TaskDispatcher

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskRoute:
    task_name: str
    queue: str


TASK_ROUTES: dict[JobKind, TaskRoute] = {
    JobKind.TRANSCRIPTION: TaskRoute("app.workers.transcription.transcribe", QUEUE_TRANSLATION),
}


@dataclass(frozen=True)
class JobOutcome:
    """What a finished pipeline hands back: a small JSON summary and the stored outputs by name."""

    result: dict[str, Any]
    artifacts: dict[str, str]


def output_prefix(job: Job) -> str:
    """Where one attempt of a job writes its outputs; a retry never overwrites a previous attempt's files."""
    return f"users/{job.owner_id}/jobs/{job.id}/attempt-{job.attempts}"


class JobNotFound(ResourceNotFound):
    default_message = "Job not found"


class JobService:
    # --- API side -------------------------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        dispatcher: TaskDispatcher,
        *,
        owner_id: int,
        kind: JobKind,
        params: dict[str, Any],
        input_key: str | None = None,
        input_filename: str | None = None,
        batch_id: str | None = None,
    ) -> Job:
        job = Job(
            owner_id=owner_id,
            kind=kind,
            status=JobStatus.PENDING,
            progress=0.0,
            params=params,
            input_key=input_key,
            input_filename=input_filename,
            artifacts={},
            attempts=0,
            batch_id=batch_id,
        )
        session.add(job)
        session.flush()
        self._enqueue(session, dispatcher, job)
        return job

    def get(self, session: Session, *, owner_id: int, job_id: int, kind: JobKind | None = None) -> Job:
        job = session.get(Job, job_id)
        if job is None or job.owner_id != owner_id or (kind is not None and job.kind != kind):
            raise JobNotFound(details={"job_id": job_id})
        return job

    def list(
        self,
        session: Session,
        *,
        owner_id: int,
        kind: JobKind | None = None,
        status: JobStatus | None = None,
        batch_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        query = select(Job).where(Job.owner_id == owner_id)
        if kind is not None:
            query = query.where(Job.kind == kind)
        if status is not None:
            query = query.where(Job.status == status)
        if batch_id is not None:
            query = query.where(Job.batch_id == batch_id)
        count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        jobs = session.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset)).all()
        return list(jobs), count

    def cancel(self, session: Session, *, owner_id: int, job_id: int, kind: JobKind | None = None) -> Job:
        """Cancel a pending or running job. A running one stops at its next progress report."""
        job = self.get(session, owner_id=owner_id, job_id=job_id, kind=kind)
        if job.status == JobStatus.CANCELLED:
            return job
        if job.job_status.is_terminal:
            raise InvalidJobState(f"A {job.status} job cannot be cancelled", details={"status": job.status})
        job.status = JobStatus.CANCELLED
        job.eta_seconds = None
        job.completed_at = utcnow()
        return job

    def retry(
        self,
        session: Session,
        dispatcher: TaskDispatcher,
        *,
        owner_id: int,
        job_id: int,
        kind: JobKind | None = None,
    ) -> Job:
        """Run a failed or cancelled job again from its stored input, as a new attempt."""
        job = self.get(session, owner_id=owner_id, job_id=job_id, kind=kind)
        if job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise InvalidJobState(
                f"Only failed or cancelled jobs can be retried; this one is {job.status}",
                details={"status": job.status},
            )
        job.status = JobStatus.PENDING
        job.progress = 0.0
        job.step = None
        job.eta_seconds = None
        job.error_code = None
        job.error_message = None
        job.result = None
        job.started_at = None
        job.completed_at = None
        self._enqueue(session, dispatcher, job)
        return job

    def _enqueue(self, session: Session, dispatcher: TaskDispatcher, job: Job) -> None:
        route = TASK_ROUTES[JobKind(job.kind)]
        job.task_id = str(uuid.uuid4())
        task_id, job_id = job.task_id, job.id

        def send() -> None:
            try:
                dispatcher.send(route.task_name, job_id, queue=route.queue, task_id=task_id)
            except Exception as exc:
                logger.exception("could not enqueue job %s", job_id)
                self._mark_failed(session, job_id, "QUEUE_UNAVAILABLE", "The job could not be queued; retry it")
                session.commit()
                raise ServiceUnavailable(
                    "The job queue is unavailable; the job was recorded as failed and can be retried",
                    details={"job_id": job_id},
                ) from exc

        after_commit(session, send)

    # --- worker side ----------------------------------------------------------------------------------------

    def claim(self, session: Session, *, job_id: int, task_id: str) -> Job | None:
        """Mark the job as processing for this task; ``None`` when the message is stale or the job is finished.

        A job already ``processing`` under the same task id is claimed again: its worker died and the broker
        redelivered the message.
        """
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            logger.warning("job %s no longer exists; dropping task %s", job_id, task_id)
            return None
        if job.task_id != task_id or job.status not in (JobStatus.PENDING, JobStatus.PROCESSING):
            logger.info("job %s is %s under task %s; ignoring task %s", job_id, job.status, job.task_id, task_id)
            return None
        job.status = JobStatus.PROCESSING
        job.started_at = utcnow()
        job.attempts += 1
        job.progress = 0.0
        job.step = "starting"
        job.eta_seconds = None
        return job

    def report_progress(self, session: Session, *, job_id: int, task_id: str, progress: Progress) -> bool:
        """Record progress; ``False`` when the job is no longer ours to run (cancelled, or retried elsewhere)."""
        updated = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.task_id == task_id, Job.status == JobStatus.PROCESSING)
            .values(
                progress=progress.percent,
                step=progress.step,
                eta_seconds=progress.eta_seconds,
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(updated.rowcount)  # type: ignore[attr-defined]

    def complete(
        self,
        session: Session,
        *,
        job_id: int,
        task_id: str,
        result: dict[str, Any],
        artifacts: dict[str, str],
    ) -> bool:
        updated = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.task_id == task_id, Job.status == JobStatus.PROCESSING)
            .values(
                status=JobStatus.COMPLETED,
                progress=100.0,
                step="completed",
                eta_seconds=0.0,
                result=result,
                artifacts=artifacts,
                completed_at=utcnow(),
                updated_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(updated.rowcount)  # type: ignore[attr-defined]

    def fail(self, session: Session, *, job_id: int, task_id: str, error_code: str, message: str) -> bool:
        return self._mark_failed(session, job_id, error_code, message, task_id=task_id)

    def _mark_failed(
        self, session: Session, job_id: int, error_code: str, message: str, *, task_id: str | None = None
    ) -> bool:
        query = update(Job).where(Job.id == job_id, Job.status.in_([JobStatus.PENDING, JobStatus.PROCESSING]))
        if task_id is not None:
            query = query.where(Job.task_id == task_id)
        updated = session.execute(
            query.values(
                status=JobStatus.FAILED,
                error_code=error_code,
                error_message=message,
                eta_seconds=None,
                completed_at=utcnow(),
                updated_at=utcnow(),
            ).execution_options(synchronize_session=False)
        )
        return bool(updated.rowcount)  # type: ignore[attr-defined]


job_service = JobService()
