"""Liveness of what the service depends on: the database, the broker and storage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery import Celery
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app import __version__
from app.core.config import QUEUE_TRANSLATION
from app.engines.device import gpu_available
from app.schemas.health import CheckResult, HealthPublic
from app.storage import Storage

logger = logging.getLogger(__name__)

BROKER_TIMEOUT_SECONDS = 3.0


def _timed(check: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:
        logger.warning("health check failed: %s", exc)
        return CheckResult(
            status="error",
            latency_ms=round(1000 * (time.perf_counter() - started), 1),
            error=type(exc).__name__,
        )
    return CheckResult(status="ok", latency_ms=round(1000 * (time.perf_counter() - started), 1))


class HealthService:
    def check(self, *, session_factory: sessionmaker[Session], celery: Celery, storage: Storage) -> HealthPublic:
        def database() -> None:
            with session_factory() as session:
                session.execute(text("SELECT 1"))

        def broker() -> None:
            with celery.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
                connection.default_channel.queue_declare(QUEUE_TRANSLATION, passive=False, durable=True)

        checks = {"database": _timed(database), "broker": _timed(broker), "storage": _timed(storage.check)}
        healthy = all(result.status == "ok" for result in checks.values())
        return HealthPublic(
            status="healthy" if healthy else "unhealthy",
            version=__version__,
            gpu_available=gpu_available(),
            checks=checks,
        )


health_service = HealthService()
