"""Live job events for one owner, as an async stream: what the WebSocket forwards.

Both sources start with a snapshot of the owner's unfinished jobs (or of the one job asked for), so a client that
connects late still sees where things stand, then yield every change:
- ``RedisJobStream`` (production): subscribes to the owner's pub/sub channel *before* taking the snapshot, so no
  change falls in between.
- ``PollingJobStream`` (embedded mode, no Redis): reads the owner's recently updated job rows whenever the owner's
  signal file changes (checked with one stat every ``progress_signal_seconds``), and every poll interval anyway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Protocol

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from app.core.config import Settings
from app.db.base import utcnow
from app.models.job import Job, JobStatus
from app.schemas.job import JobEvent
from app.services.progress import channel_for, job_event, signal_file

UNFINISHED = (JobStatus.PENDING, JobStatus.PROCESSING)


class JobStream(Protocol):
    def events(self, owner_id: int, job_id: int | None = None) -> AsyncIterator[JobEvent]: ...


def _snapshot(session_factory: sessionmaker[Session], owner_id: int, job_id: int | None) -> list[JobEvent]:
    query = select(Job).where(Job.owner_id == owner_id)
    query = query.where(Job.id == job_id) if job_id is not None else query.where(Job.status.in_(UNFINISHED))
    with session_factory() as session:
        return [job_event(job) for job in session.scalars(query.order_by(Job.id))]


def _signature(event: JobEvent) -> tuple[object, ...]:
    return (event.status, event.progress, event.details.get("step"), event.details.get("time_remaining"))


class PollingJobStream:
    def __init__(
        self, session_factory: sessionmaker[Session], signal_dir: Path, *, poll_seconds: float, signal_seconds: float
    ) -> None:
        self._session_factory = session_factory
        self._signal_dir = signal_dir
        self._poll_seconds = poll_seconds
        self._signal_seconds = signal_seconds

    def _signalled(self, owner_id: int) -> int:
        try:
            return signal_file(self._signal_dir, owner_id).stat().st_mtime_ns
        except OSError:
            return 0

    def _changed_since(self, owner_id: int, job_id: int | None, since: object) -> list[JobEvent]:
        query = select(Job).where(Job.owner_id == owner_id, Job.updated_at >= since)
        if job_id is not None:
            query = query.where(Job.id == job_id)
        with self._session_factory() as session:
            return [job_event(job) for job in session.scalars(query.order_by(Job.id))]

    async def events(self, owner_id: int, job_id: int | None = None) -> AsyncGenerator[JobEvent, None]:
        sent: dict[int, tuple[object, ...]] = {}
        # Clocks of the API and worker hosts may differ slightly: look back a little and de-duplicate.
        since = utcnow() - timedelta(seconds=2)
        seen = self._signalled(owner_id)  # before the snapshot, so no change falls in between
        for event in await run_in_threadpool(_snapshot, self._session_factory, owner_id, job_id):
            sent[event.job_id] = _signature(event)
            yield event
        while True:
            waited = 0.0
            while waited < self._poll_seconds and self._signalled(owner_id) == seen:
                await asyncio.sleep(self._signal_seconds)
                waited += self._signal_seconds
            seen = self._signalled(owner_id)
            now = utcnow()
            for event in await run_in_threadpool(self._changed_since, owner_id, job_id, since):
                if sent.get(event.job_id) != _signature(event):
                    sent[event.job_id] = _signature(event)
                    yield event
            since = now - timedelta(seconds=2)


class RedisJobStream:
    def __init__(self, redis_url: str, session_factory: sessionmaker[Session]) -> None:
        self._redis_url = redis_url
        self._session_factory = session_factory

    async def events(self, owner_id: int, job_id: int | None = None) -> AsyncIterator[JobEvent]:
        client = aioredis.Redis.from_url(self._redis_url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(channel_for(owner_id))
            for event in await run_in_threadpool(_snapshot, self._session_factory, owner_id, job_id):
                yield event
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                event = JobEvent.model_validate(json.loads(message["data"]))
                if job_id is None or event.job_id == job_id:
                    yield event
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()


def build_job_stream(settings: Settings, session_factory: sessionmaker[Session]) -> JobStream:
    if settings.redis_url is None:
        return PollingJobStream(
            session_factory,
            settings.signal_dir,
            poll_seconds=settings.progress_poll_seconds,
            signal_seconds=settings.progress_signal_seconds,
        )
    return RedisJobStream(settings.redis_url, session_factory)
