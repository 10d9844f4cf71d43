from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import DEFAULT_SECRET_KEY, Settings


def test_embedded_defaults_need_no_server(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'audio_api.db'}"
    assert settings.broker_url == f"sqla+sqlite:///{tmp_path.resolve() / 'broker.db'}" and settings.broker_is_embedded
    assert settings.redis_url is None and settings.limiter_storage_url == "memory://"
    assert settings.storage_root == tmp_path / "storage" and settings.max_upload_bytes == 1024**3


def test_production_services_come_from_configuration() -> None:
    settings = Settings(
        _env_file=None,
        postgres_server="db.internal",
        postgres_user="audio",
        postgres_password="p@ss/word",
        redis_host="cache.internal",
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://audio:p%40ss%2Fword@db.internal:5432/audio_processing"
    assert settings.broker_url == "redis://cache.internal:6379/0" and not settings.broker_is_embedded
    assert settings.limiter_storage_url == "redis://cache.internal:6379/0"
    assert Settings(_env_file=None, database_url="postgres://u@h/d").sqlalchemy_url == "postgresql+psycopg://u@h/d"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "9100")
    monkeypatch.setenv("RATE_LIMIT_AUTH", "3/minute")
    settings = Settings(_env_file=None)
    assert settings.api_port == 9100 and settings.rate_limit_auth == "3/minute"


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "too-short"])
def test_production_refuses_placeholder_or_weak_secrets(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(_env_file=None, environment="production", secret_key=secret)
    assert Settings(_env_file=None, environment="production", secret_key="x" * 40).secret_key == "x" * 40


def test_link_settings_that_would_make_broken_links_are_refused_or_normalised() -> None:
    assert Settings(_env_file=None, public_url="https://api.example.com/").public_url == "https://api.example.com"
    with pytest.raises(ValueError, match="download_url_expire_seconds"):
        Settings(_env_file=None, download_url_expire_seconds=10**12)  # S3 rejects links over seven days
    with pytest.raises(ValueError, match="max_batch_files"):
        Settings(_env_file=None, max_batch_files=1000)  # more than a batch view lists


def test_s3_backend_requires_a_bucket() -> None:
    with pytest.raises(ValidationError, match="S3_BUCKET"):
        Settings(_env_file=None, storage_backend="s3")


def test_the_example_env_file_names_every_setting_and_loads_uncommented(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / ".env.example").read_text()
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert named >= {name.upper() for name in Settings.model_fields}, "settings missing from .env.example"
    assert named - {name.upper() for name in Settings.model_fields} == set(), "documented but never read"

    uncommented = tmp_path / ".env"
    uncommented.write_text(re.sub(r"^# ([A-Z][A-Z0-9_]*=)", r"\1", example, flags=re.MULTILINE))
    settings = Settings(_env_file=uncommented)
    assert settings.cors_origins == ["https://app.example.com"]
    assert settings.url_fetch_allowed_networks == ["10.20.0.0/16"]
    assert settings.cuda_visible_devices == "0" and settings.job_max_deliveries == 3
