"""The one way a worker runs a job: claim it, run its pipeline with a progress hook, record the outcome.

Progress goes pipeline hook → ``StepProgress`` → job row (throttled) → published event. Every progress write is
also the cancellation check: once the row is no longer ``processing`` under this task, the job stops.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import psutil
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded

from app.core.errors import AppError
from app.core.metrics import JOB_SECONDS, JOBS_FINISHED, WORKER_RSS_BYTES
from app.models.job import Job, JobStatus
from app.pipelines.hooks import Progress, ProgressHook, StepProgress
from app.schemas.job import JobEvent
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.progress import format_time_remaining, job_event
from app.workers.context import WorkerContext, worker_context

logger = logging.getLogger(__name__)

WRITE_INTERVAL_SECONDS = 0.5


class JobCancelled(Exception):
    """Raised from the progress hook to unwind a pipeline whose job was cancelled."""


class JobProgressReporter:
    """Writes progress to the job row at most every ``WRITE_INTERVAL_SECONDS`` (and on every step change)."""

    def __init__(self, ctx: WorkerContext, job: Job, task_id: str) -> None:
        self._ctx = ctx
        self._job_id = job.id
        self._owner_id = job.owner_id
        self._kind = job.kind
        self._task_id = task_id
        self._last_write = 0.0
        self._last_step: str | None = None

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.step == self._last_step and now - self._last_write < WRITE_INTERVAL_SECONDS:
            return
        self._last_write, self._last_step = now, progress.step
        with self._ctx.session_factory() as session:
            still_ours = job_service.report_progress(
                session, job_id=self._job_id, task_id=self._task_id, progress=progress
            )
            session.commit()
        if not still_ours:
            raise JobCancelled()
        details = {"step": progress.step, "time_remaining": format_time_remaining(progress.eta_seconds)}
        event = JobEvent(
            job_id=self._job_id,
            kind=self._kind,
            status=JobStatus.PROCESSING,
            progress=progress.percent,
            details=details,
        )
        self._ctx.publisher.publish(self._owner_id, event)


def run_job(
    ctx: WorkerContext,
    *,
    job_id: int,
    task_id: str,
    step_weights: Callable[[Job], Mapping[str, float]],
    process: Callable[[Job, ProgressHook], JobOutcome],
) -> None:
    with ctx.session_factory() as session:
        job = job_service.claim(session, job_id=job_id, task_id=task_id, max_deliveries=ctx.settings.job_max_deliveries)
        session.commit()
        if job is None:
            return
    ctx.publisher.publish(job.owner_id, job_event(job))

    started = time.perf_counter()
    hook = StepProgress(step_weights(job), JobProgressReporter(ctx, job, task_id))
    status, error = JobStatus.FAILED, None
    outcome: JobOutcome | None = None
    try:
        outcome = process(job, hook)
        status = JobStatus.COMPLETED
    except JobCancelled:
        status = JobStatus.CANCELLED
        logger.info("job %s was cancelled while running", job_id)
    except AppError as exc:
        error = (exc.error_code, exc.message)
    except SoftTimeLimitExceeded:
        error = ("TIME_LIMIT_EXCEEDED", "The job ran past its time limit")
    except Exception:
        logger.exception("job %s failed", job_id)
        error = ("PROCESSING_ERROR", "Processing failed unexpectedly; retry the job or contact the operator")

    with ctx.session_factory() as session:
        if outcome is not None:
            recorded = job_service.complete(
                session, job_id=job_id, task_id=task_id, result=outcome.result, artifacts=outcome.artifacts
            )
        elif error is not None:
            recorded = job_service.fail(session, job_id=job_id, task_id=task_id, error_code=error[0], message=error[1])
        else:
            recorded = False
        if not recorded:  # cancelled (or retried) meanwhile: whatever this run produced belongs to nobody
            status = JobStatus.CANCELLED
        session.commit()
        final = session.get(Job, job_id)
    if status is not JobStatus.COMPLETED:
        _discard_outputs(ctx, job)
    _observe(job, status, time.perf_counter() - started)
    if final is not None:
        ctx.publisher.publish(final.owner_id, job_event(final))


def _observe(job: Job, status: JobStatus, seconds: float) -> None:
    WORKER_RSS_BYTES.labels("worker").set(psutil.Process().memory_info().rss)
    JOB_SECONDS.labels(job.kind, status.value).observe(seconds)
    JOBS_FINISHED.labels(job.kind, status.value).inc()


def record_unhandled_failure(ctx: WorkerContext, *, job_id: int, task_id: str, exc: BaseException) -> None:
    """Fail a job whose task ended without ``run_job`` recording an outcome, so that its row does not stay
    ``processing`` for ever: the hard time limit killed the task (this then runs in the worker's parent process), or
    recording the outcome itself failed (the database went away)."""
    if isinstance(exc, TimeLimitExceeded):
        error = ("TIME_LIMIT_EXCEEDED", "The job ran past its time limit and was stopped")
    else:
        error = ("PROCESSING_ERROR", "Processing failed unexpectedly; retry the job or contact the operator")
    with ctx.session_factory() as session:
        failed = job_service.fail(session, job_id=job_id, task_id=task_id, error_code=error[0], message=error[1])
        session.commit()
        job = session.get(Job, job_id)
    if not failed or job is None:
        return
    logger.error("job %s failed outside its run (%s)", job_id, error[0])
    _discard_outputs(ctx, job)
    if job.started_at is not None and job.completed_at is not None:
        _observe(job, JobStatus.FAILED, (job.completed_at - job.started_at).total_seconds())
    ctx.publisher.publish(job.owner_id, job_event(job))


class JobTask(Task):  # type: ignore[misc]
    """The base of every job task: a task that ends in an exception ``run_job`` could not catch still fails its
    job."""

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        job_id = kwargs.get("job_id", args[0] if args else None)
        if not isinstance(job_id, int):
            return
        try:
            record_unhandled_failure(worker_context(), job_id=job_id, task_id=task_id, exc=exc)
        except Exception:
            logger.exception("could not record the failure of job %s", job_id)


def run_task(
    task_id: str,
    job_id: int,
    *,
    step_weights: Callable[[Job], Mapping[str, float]],
    process: Callable[[WorkerContext, Job, ProgressHook], JobOutcome],
) -> None:
    """What every Celery task body does: run the job with this process's worker context."""
    ctx = worker_context()
    run_job(
        ctx,
        job_id=job_id,
        task_id=task_id,
        step_weights=step_weights,
        process=lambda job, hook: process(ctx, job, hook),
    )


def _discard_outputs(ctx: WorkerContext, job: Job) -> None:
    try:
        ctx.storage.delete_prefix(output_prefix(job))
    except Exception:
        logger.warning("could not delete the outputs of job %s's unfinished run", job.id, exc_info=True)
