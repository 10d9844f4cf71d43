"""The FastAPI application factory: ``uvicorn --factory app.main:create_app`` (``app.main:app`` also works)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import __version__
from app.api.errors import install_error_handlers
from app.api.middleware import BodySizeLimitMiddleware, MetricsMiddleware, UploadAuthGate
from app.api.ratelimit import RateLimiter
from app.api.routes import auth, files, health, jobs, metrics, speaker, translation, voice, ws
from app.core.celery_app import create_celery
from app.core.config import Settings, get_settings
from app.core.metrics import QueueCollector, ResourceCollector
from app.db.session import build_engine, build_session_factory
from app.engines.registry import EngineRegistry
from app.ingest import UrlPolicy
from app.models.job import Job, JobKind, JobStatus
from app.services.catalog import LanguageCatalog
from app.services.dispatch import CeleryTaskDispatcher
from app.services.downloads import download_signer
from app.services.job_stream import build_job_stream
from app.services.jobs import TASK_ROUTES
from app.services.outbox import JobOutbox
from app.services.progress import build_publisher
from app.services.progress_seats import build_progress_seats
from app.storage import build_storage


def _unique_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def _queue_counts(session_factory: sessionmaker[Session]) -> dict[tuple[str, str], int]:
    with session_factory() as session:
        rows = session.execute(
            select(Job.kind, Job.status, func.count())
            .where(Job.status.in_([JobStatus.PENDING, JobStatus.PROCESSING]))
            .group_by(Job.kind, Job.status)
        ).all()
    counts = {
        (route.queue, status.value): 0
        for route in TASK_ROUTES.values()
        for status in (JobStatus.PENDING, JobStatus.PROCESSING)
    }
    for kind, status, count in rows:
        key = (TASK_ROUTES[JobKind(kind)].queue, status)
        counts[key] = counts.get(key, 0) + count
    return counts


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = build_engine(settings.sqlalchemy_url)
    session_factory = build_session_factory(engine)
    celery = create_celery(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="audio-api",
        version=__version__,
        description="Self-hosted audio AI: transcription, translation, voice cloning and speaker analysis.",
        generate_unique_id_function=_unique_id,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.session_factory = session_factory
    app.state.celery = celery
    app.state.outbox = JobOutbox(CeleryTaskDispatcher(celery), build_publisher(settings.redis_url, settings.signal_dir))
    app.state.storage = build_storage(settings, download_signer(settings))
    app.state.catalog = LanguageCatalog(settings)
    app.state.engines = EngineRegistry(settings)  # loads models only on first use (voice-sample checks)
    app.state.url_policy = UrlPolicy(settings.url_fetch_allowed_networks)
    app.state.rate_limiter = RateLimiter(settings.limiter_storage_url)
    app.state.job_stream = build_job_stream(settings, session_factory)
    app.state.progress_seats = build_progress_seats(settings)
    app.state.metric_collectors = [
        QueueCollector(lambda: _queue_counts(session_factory)),
        ResourceCollector(),
    ]

    install_error_handlers(app)
    app.add_middleware(UploadAuthGate, secret_key=settings.secret_key)
    app.add_middleware(BodySizeLimitMiddleware, max_upload_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"], allow_headers=["*"]
        )
    app.add_middleware(MetricsMiddleware)

    api = APIRouter(prefix=settings.api_prefix)
    for module in (auth, voice, translation, speaker, jobs, files, health):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(ws.router)
    app.include_router(metrics.router)
    return app


def __getattr__(name: str) -> FastAPI:
    """``uvicorn app.main:app`` builds the app on first access, from the environment's settings."""
    if name == "app":
        return create_app()
    raise AttributeError(name)
