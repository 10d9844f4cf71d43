"""Service configuration.

One ``Settings`` object, read from the environment (and ``.env``), reaches code through FastAPI dependencies or
constructor arguments; nothing else reads ``os.environ``. The defaults describe the embedded mode that ``make run``
starts: a SQLite file, a local storage folder, a SQLite-backed Celery broker and the bundled CPU models, all under
``DATA_DIR``. Production swaps in PostgreSQL, Redis and S3 by setting the variables documented in ``.env.example``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-insecure-development-key"  # noqa: S105 - the placeholder production refuses

QUEUE_VOICE = "voice-queue"
QUEUE_TRANSLATION = "translation-queue"
QUEUE_SPEAKER = "speaker-queue"
ALL_QUEUES = (QUEUE_VOICE, QUEUE_TRANSLATION, QUEUE_SPEAKER)
S3_PRESIGN_MAX_SECONDS = 7 * 24 * 3600
"""S3 refuses presigned URLs that claim a longer lifetime."""
MAX_BATCH_JOBS = 200
"""Jobs one batch may hold: a batch view lists them all in one page."""


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class StorageBackend(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", use_attribute_docstrings=True
    )

    environment: Environment = Environment.DEVELOPMENT
    """``production`` refuses the placeholder secret key and hides debug detail."""
    debug: bool = False
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_prefix: str = "/api/v1"
    public_url: str | None = None
    """Scheme and host clients reach the API at (e.g. ``https://api.example.com``), used to make download links
    absolute; unset, local download links are relative to the API."""
    secret_key: str = DEFAULT_SECRET_KEY
    """Signs access tokens and local download links. Required (and not the placeholder) in production."""
    access_token_expire_minutes: int = Field(default=60, gt=0)
    download_url_expire_seconds: int = Field(default=3600, gt=0, le=S3_PRESIGN_MAX_SECONDS)
    """Lifetime of signed local download links and S3 presigned URLs (S3 honours at most seven days)."""

    data_dir: Path = Path("data")
    """Root of everything the embedded mode keeps on disk (database, broker, storage, model cache)."""

    database_url: str | None = None
    """Full SQLAlchemy URL. When unset: PostgreSQL from ``POSTGRES_*`` if ``POSTGRES_SERVER`` is set, else SQLite
    in ``DATA_DIR``."""
    postgres_server: str | None = None
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: str = ""
    postgres_db: str = "audio_processing"

    celery_broker_url: str | None = None
    """When unset: Redis from ``REDIS_HOST`` if set, else kombu's SQLAlchemy transport on a SQLite file (durable,
    needs no server)."""
    redis_host: str | None = None
    redis_port: int = 6379
    redis_db: int = 0
    redis_password: str | None = None

    storage_backend: StorageBackend = StorageBackend.LOCAL
    storage_dir: Path | None = None
    """Local storage root; defaults to ``DATA_DIR/storage``."""
    s3_bucket: str | None = None
    s3_region: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_endpoint_url: str | None = None
    """For S3-compatible servers (MinIO, Ceph, ...); unset for AWS."""
    s3_key_prefix: str = ""

    max_upload_bytes: int = Field(default=1024**3, gt=0)
    """Largest accepted upload (1 GB by default); bigger bodies get 413 before anything is stored."""

    whisper_model: str = "base"
    """``base`` (the multilingual model bundled with the install) or a local CTranslate2 model folder."""
    model_cache_dir: Path | None = None
    """Where bundled model files are assembled; defaults to ``DATA_DIR/models``."""
    xtts_model_dir: Path | None = None
    """An XTTS v2 weights folder (``config.json``, ``model.pth``, ``vocab.json``; needs the ``xtts`` extra). When
    set, cloning jobs use XTTS instead of the bundled voice-matching engine."""
    pyannote_diarization_dir: Path | None = None
    """A pyannote.audio diarization pipeline folder (``config.yaml`` + its models, e.g. speaker-diarization-3.1 or
    community-1; needs the ``pyannote`` extra). When set, it diarizes instead of the bundled diarizer."""
    pyannote_separation_dir: Path | None = None
    """A pyannote.audio speech separation pipeline folder (e.g. speech-separation-ami-1.0; needs the ``pyannote``
    extra and asteroid). When set, speaker extraction unmixes voices instead of masking the recording."""
    device_strategy: Literal["auto", "cpu", "cuda"] = "auto"
    """``auto`` uses CUDA with float16 where a GPU is visible, else CPU with int8."""
    whisper_compute_type: str | None = None
    """Overrides the compute type chosen by the device strategy (e.g. ``int8_float16``)."""
    whisper_beam_size: int = Field(default=5, ge=1)
    whisper_batch_size: int = Field(default=8, ge=1)
    """Speech chunks decoded at once (batched inference); 1 decodes sequentially."""
    cpu_threads: int = Field(default=0, ge=0)
    """Threads per model on CPU (for Whisper: per worker, see ``WHISPER_WORKERS``); 0 chooses: the runtime's
    default, for Whisper every core up to 4 or ``OMP_NUM_THREADS``. With several worker processes on one host, set
    it to the cores each should have."""
    whisper_workers: int = Field(default=0, ge=0)
    """Batches of speech Whisper decodes at once; 0: two on a CPU (each may use every core), one on a GPU."""
    cuda_visible_devices: str | None = None
    """The GPUs the service may use. Read as a setting so that a value in ``.env`` reaches the workers too (the
    CLI exports it before any model loads); unset, the environment decides."""

    translation_models_dir: Path | None = None
    """Folder of extra translation models (``.argosmodel`` files, CTranslate2 Opus-MT/NLLB folders with an
    ``audio-api-translation.json``); pairs they add appear in ``GET /translation/languages``."""

    url_fetch_allowed_networks: list[str] = []
    """CIDRs exempt from the private-address refusal of URL ingestion (e.g. an intranet media server)."""
    url_fetch_timeout_seconds: float = Field(default=30.0, gt=0)
    max_media_duration_seconds: float = Field(default=6 * 3600, gt=0)
    """Longest recording accepted from a URL or upload."""
    max_batch_files: int = Field(default=20, ge=1, le=MAX_BATCH_JOBS)
    """Files in one translation batch, and jobs in one cloning batch (texts times voices)."""

    worker_concurrency: int = Field(default=1, ge=1)
    """Processes of the embedded worker started by ``make run`` (it consumes every queue)."""
    voice_queue_concurrency: int = Field(default=2, ge=1)
    translation_queue_concurrency: int = Field(default=4, ge=1)
    speaker_queue_concurrency: int = Field(default=2, ge=1)
    job_soft_time_limit_seconds: int = Field(default=6 * 3600, gt=0)
    job_time_limit_seconds: int = Field(default=6 * 3600 + 300, gt=0)
    job_max_deliveries: int = Field(default=3, ge=1)
    """How often one task may be picked up again after its worker died before the job fails."""
    broker_visibility_timeout_seconds: int = Field(default=7 * 3600, gt=0)
    """Must exceed the longest job, or Redis redelivers a message that is still being worked on."""

    rate_limit_enabled: bool = True
    rate_limit_storage_url: str | None = None
    """``limits`` storage; defaults to Redis when ``REDIS_HOST`` is set, else process memory."""
    rate_limit_auth: str = "5/minute"
    rate_limit_voice: str = "10/minute"
    rate_limit_translation: str = "20/minute"
    rate_limit_health: str = "100/minute"
    rate_limit_speaker: str = "20/minute"
    """Speaker analysis submissions (diarization, extraction) per user."""

    progress_poll_seconds: float = Field(default=1.0, gt=0)
    """Without Redis pub/sub: how often a WebSocket re-reads the job rows even when no change was signalled."""
    progress_max_sockets_per_user: int = Field(default=10, ge=1)
    """Progress WebSockets one user may hold open at once (across every API process where Redis is configured, see
    ``app.services.progress_seats``): each costs the server a stream of checks (or a Redis connection), so an
    unbounded number would let one user starve everyone's requests."""
    progress_signal_seconds: float = Field(default=0.02, gt=0)
    """Without Redis pub/sub: how often a WebSocket checks its owner's change signal (one stat, no query)."""
    progress_account_check_seconds: float = Field(default=30.0, gt=0)
    """How often an open progress WebSocket checks that its account still exists and is active: a deactivated
    account stops streaming within this long, not only when its token expires."""

    cors_origins: list[str] = []

    @field_validator("public_url")
    @classmethod
    def _without_trailing_slash(cls, value: str | None) -> str | None:
        """``https://api.example.com/`` and ``https://api.example.com`` make the same links."""
        if value is None:
            return None
        return value.rstrip("/") or None

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.environment is Environment.PRODUCTION and (
            self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        if self.storage_backend is StorageBackend.S3 and not self.s3_bucket:
            raise ValueError("S3_BUCKET is required when STORAGE_BACKEND=s3")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        if self.postgres_server:
            password = f":{quote(self.postgres_password, safe='')}" if self.postgres_password else ""
            return (
                f"postgresql+psycopg://{quote(self.postgres_user, safe='')}{password}@"
                f"{self.postgres_server}:{self.postgres_port}/{self.postgres_db}"
            )
        return f"sqlite:///{(self.data_dir / 'audio_api.db').resolve()}"

    @property
    def redis_url(self) -> str | None:
        if not self.redis_host:
            return None
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"redis://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"

    @property
    def broker_url(self) -> str:
        if self.celery_broker_url:
            return self.celery_broker_url
        return self.redis_url or f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def broker_is_embedded(self) -> bool:
        return self.broker_url.startswith("sqla+")

    @property
    def limiter_storage_url(self) -> str:
        return self.rate_limit_storage_url or self.redis_url or "memory://"

    @property
    def storage_root(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def model_cache(self) -> Path:
        return self.model_cache_dir or self.data_dir / "models"

    @property
    def signal_dir(self) -> Path:
        """Where the embedded mode's per-owner job-change signal files live (see ``app.services.progress``)."""
        return self.data_dir / "signals"


def normalise_database_url(url: str) -> str:
    """Point plain ``postgres://`` / ``postgresql://`` URLs at the psycopg 3 driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once. Tests build their own ``Settings`` and inject them."""
    return Settings()
