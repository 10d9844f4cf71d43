"""Job change events: one shape for every kind, published after each committed change.

With Redis configured, events go out on a per-owner pub/sub channel that WebSockets subscribe to. Without it (the
embedded mode, one host) a publish only touches the owner's signal file, and WebSockets, which read the job rows
themselves, watch that file's modification time to know when to read: a stat every few milliseconds instead of a
database query. The message shape is the same either way.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Protocol

import redis

from app.models.job import Job
from app.schemas.job import JobEvent

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "audio-api:jobs:"


def channel_for(owner_id: int) -> str:
    return f"{CHANNEL_PREFIX}{owner_id}"


def format_time_remaining(seconds: float | None) -> str | None:
    """``"1h 2m 5s"``, ``"30s"``; ``None`` while there is no estimate yet."""
    if seconds is None:
        return None
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] if hours else []
    if hours or minutes:
        parts.append(f"{minutes}m")
    parts.append(f"{secs}s")
    return " ".join(parts)


def job_event(job: Job) -> JobEvent:
    details: dict[str, object] = {"step": job.step, "time_remaining": format_time_remaining(job.eta_seconds)}
    if job.error_code:
        details["error"] = {"error_code": job.error_code, "message": job.error_message}
    return JobEvent(job_id=job.id, kind=job.kind, status=job.status, progress=job.progress, details=details)


class ProgressPublisher(Protocol):
    def publish(self, owner_id: int, event: JobEvent) -> None: ...


def signal_file(signal_dir: Path, owner_id: int) -> Path:
    """The file whose modification time changes whenever one of ``owner_id``'s jobs does (embedded mode)."""
    return signal_dir / str(owner_id)


class SignalFilePublisher:
    """The embedded mode: marks that the owner's jobs changed; subscribers then read the job rows themselves."""

    def __init__(self, signal_dir: Path) -> None:
        self._signal_dir = signal_dir

    def publish(self, owner_id: int, event: JobEvent) -> None:
        # Advisory, like Redis: subscribers also re-read on their own poll interval, so a failed touch loses nothing.
        try:
            self._signal_dir.mkdir(parents=True, exist_ok=True)
            path = signal_file(self._signal_dir, owner_id)
            path.touch()
            # An explicit nanosecond stamp: the kernel's own file times can repeat within one clock tick.
            now = time.time_ns()
            os.utime(path, ns=(now, now))
        except OSError:
            logger.warning("could not signal progress of job %s", event.job_id, exc_info=True)


class RedisProgressPublisher:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def publish(self, owner_id: int, event: JobEvent) -> None:
        # Progress is advisory: a lost message must never fail the job that sent it.
        try:
            self._client.publish(channel_for(owner_id), json.dumps(event.model_dump(mode="json")))
        except redis.RedisError:
            logger.warning("could not publish progress of job %s", event.job_id, exc_info=True)


def build_publisher(redis_url: str | None, signal_dir: Path) -> ProgressPublisher:
    if redis_url is None:
        return SignalFilePublisher(signal_dir)
    return RedisProgressPublisher(redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5))
