"""Job lifecycle rules on real PostgreSQL: every transition is conditional, so races resolve to one winner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import InvalidJobState
from app.db import uow
from app.db.session import build_engine, build_session_factory
from app.models.job import Job, JobKind, JobStatus
from app.models.user import User
from app.pipelines.hooks import Progress
from app.schemas.job import JobEvent
from app.services.jobs import job_service
from app.services.outbox import JobOutbox, QueueUnavailable
from tests.utils import NullProgressPublisher


class RecordingDispatcher:
    """Stands in for the broker, recording what would be sent (or refusing, to test that path)."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.sent: list[tuple[str, int, str]] = []
        self.refuse = refuse

    def send(self, task_name: str, job_id: int, *, queue: str, task_id: str) -> None:
        if self.refuse:
            raise ConnectionError("broker down")
        self.sent.append((task_name, job_id, task_id))


@pytest.fixture
def sessions(clean_postgres: str) -> Iterator[sessionmaker[Session]]:
    engine = build_engine(clean_postgres)
    yield build_session_factory(engine)
    engine.dispose()


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def outbox(dispatcher: RecordingDispatcher) -> JobOutbox:
    return JobOutbox(dispatcher, NullProgressPublisher())


@pytest.fixture
def owner(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        user = User(email="owner@example.com", hashed_password="x", is_active=True)
        session.add(user)
        session.commit()
        return user.id


def new_job(sessions: sessionmaker[Session], outbox: JobOutbox, owner: int) -> Job:
    with sessions() as session:
        job = job_service.create(session, outbox, owner_id=owner, kind=JobKind.TRANSCRIPTION, params={})
        uow.commit(session)
        return job


def load(sessions: sessionmaker[Session], job_id: int) -> Job:
    with sessions() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_task_is_sent_only_after_commit(
    sessions: sessionmaker[Session], outbox: JobOutbox, dispatcher: RecordingDispatcher, owner: int
) -> None:
    with sessions() as session:
        job = job_service.create(session, outbox, owner_id=owner, kind=JobKind.TRANSCRIPTION, params={})
        assert dispatcher.sent == []
        uow.rollback(session)
    assert dispatcher.sent == []

    job = new_job(sessions, outbox, owner)
    assert dispatcher.sent == [("app.workers.translation.transcribe", job.id, job.task_id)]


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[int, JobEvent]] = []

    def publish(self, owner_id: int, event: JobEvent) -> None:
        self.events.append((owner_id, event))


def test_a_refusing_broker_fails_the_job_instead_of_stranding_it(sessions: sessionmaker[Session], owner: int) -> None:
    publisher = RecordingPublisher()
    outbox = JobOutbox(RecordingDispatcher(refuse=True), publisher)
    with sessions() as session:
        job = job_service.create(session, outbox, owner_id=owner, kind=JobKind.TRANSCRIPTION, params={})
        with pytest.raises(QueueUnavailable):
            uow.commit(session)
    failed = load(sessions, job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "QUEUE_UNAVAILABLE"
    # Followers hear the job was created, then that it failed: the last word they get is the truth.
    assert [(owner_id, event.status) for owner_id, event in publisher.events] == [
        (owner, JobStatus.PENDING),
        (owner, JobStatus.FAILED),
    ]


def test_cancel_loses_to_a_completion_that_landed_first(
    sessions: sessionmaker[Session], outbox: JobOutbox, owner: int
) -> None:
    job = new_job(sessions, outbox, owner)
    with sessions() as worker:
        assert job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=3) is not None
        worker.commit()
    with sessions() as api:
        stale_view = job_service.get(api, owner_id=owner, job_id=job.id)  # the API read "processing" ...
        assert stale_view.status == JobStatus.PROCESSING
        with sessions() as worker:  # ... then the worker finished
            assert job_service.complete(worker, job_id=job.id, task_id=str(job.task_id), result={}, artifacts={})
            worker.commit()
        with pytest.raises(InvalidJobState):
            job_service.cancel(api, outbox, owner_id=owner, job_id=job.id)
    assert load(sessions, job.id).status == JobStatus.COMPLETED


def test_a_cancelled_job_is_never_claimed_and_its_worker_stops(
    sessions: sessionmaker[Session], outbox: JobOutbox, owner: int
) -> None:
    job = new_job(sessions, outbox, owner)
    with sessions() as worker:
        job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=3)
        worker.commit()
    with sessions() as api:
        job_service.cancel(api, outbox, owner_id=owner, job_id=job.id)
        uow.commit(api)
    with sessions() as worker:
        progress = Progress(step="transcribing", percent=50.0, eta_seconds=3.0)
        assert not job_service.report_progress(worker, job_id=job.id, task_id=str(job.task_id), progress=progress)
        assert not job_service.complete(worker, job_id=job.id, task_id=str(job.task_id), result={}, artifacts={})
        assert job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=3) is None
        worker.commit()
    assert load(sessions, job.id).status == JobStatus.CANCELLED


def test_redelivery_after_a_lost_worker_is_capped(
    sessions: sessionmaker[Session], outbox: JobOutbox, owner: int
) -> None:
    job = new_job(sessions, outbox, owner)
    for delivery in (1, 2):
        with sessions() as worker:
            claimed = job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=2)
            worker.commit()
        assert claimed is not None and claimed.deliveries == delivery and claimed.attempts == delivery
    with sessions() as worker:
        assert job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=2) is None
        worker.commit()
    lost = load(sessions, job.id)
    assert lost.status == JobStatus.FAILED and lost.error_code == "WORKER_LOST"


def test_retry_gets_a_new_task_and_the_old_message_goes_stale(
    sessions: sessionmaker[Session], outbox: JobOutbox, dispatcher: RecordingDispatcher, owner: int
) -> None:
    job = new_job(sessions, outbox, owner)
    with sessions() as api:
        job_service.cancel(api, outbox, owner_id=owner, job_id=job.id)
        retried = job_service.retry(api, outbox, owner_id=owner, job_id=job.id)
        uow.commit(api)
    assert retried.task_id != job.task_id and retried.status == JobStatus.PENDING and retried.deliveries == 0
    assert [task_id for _, _, task_id in dispatcher.sent] == [job.task_id, retried.task_id]
    with sessions() as worker:
        assert job_service.claim(worker, job_id=job.id, task_id=str(job.task_id), max_deliveries=3) is None
        assert job_service.claim(worker, job_id=job.id, task_id=str(retried.task_id), max_deliveries=3) is not None
        worker.commit()


def test_recover_orphans_requeues_unfinished_jobs_under_new_task_ids(
    sessions: sessionmaker[Session], outbox: JobOutbox, dispatcher: RecordingDispatcher, owner: int
) -> None:
    running, waiting, done = (new_job(sessions, outbox, owner) for _ in range(3))
    with sessions() as worker:
        job_service.claim(worker, job_id=running.id, task_id=str(running.task_id), max_deliveries=3)
        job_service.claim(worker, job_id=done.id, task_id=str(done.task_id), max_deliveries=3)
        job_service.complete(worker, job_id=done.id, task_id=str(done.task_id), result={}, artifacts={})
        worker.commit()
    dispatcher.sent.clear()

    with sessions() as session:
        assert job_service.recover_orphans(session, outbox) == 2
        uow.commit(session)

    requeued = {job_id: task_id for _, job_id, task_id in dispatcher.sent}
    assert set(requeued) == {running.id, waiting.id}
    for job in (running, waiting):
        reloaded = load(sessions, job.id)
        assert reloaded.status == JobStatus.PENDING and reloaded.task_id == requeued[job.id] != job.task_id
    assert load(sessions, done.id).status == JobStatus.COMPLETED
