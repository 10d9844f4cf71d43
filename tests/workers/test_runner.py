"""The worker's job runner against real PostgreSQL, Redis pub/sub, local storage and the bundled Whisper model.

Tasks are called directly (no broker); the broker path is covered by tests/integration.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery.exceptions import TimeLimitExceeded
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from app.core.config import Settings
from app.core.errors import InvalidAudio
from app.models.job import Job, JobKind, JobStatus
from app.pipelines.hooks import ProgressHook
from app.pipelines.transcription import STEP_WEIGHTS
from app.services.jobs import JobOutcome, job_service, output_prefix
from app.services.outbox import JobOutbox
from app.services.progress import channel_for
from app.services.translation import translation_service
from app.workers.context import WorkerContext, build_worker_context
from app.workers.runner import record_unhandled_failure, run_job
from tests.utils import NullProgressPublisher


class RecordingDispatcher:
    """Stands in for the broker: these tests run tasks by calling them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, str]] = []

    def send(self, task_name: str, job_id: int, *, queue: str, task_id: str) -> None:
        self.sent.append((task_name, job_id, task_id))


@pytest.fixture
def ctx(settings: Settings) -> WorkerContext:
    return build_worker_context(settings)


@pytest.fixture
def owner_id(client: TestClient) -> int:
    response = client.post(
        "/api/v1/auth/register", json={"email": f"{uuid.uuid4().hex}@example.com", "password": "x" * 12}
    )
    return int(response.json()["id"])


def make_job(ctx: WorkerContext, owner_id: int, source: Path | bytes) -> Job:
    key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/input.flac"
    ctx.storage.save(key, [source.read_bytes() if isinstance(source, Path) else source])
    with ctx.session_factory() as session:
        job = job_service.create(
            session,
            JobOutbox(RecordingDispatcher(), NullProgressPublisher()),
            owner_id=owner_id,
            kind=JobKind.TRANSCRIPTION,
            params={"source_language": None},
            input_key=key,
            input_filename="input.flac",
        )
        session.commit()
        return job


def run_transcription(ctx: WorkerContext, job: Job, task_id: str | None = None) -> None:
    run_job(
        ctx,
        job_id=job.id,
        task_id=task_id or str(job.task_id),
        step_weights=translation_service.step_weights,
        process=lambda j, hook: translation_service.process(
            j,
            storage=ctx.storage,
            engines=ctx.engines,
            catalog=ctx.catalog,
            limits=ctx.limits,
            record_input=_no_fetch,
            hook=hook,
        ),
    )


def _no_fetch(key: str, filename: str) -> None:
    raise AssertionError("these jobs have uploaded inputs; nothing should be fetched")


def reload(ctx: WorkerContext, job_id: int) -> Job:
    with ctx.session_factory() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


@pytest.fixture
def published(settings: Settings, owner_id: int) -> Iterator[list[dict[str, object]]]:
    """Every event published on the owner's channel while the test runs."""
    assert settings.redis_url is not None
    pubsub = redis.Redis.from_url(settings.redis_url).pubsub()  # type: ignore[no-untyped-call]
    pubsub.subscribe(channel_for(owner_id))
    events: list[dict[str, object]] = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            message = pubsub.get_message(timeout=0.1)
            if message and message["type"] == "message":
                events.append(json.loads(message["data"]))

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    yield events
    stop.set()
    thread.join()
    pubsub.close()


def test_transcription_job_completes_with_every_format(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path, published: list[dict[str, object]]
) -> None:
    job = make_job(ctx, owner_id, testdata_dir / "jfk.flac")
    run_transcription(ctx, job)

    done = reload(ctx, job.id)
    assert done.status == JobStatus.COMPLETED and done.progress == 100.0 and done.attempts == 1
    assert done.result is not None and done.result["detected_language"] == "en"
    assert set(done.artifacts) == {"transcript.txt", "transcript.srt", "transcript.vtt", "transcript.json"}
    text = b"".join(ctx.storage.iter_bytes(done.artifacts["transcript.txt"])).decode().lower()
    assert "ask not what your country can do for you" in text
    document = json.loads(b"".join(ctx.storage.iter_bytes(done.artifacts["transcript.json"])))
    assert all(segment["words"] for segment in document["segments"])
    assert b"".join(ctx.storage.iter_bytes(done.artifacts["transcript.srt"])).startswith(b"1\n00:00:")

    statuses = [event["status"] for event in published]
    assert statuses[0] == "processing" and statuses[-1] == "completed"
    steps = [event["details"]["step"] for event in published]  # type: ignore[index]
    ordered = list(dict.fromkeys(step for step in steps if step))
    assert ordered.index("decoding") < ordered.index("detecting_speech") < ordered.index("formatting")
    assert "transcribing" in steps
    progress = [float(event["progress"]) for event in published]  # type: ignore[arg-type]
    assert progress == sorted(progress) and progress[-1] == 100.0


def test_redelivered_or_stale_messages_do_not_run_again(ctx: WorkerContext, owner_id: int, testdata_dir: Path) -> None:
    job = make_job(ctx, owner_id, testdata_dir / "jfk.flac")
    run_job(ctx, job_id=job.id, task_id="some-other-task", step_weights=lambda job: STEP_WEIGHTS, process=_must_not_run)
    assert reload(ctx, job.id).status == JobStatus.PENDING

    run_transcription(ctx, job)
    finished = reload(ctx, job.id)
    run_job(ctx, job_id=job.id, task_id=str(job.task_id), step_weights=lambda job: STEP_WEIGHTS, process=_must_not_run)
    again = reload(ctx, job.id)
    assert again.status == JobStatus.COMPLETED and again.attempts == 1 and again.completed_at == finished.completed_at

    run_job(ctx, job_id=10**9, task_id="x", step_weights=lambda job: STEP_WEIGHTS, process=_must_not_run)  # deleted job


def _must_not_run(job: Job, hook: ProgressHook) -> JobOutcome:
    raise AssertionError("a stale message ran its job")


def test_cancelling_a_running_job_stops_it_and_discards_outputs(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path
) -> None:
    job = make_job(ctx, owner_id, testdata_dir / "jfk.flac")

    def process(running: Job, hook: ProgressHook) -> JobOutcome:
        partial = f"users/{owner_id}/jobs/{running.id}/attempt-{running.attempts}/partial.txt"
        ctx.storage.save(partial, [b"half done"])
        hook("transcribing", completed=1, total=10)
        with ctx.session_factory() as session:
            job_service.cancel(
                session, JobOutbox(RecordingDispatcher(), NullProgressPublisher()), owner_id=owner_id, job_id=running.id
            )
            session.commit()
        hook("formatting", completed=0, total=1)
        raise AssertionError("the pipeline kept running after its job was cancelled")

    run_job(ctx, job_id=job.id, task_id=str(job.task_id), step_weights=lambda job: STEP_WEIGHTS, process=process)
    cancelled = reload(ctx, job.id)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.error_code is None
    assert not ctx.storage.exists(f"users/{owner_id}/jobs/{job.id}/attempt-1/partial.txt")


def test_undecodable_input_fails_with_its_error_code(ctx: WorkerContext, owner_id: int) -> None:
    job = make_job(ctx, owner_id, b"RIFF....WAVEfmt garbage that only looks like a header" * 20)
    run_transcription(ctx, job)
    failed = reload(ctx, job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == InvalidAudio.error_code
    assert failed.artifacts == {} and failed.completed_at is not None


def test_unexpected_errors_fail_the_job_without_leaking_internals(ctx: WorkerContext, owner_id: int) -> None:
    job = make_job(ctx, owner_id, b"unused")

    def process(running: Job, hook: ProgressHook) -> JobOutcome:
        raise KeyError("/secret/internal/path")

    run_job(ctx, job_id=job.id, task_id=str(job.task_id), step_weights=lambda job: STEP_WEIGHTS, process=process)
    failed = reload(ctx, job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "PROCESSING_ERROR"
    assert failed.error_message is not None and "secret" not in failed.error_message


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TimeLimitExceeded(21900), "TIME_LIMIT_EXCEEDED"),
        (OperationalError("UPDATE jobs", {}, Exception()), "PROCESSING_ERROR"),
    ],
)
def test_a_task_that_ends_without_an_outcome_still_fails_its_job(
    ctx: WorkerContext, owner_id: int, published: list[dict[str, object]], exc: BaseException, code: str
) -> None:
    """The hard time limit kills a task before ``run_job`` can record anything, and a database that goes away can
    make recording the outcome itself fail: the task's failure handler fails the job instead of leaving it
    ``processing`` for ever, and drops what the run had written."""
    job = make_job(ctx, owner_id, b"unused")
    with ctx.session_factory() as session:
        assert job_service.claim(session, job_id=job.id, task_id=str(job.task_id), max_deliveries=3) is not None
        session.commit()
    partial = f"{output_prefix(reload(ctx, job.id))}/transcript.txt"
    ctx.storage.save(partial, [b"half a transcript"])

    record_unhandled_failure(ctx, job_id=job.id, task_id=str(job.task_id), exc=exc)

    failed = reload(ctx, job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == code and failed.completed_at is not None
    assert not ctx.storage.exists(partial)
    deadline = time.monotonic() + 5
    while not any(event.get("status") == "failed" for event in published) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(event["job_id"] == job.id and event["status"] == "failed" for event in published)
    # Once failed, a late duplicate report changes nothing.
    record_unhandled_failure(ctx, job_id=job.id, task_id=str(job.task_id), exc=exc)
    assert reload(ctx, job.id).error_code == code
