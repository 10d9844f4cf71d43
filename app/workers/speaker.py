"""Speaker analysis tasks (``speaker-queue``): load the job, run it, record the outcome."""

from __future__ import annotations

import numpy as np
from celery import Task
from sqlalchemy import select

from app.core.celery_app import celery_app
from app.core.config import QUEUE_SPEAKER
from app.models.job import Job
from app.models.voice import VoiceProfile
from app.pipelines.hooks import ProgressHook
from app.pipelines.naming import KnownVoice
from app.services.jobs import JobOutcome
from app.services.speaker import speaker_service
from app.workers.context import WorkerContext
from app.workers.runner import JobTask, run_task


def _process(ctx: WorkerContext, job: Job, hook: ProgressHook) -> JobOutcome:
    def load_voices(voice_ids: list[int]) -> list[KnownVoice]:
        with ctx.session_factory() as session:
            profiles = session.scalars(
                select(VoiceProfile).where(VoiceProfile.id.in_(voice_ids), VoiceProfile.owner_id == job.owner_id)
            )
            return [KnownVoice(p.id, p.name, np.asarray(p.embedding, dtype=np.float32)) for p in profiles]

    return speaker_service.process(
        job,
        storage=ctx.storage,
        engines=ctx.engines,
        limits=ctx.limits,
        load_voices=load_voices,
        hook=hook,
    )


@celery_app.task(name="app.workers.speaker.diarize", base=JobTask, bind=True, queue=QUEUE_SPEAKER)
def diarize(self: Task, job_id: int) -> None:
    run_task(self.request.id, job_id, step_weights=speaker_service.step_weights, process=_process)


@celery_app.task(name="app.workers.speaker.extract", base=JobTask, bind=True, queue=QUEUE_SPEAKER)
def extract(self: Task, job_id: int) -> None:
    run_task(self.request.id, job_id, step_weights=speaker_service.step_weights, process=_process)
