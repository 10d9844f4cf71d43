"""Transcription tasks (``translation-queue``)."""

from __future__ import annotations

from celery import Task

from app.core.celery_app import celery_app
from app.core.config import QUEUE_TRANSLATION
from app.pipelines.transcription import STEP_WEIGHTS
from app.services.transcription import transcription_service
from app.workers.context import worker_context
from app.workers.runner import run_job


@celery_app.task(name="app.workers.transcription.transcribe", bind=True, queue=QUEUE_TRANSLATION)
def transcribe(self: Task, job_id: int) -> None:
    ctx = worker_context()
    run_job(
        ctx,
        job_id=job_id,
        task_id=self.request.id,
        step_weights=STEP_WEIGHTS,
        process=lambda job, hook: transcription_service.process(
            job,
            storage=ctx.storage,
            transcriber=ctx.engines.transcriber(),
            beam_size=ctx.settings.whisper_beam_size,
            batch_size=ctx.settings.whisper_batch_size,
            hook=hook,
        ),
    )
