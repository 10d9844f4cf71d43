"""Transcription and translation tasks (``translation-queue``): load the job, run it, record the outcome."""

from __future__ import annotations

from celery import Task

from app.core.celery_app import celery_app
from app.core.config import QUEUE_TRANSLATION
from app.models.job import Job
from app.pipelines.hooks import ProgressHook
from app.services.jobs import JobOutcome, job_service
from app.services.translation import translation_service
from app.workers.context import WorkerContext
from app.workers.runner import JobCancelled, JobTask, run_task


def _run(task_id: str, job_id: int) -> None:
    run_task(
        task_id,
        job_id,
        step_weights=translation_service.step_weights,
        process=lambda ctx, job, hook: _process(ctx, task_id, job, hook),
    )


def _process(ctx: WorkerContext, task_id: str, job: Job, hook: ProgressHook) -> JobOutcome:
    def record_input(key: str, filename: str) -> None:
        with ctx.session_factory() as session:
            recorded = job_service.record_input(
                session, job_id=job.id, task_id=task_id, input_key=key, filename=filename
            )
            session.commit()
        if not recorded:  # cancelled (or retried) during the download: the file belongs to nobody
            ctx.storage.delete(key)
            raise JobCancelled()

    return translation_service.process(
        job,
        storage=ctx.storage,
        engines=ctx.engines,
        catalog=ctx.catalog,
        limits=ctx.limits,
        record_input=record_input,
        hook=hook,
    )


@celery_app.task(name="app.workers.translation.transcribe", base=JobTask, bind=True, queue=QUEUE_TRANSLATION)
def transcribe(self: Task, job_id: int) -> None:
    _run(self.request.id, job_id)


@celery_app.task(name="app.workers.translation.translate", base=JobTask, bind=True, queue=QUEUE_TRANSLATION)
def translate(self: Task, job_id: int) -> None:
    _run(self.request.id, job_id)
