"""What leaves a transaction once it commits: queued tasks and job events.

Services never send a task or an event while their transaction is open — a worker could load a row that is not
committed yet, or a client could hear of a change that is then rolled back. They hand both to the outbox, which
defers them with ``after_commit``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.errors import ServiceUnavailable
from app.db.uow import after_commit
from app.models.job import Job
from app.services.dispatch import TaskDispatcher
from app.services.progress import ProgressPublisher, job_event

logger = logging.getLogger(__name__)


class QueueUnavailable(ServiceUnavailable):
    error_code = "QUEUE_UNAVAILABLE"
    default_message = "The job queue is unavailable; the job was recorded as failed and can be retried"


@dataclass(frozen=True)
class JobOutbox:
    dispatcher: TaskDispatcher
    publisher: ProgressPublisher

    def announce(self, session: Session, job: Job) -> None:
        """Publish the job's state as it will be once committed."""
        event = job_event(job)
        owner_id = job.owner_id
        after_commit(session, lambda: self.publisher.publish(owner_id, event))

    def enqueue(
        self, session: Session, job: Job, *, task_name: str, queue: str, on_failure: Callable[[], Job | None]
    ) -> None:
        """Send the job's task after commit; if the broker refuses it, ``on_failure`` records that in a new
        transaction (returning the failed job, which is announced after the pending one) and the caller gets a 503
        instead of a job that would wait forever."""
        job_id, task_id, owner_id = job.id, str(job.task_id), job.owner_id

        def send() -> None:
            try:
                self.dispatcher.send(task_name, job_id, queue=queue, task_id=task_id)
            except Exception as exc:
                logger.exception("could not enqueue job %s", job_id)
                failed = on_failure()
                if failed is not None:
                    self.publisher.publish(owner_id, job_event(failed))
                raise QueueUnavailable(details={"job_id": job_id}) from exc

        self.announce(session, job)
        after_commit(session, send)
