"""How services hand work to the queue: by task name and job id, through a small Protocol."""

from __future__ import annotations

from typing import Protocol

from celery import Celery


class TaskDispatcher(Protocol):
    def send(self, task_name: str, job_id: int, *, queue: str, task_id: str) -> None: ...


class CeleryTaskDispatcher:
    def __init__(self, celery: Celery) -> None:
        self._celery = celery

    def send(self, task_name: str, job_id: int, *, queue: str, task_id: str) -> None:
        self._celery.send_task(
            task_name,
            args=[job_id],
            queue=queue,
            task_id=task_id,
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2},
        )
