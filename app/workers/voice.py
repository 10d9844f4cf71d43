"""Voice cloning tasks (``voice-queue``): load the job, run it, record the outcome."""

from __future__ import annotations

from typing import Any

from celery import Task

from app.core.celery_app import celery_app
from app.core.config import QUEUE_VOICE
from app.models.job import Job
from app.models.voice import VoiceProfile
from app.pipelines.hooks import ProgressHook
from app.services.jobs import JobOutcome
from app.services.voice import ProfileSnapshot, voice_service
from app.workers.context import WorkerContext
from app.workers.runner import JobTask, run_task


def _process(ctx: WorkerContext, job: Job, hook: ProgressHook) -> JobOutcome:
    def load_profile(voice_id: int) -> ProfileSnapshot | None:
        with ctx.session_factory() as session:
            profile = session.get(VoiceProfile, voice_id)
            if profile is None:
                return None
            return ProfileSnapshot(
                profile.id,
                profile.owner_id,
                profile.reference_key,
                profile.language,
                list(profile.embedding),
                dict(profile.conditioning or {}),
            )

    def save_conditioning(voice_id: int, engine: str, language: str, data: dict[str, Any]) -> None:
        with ctx.session_factory() as session:
            profile = session.get(VoiceProfile, voice_id, with_for_update=True)
            if profile is not None:
                merged = dict(profile.conditioning or {})
                merged[engine] = {**merged.get(engine, {}), language: data}
                profile.conditioning = merged
                session.commit()

    return voice_service.process(
        job,
        storage=ctx.storage,
        engines=ctx.engines,
        load_profile=load_profile,
        save_conditioning=save_conditioning,
        hook=hook,
    )


@celery_app.task(name="app.workers.voice.clone", base=JobTask, bind=True, queue=QUEUE_VOICE)
def clone(self: Task, job_id: int) -> None:
    run_task(self.request.id, job_id, step_weights=voice_service.step_weights, process=_process)
