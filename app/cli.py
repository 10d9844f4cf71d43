"""Command line: ``audio-api serve | worker | migrate | run | recover | check-models``, and account commands.

``run`` is what ``make run`` calls: migrate, then supervise one API server and one worker consuming every queue,
on the embedded defaults unless the environment says otherwise. The scripts in ``scripts/`` wrap these commands.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from app.core.config import ALL_QUEUES, QUEUE_SPEAKER, QUEUE_TRANSLATION, QUEUE_VOICE, get_settings
from app.core.logging import configure_logging

cli = typer.Typer(help="audio-api: self-hosted audio AI service", no_args_is_help=True, add_completion=False)


@cli.callback()
def _gpu_visibility() -> None:
    """Export ``CUDA_VISIBLE_DEVICES`` from the settings (``.env`` included) before any command loads a model."""
    devices = get_settings().cuda_visible_devices
    if devices is not None:
        os.environ.setdefault("CUDA_VISIBLE_DEVICES", devices)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply database migrations (the only way the schema is created)."""
    from app.db.migrate import upgrade

    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.sqlalchemy_url, revision)
    typer.echo(f"database at {revision}")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default API_PORT)")] = None,
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development)")] = False,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    settings = get_settings()
    configure_logging("DEBUG" if settings.debug else "INFO")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
        log_config=None,
    )


@cli.command()
def worker(
    queues: Annotated[str, typer.Option(help="Comma-separated queues")] = ",".join(ALL_QUEUES),
    concurrency: Annotated[
        int | None, typer.Option(help="Processes (default: the queue's *_QUEUE_CONCURRENCY, or WORKER_CONCURRENCY)")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve this worker host's Prometheus metrics on this port")
    ] = None,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Run a Celery worker."""
    from app.core.celery_app import celery_app

    settings = get_settings()
    configure_logging(loglevel)
    if metrics_port is not None:
        from app.core.metrics import serve_metrics

        serve_metrics(metrics_port)
    per_queue = {
        QUEUE_VOICE: settings.voice_queue_concurrency,
        QUEUE_TRANSLATION: settings.translation_queue_concurrency,
        QUEUE_SPEAKER: settings.speaker_queue_concurrency,
    }
    default_concurrency = per_queue.get(queues, settings.worker_concurrency)
    celery_app.worker_main(
        [
            "worker",
            f"--queues={queues}",
            f"--concurrency={concurrency or default_concurrency}",
            f"--loglevel={loglevel}",
            f"--hostname=audio-api-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ]
    )


@cli.command()
def recover() -> None:
    """Queue every unfinished job again (for a single-host deployment starting with no worker running)."""
    from app.core.celery_app import create_celery
    from app.db import uow
    from app.db.session import build_engine, build_session_factory
    from app.services.dispatch import CeleryTaskDispatcher
    from app.services.jobs import job_service
    from app.services.outbox import JobOutbox
    from app.services.progress import build_publisher

    settings = get_settings()
    outbox = JobOutbox(
        CeleryTaskDispatcher(create_celery(settings)), build_publisher(settings.redis_url, settings.signal_dir)
    )
    engine = build_engine(settings.sqlalchemy_url)
    with build_session_factory(engine)() as session:
        count = job_service.recover_orphans(session, outbox)
        uow.commit(session)
    engine.dispose()
    typer.echo(f"requeued {count} unfinished job(s)")


def _set_account_active(email: str, active: bool) -> None:
    from app.core.errors import ResourceNotFound
    from app.db import uow
    from app.db.session import build_engine, build_session_factory
    from app.services.users import user_service

    engine = build_engine(get_settings().sqlalchemy_url)
    try:
        with build_session_factory(engine)() as session:
            user = user_service.set_active(session, email=email, active=active)
            uow.commit(session)
            typer.echo(f"{user.email}: {'active' if active else 'deactivated'}")
    except ResourceNotFound as missing:
        typer.echo(f"{missing.message}: {email}", err=True)
        raise typer.Exit(1) from missing
    finally:
        engine.dispose()


@cli.command("deactivate-user")
def deactivate_user(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """Stop an account at once: it can no longer sign in, its tokens and open progress streams stop working
    (streams within ``PROGRESS_ACCOUNT_CHECK_SECONDS``), its jobs and files stay."""
    _set_account_active(email, active=False)


@cli.command("activate-user")
def activate_user(email: Annotated[str, typer.Argument(help="The account's email")]) -> None:
    """Let a deactivated account sign in again."""
    _set_account_active(email, active=True)


@cli.command("check-models")
def check_models() -> None:
    """Assemble and load the configured models once, so a broken model setup shows before the first job."""
    from app.engines.registry import EngineRegistry

    settings = get_settings()
    configure_logging("INFO")
    transcriber = EngineRegistry(settings).transcriber()
    typer.echo(f"ok: {transcriber.name}")


def _prepare_metrics_dir(data_dir: Path) -> str:
    metrics_dir = data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)  # counts from a previous run belong to dead processes
    metrics_dir.mkdir(parents=True)
    return str(metrics_dir.resolve())


@cli.command()
def run() -> None:
    """Migrate, then run the API and a worker for every queue until interrupted."""
    settings = get_settings()
    configure_logging("INFO")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate()
    recover()
    env = dict(os.environ)
    env.setdefault("PROMETHEUS_MULTIPROC_DIR", _prepare_metrics_dir(settings.data_dir))
    command = [sys.executable, "-m", "app.cli"]
    children = [
        subprocess.Popen([*command, "worker"], env=env),
        subprocess.Popen([*command, "serve"], env=env),
    ]
    typer.echo(f"audio-api on http://{settings.api_host}:{settings.api_port} (docs at /docs); Ctrl+C stops it")

    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
    failed = [child.returncode for child in children if child.returncode not in (0, -signal.SIGTERM)]
    raise typer.Exit(1 if failed and not stopping else 0)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
