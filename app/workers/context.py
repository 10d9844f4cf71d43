"""What a worker process needs, built once per process from the environment's settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings, get_settings
from app.db.session import build_engine, build_session_factory
from app.engines.registry import EngineRegistry
from app.ingest import UrlPolicy
from app.services.catalog import LanguageCatalog
from app.services.downloads import download_signer
from app.services.progress import ProgressPublisher, build_publisher
from app.services.translation import ProcessingLimits
from app.storage import Storage, build_storage


@dataclass(frozen=True)
class WorkerContext:
    settings: Settings
    session_factory: sessionmaker[Session]
    storage: Storage
    publisher: ProgressPublisher
    engines: EngineRegistry
    catalog: LanguageCatalog

    @property
    def limits(self) -> ProcessingLimits:
        settings = self.settings
        return ProcessingLimits(
            beam_size=settings.whisper_beam_size,
            batch_size=settings.whisper_batch_size,
            max_bytes=settings.max_upload_bytes,
            max_duration_seconds=settings.max_media_duration_seconds,
            url_policy=UrlPolicy(settings.url_fetch_allowed_networks),
            url_timeout_seconds=settings.url_fetch_timeout_seconds,
        )


def build_worker_context(settings: Settings) -> WorkerContext:
    return WorkerContext(
        settings=settings,
        session_factory=build_session_factory(build_engine(settings.sqlalchemy_url)),
        storage=build_storage(settings, download_signer(settings)),
        publisher=build_publisher(settings.redis_url, settings.signal_dir),
        engines=EngineRegistry(settings),
        catalog=LanguageCatalog(settings),
    )


@cache
def worker_context() -> WorkerContext:
    return build_worker_context(get_settings())
