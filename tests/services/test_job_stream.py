"""The embedded mode's job stream: a signalled change reaches the WebSocket without waiting for the next poll."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from app.db import uow
from app.services.job_stream import PollingJobStream
from app.services.jobs import job_service
from app.services.outbox import JobOutbox
from app.services.progress import SignalFilePublisher, job_event, signal_file
from tests.services.test_jobs import RecordingDispatcher, new_job, owner, sessions

__all__ = ["owner", "sessions"]  # fixtures: real PostgreSQL sessions and a user


def test_a_signalled_change_is_read_at_once(sessions: sessionmaker[Session], owner: int, tmp_path: Path) -> None:
    publisher = SignalFilePublisher(tmp_path / "signals")
    job = new_job(sessions, JobOutbox(RecordingDispatcher(), publisher), owner)
    assert signal_file(tmp_path / "signals", owner).is_file()  # creating the job signalled it
    # A poll interval far longer than the test's timeout: only the signal can deliver the change in time.
    stream = PollingJobStream(sessions, tmp_path / "signals", poll_seconds=600, signal_seconds=0.01)

    async def follow() -> list[str]:
        events = stream.events(owner, job.id)
        first = await anext(events)

        def start() -> None:
            with sessions() as session:
                claimed = job_service.claim(session, job_id=job.id, task_id=str(job.task_id), max_deliveries=3)
                uow.commit(session)
                assert claimed is not None
                publisher.publish(owner, job_event(claimed))

        await asyncio.to_thread(start)
        second = await asyncio.wait_for(anext(events), timeout=30)
        await events.aclose()
        return [first.status, second.status]

    assert asyncio.run(follow()) == ["pending", "processing"]


def test_a_failed_signal_never_fails_the_publisher(tmp_path: Path, sessions: sessionmaker[Session], owner: int) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the signal folder should be")
    job = new_job(sessions, JobOutbox(RecordingDispatcher(), SignalFilePublisher(blocked)), owner)
    assert job.id > 0
