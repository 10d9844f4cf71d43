"""The job lifecycle, shared by every job kind.

API side: create (and enqueue after commit), read, list, cancel, retry — always scoped to the owner, so another
user's job is simply "not found". Worker side: claim, report progress, complete, fail.

Every state change is one conditional ``UPDATE`` on the row's current status (and, for the worker, on the task id
it was given), checked by its row count. So a cancel racing a finishing job, a retry racing a cancel, or a stale
or redelivered message can never overwrite a newer state — on PostgreSQL and SQLite alike.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.config import QUEUE_SPEAKER, QUEUE_TRANSLATION, QUEUE_VOICE
from app.core.errors import InvalidJobState, JobInputGone, ResourceNotFound
from app.db.base import utcnow
from app.models.job import Job, JobKind, JobStatus
from app.models.voice import VoiceProfile, VoiceUse
from app.pipelines.hooks import Progress
from app.services.outbox import JobOutbox

logger = logging.getLogger(__name__)

UNFINISHED = (JobStatus.PENDING, JobStatus.PROCESSING)
RETRYABLE = (JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class TaskRoute:
    task_name: str
    queue: str


TASK_ROUTES: dict[JobKind, TaskRoute] = {
    JobKind.TRANSCRIPTION: TaskRoute("app.workers.translation.transcribe", QUEUE_TRANSLATION),
    JobKind.TRANSLATION: TaskRoute("app.workers.translation.translate", QUEUE_TRANSLATION),
    JobKind.DIARIZATION: TaskRoute("app.workers.speaker.diarize", QUEUE_SPEAKER),
    JobKind.SPEAKER_EXTRACTION: TaskRoute("app.workers.speaker.extract", QUEUE_SPEAKER),
    JobKind.VOICE_CLONE: TaskRoute("app.workers.voice.clone", QUEUE_VOICE),
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


def _fresh_run() -> dict[str, Any]:
    """Column values that start a job over as pending under a new task id."""
    return {
        "status": JobStatus.PENDING,
        "task_id": str(uuid.uuid4()),
        "deliveries": 0,
        "progress": 0.0,
        "step": None,
        "eta_seconds": None,
        "error_code": None,
        "error_message": None,
        "result": None,
        "started_at": None,
        "completed_at": None,
        "updated_at": utcnow(),
    }


class JobService:
    # --- API side -------------------------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        outbox: JobOutbox,
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
            params=params,
            input_key=input_key,
            input_filename=input_filename,
            artifacts={},
            attempts=0,
            batch_id=batch_id,
            **_fresh_run(),
        )
        session.add(job)
        session.flush()
        self._enqueue(session, outbox, job)
        return job

    def get(self, session: Session, *, owner_id: int, job_id: int, kinds: Collection[JobKind] | None = None) -> Job:
        job = session.get(Job, job_id)
        if job is None or job.owner_id != owner_id or (kinds is not None and job.kind not in kinds):
            raise JobNotFound(details={"job_id": job_id})
        return job

    def list(
        self,
        session: Session,
        *,
        owner_id: int,
        kinds: Collection[JobKind] | None = None,
        status: JobStatus | None = None,
        batch_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[Job], int]:
        query = select(Job).where(Job.owner_id == owner_id)
        if kinds is not None:
            query = query.where(Job.kind.in_(list(kinds)))
        if status is not None:
            query = query.where(Job.status == status)
        if batch_id is not None:
            query = query.where(Job.batch_id == batch_id)
        count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        jobs = session.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset)).all()
        return list(jobs), count

    def artifact_key(self, job: Job, name: str) -> str:
        """The storage key of one output of a finished job (409 before it completes, 404 if it has none)."""
        if job.status != JobStatus.COMPLETED:
            raise InvalidJobState(f"The job is {job.status}; its outputs exist once it completes")
        key = job.artifacts.get(name)
        if key is None:
            raise ResourceNotFound(f"This job has no {name}")
        return key

    def cancel(
        self,
        session: Session,
        outbox: JobOutbox,
        *,
        owner_id: int,
        job_id: int,
        kinds: Collection[JobKind] | None = None,
    ) -> Job:
        """Cancel a pending or running job (idempotent). A running one stops at its next progress report."""
        job = self.get(session, owner_id=owner_id, job_id=job_id, kinds=kinds)
        now = utcnow()
        cancelled = self._transition(
            session, job, UNFINISHED, status=JobStatus.CANCELLED, eta_seconds=None, completed_at=now, updated_at=now
        )
        if cancelled:
            outbox.announce(session, job)
        elif job.status != JobStatus.CANCELLED:
            raise InvalidJobState(f"A {job.status} job cannot be cancelled", details={"status": job.status})
        return job

    def retry(
        self,
        session: Session,
        outbox: JobOutbox,
        *,
        owner_id: int,
        job_id: int,
        kinds: Collection[JobKind] | None = None,
        admit: Callable[[Job], None] | None = None,
    ) -> Job:
        """Run a failed or cancelled job again from its stored input, as a new attempt under a new task id.

        Args:
            admit: called once the job is known to be retryable, before it is queued; raising refuses the retry
                (the caller's rate limit), and the transaction is rolled back. A refused retry (404, 409) is never
                charged.
        """
        job = self.get(session, owner_id=owner_id, job_id=job_id, kinds=kinds)
        if job.status in RETRYABLE:
            self._check_voice_remains(session, job)
        if not self._transition(session, job, RETRYABLE, **_fresh_run()):
            raise InvalidJobState(
                f"Only failed or cancelled jobs can be retried; this one is {job.status}",
                details={"status": job.status},
            )
        if admit is not None:
            admit(job)
        if job.kind == JobKind.VOICE_CLONE:
            session.add(VoiceUse.of(job))
        self._enqueue(session, outbox, job)
        return job

    @staticmethod
    def _check_voice_remains(session: Session, job: Job) -> None:
        """A clone speaks with its voice profile: if the owner has deleted it since, the retry is refused now rather
        than failing again at once. (A diarization's known voices are optional: it names whichever remain.)"""
        if job.kind != JobKind.VOICE_CLONE:
            return
        voice_id = job.params["voice_id"]
        profile = session.get(VoiceProfile, voice_id)
        if profile is None or profile.owner_id != job.owner_id:
            raise JobInputGone(
                "The voice profile this job used has been deleted",
                details={"job_id": job.id, "voice_ids": [voice_id]},
            )

    def recover_orphans(self, session: Session, outbox: JobOutbox) -> int:
        """Queue every unfinished job again under a new task id; returns how many.

        For a single-host deployment starting up: no worker is running yet, so a job still ``processing`` lost its
        worker, and a ``pending`` one may have lost its message (a worker killed mid-task leaves the embedded
        broker's copy invisible). Old messages still in the queue carry the old task id and are ignored.
        """
        jobs = session.scalars(select(Job).where(Job.status.in_(UNFINISHED)).order_by(Job.id)).all()
        for job in jobs:
            if self._transition(session, job, UNFINISHED, **_fresh_run()):
                self._enqueue(session, outbox, job)
        return len(jobs)

    def _enqueue(self, session: Session, outbox: JobOutbox, job: Job) -> None:
        route = TASK_ROUTES[JobKind(job.kind)]
        job_id, task_id = job.id, str(job.task_id)

        def record_failure() -> Job | None:
            self.fail(
                session,
                job_id=job_id,
                task_id=task_id,
                error_code="QUEUE_UNAVAILABLE",
                message="The job could not be queued; retry it",
            )
            session.commit()
            return session.get(Job, job_id, populate_existing=True)

        outbox.enqueue(session, job, task_name=route.task_name, queue=route.queue, on_failure=record_failure)

    @staticmethod
    def _transition(session: Session, job: Job, allowed: tuple[JobStatus, ...], **values: Any) -> bool:
        """Apply ``values`` only if the row's status is still one of ``allowed``; refresh ``job`` either way."""
        updated = session.execute(
            update(Job)
            .where(Job.id == job.id, Job.status.in_(allowed))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        session.refresh(job)
        return bool(updated.rowcount)  # type: ignore[attr-defined]

    # --- worker side ----------------------------------------------------------------------------------------

    def claim(self, session: Session, *, job_id: int, task_id: str, max_deliveries: int) -> Job | None:
        """Mark the job as processing for this task; ``None`` when there is nothing to run.

        A job already ``processing`` under the same task id is claimed again: its worker died and the broker
        redelivered the message. After ``max_deliveries`` such deliveries the job fails instead, so an input that
        kills its worker (out of memory, a crashing codec) cannot loop forever.
        """
        now = utcnow()
        claimed = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.task_id == task_id,
                Job.status.in_(UNFINISHED),
                Job.deliveries < max_deliveries,
            )
            .values(
                status=JobStatus.PROCESSING,
                attempts=Job.attempts + 1,
                deliveries=Job.deliveries + 1,
                started_at=now,
                progress=0.0,
                step="starting",
                eta_seconds=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            return session.get(Job, job_id, populate_existing=True)
        if self.fail(
            session,
            job_id=job_id,
            task_id=task_id,
            error_code="WORKER_LOST",
            message=f"The worker running this job stopped {max_deliveries} times; retry it or use a smaller input",
        ):
            logger.error("job %s exhausted its %s deliveries", job_id, max_deliveries)
        else:
            logger.info("task %s of job %s is stale or finished; ignoring it", task_id, job_id)
        return None

    def report_progress(self, session: Session, *, job_id: int, task_id: str, progress: Progress) -> bool:
        """Record progress; ``False`` when the job is no longer ours to run (cancelled, or retried elsewhere)."""
        return self._worker_update(
            session,
            job_id,
            task_id,
            (JobStatus.PROCESSING,),
            progress=progress.percent,
            step=progress.step,
            eta_seconds=progress.eta_seconds,
        )

    def record_input(self, session: Session, *, job_id: int, task_id: str, input_key: str, filename: str) -> bool:
        """Remember an input the worker fetched (URL jobs), so a retry reuses it instead of downloading again."""
        return self._worker_update(
            session, job_id, task_id, (JobStatus.PROCESSING,), input_key=input_key, input_filename=filename[:255]
        )

    def complete(
        self, session: Session, *, job_id: int, task_id: str, result: dict[str, Any], artifacts: dict[str, str]
    ) -> bool:
        return self._worker_update(
            session,
            job_id,
            task_id,
            (JobStatus.PROCESSING,),
            status=JobStatus.COMPLETED,
            progress=100.0,
            step="completed",
            eta_seconds=0.0,
            result=result,
            artifacts=artifacts,
            completed_at=utcnow(),
        )

    def fail(self, session: Session, *, job_id: int, task_id: str, error_code: str, message: str) -> bool:
        return self._worker_update(
            session,
            job_id,
            task_id,
            UNFINISHED,
            status=JobStatus.FAILED,
            error_code=error_code,
            error_message=message,
            eta_seconds=None,
            completed_at=utcnow(),
        )

    @staticmethod
    def _worker_update(
        session: Session, job_id: int, task_id: str, allowed: tuple[JobStatus, ...], **values: Any
    ) -> bool:
        updated = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.task_id == task_id, Job.status.in_(allowed))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return bool(updated.rowcount)  # type: ignore[attr-defined]


job_service = JobService()
