"""The Celery application: ``celery -A app.core.celery_app worker -Q translation-queue``.

Tasks carry job ids only and never return results (the job row is the result). Messages are acknowledged after the
task finishes (``acks_late``) and re-queued if the worker process dies (``reject_on_worker_lost``); tasks are
idempotent against their job row, so a redelivered message never runs finished work twice.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.entity import Queue

from app.core.broker import EMBEDDED_PREFIX
from app.core.broker import TRANSPORT as EMBEDDED_TRANSPORT
from app.core.config import ALL_QUEUES, QUEUE_TRANSLATION, Settings, get_settings

TASK_MODULES = ["app.workers.translation", "app.workers.speaker", "app.workers.voice"]


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_is_embedded:
        # Passed to SQLAlchemy's create_engine by kombu: wait for SQLite's write lock instead of failing.
        return {"connect_args": {"timeout": 30}}
    return {"visibility_timeout": settings.broker_visibility_timeout_seconds}


def create_celery(settings: Settings) -> Celery:
    broker_url, transport = settings.broker_url, None
    if settings.broker_is_embedded:
        broker_url, transport = broker_url.removeprefix(EMBEDDED_PREFIX), EMBEDDED_TRANSPORT
    app = Celery("audio_api", broker=broker_url, include=TASK_MODULES)
    app.conf.update(
        broker_transport=transport,
        broker_transport_options=broker_transport_options(settings),
        broker_connection_retry_on_startup=True,
        task_queues=[Queue(name) for name in ALL_QUEUES],
        task_default_queue=QUEUE_TRANSLATION,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_store_errors_even_if_ignored=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=settings.job_soft_time_limit_seconds,
        task_time_limit=settings.job_time_limit_seconds,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        timezone="UTC",
    )
    return app


celery_app = create_celery(get_settings())
