"""What a worker process needs, built once per process from the environment's settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings, get_settings
from app.db.session import build_engine, build_session_factory
from app.services.downloads import download_signer
from app.services.progress import ProgressPublisher, build_publisher
from app.storage import Storage, build_storage
from app.workers.engines import EngineRegistry


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    storage: Storage
    publisher: ProgressPublisher
    engines: EngineRegistry


def build_worker_context(settings: Settings) -> WorkerContext:
    return WorkerContext(
        settings=settings,
        session_factory=build_session_factory(build_engine(settings.sqlalchemy_url)),
        storage=build_storage(settings, download_signer(settings)),
        publisher=build_publisher(settings.redis_url),
        engines=EngineRegistry(settings),
    )


@cache
def worker_context() -> WorkerContext:
    return build_worker_context(get_settings())
