from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

pytest_plugins = [
    "tests.fixtures.services",
    "tests.fixtures.testdata",
    "tests.fixtures.xtts",
    "tests.fixtures.pyannote",
    "tests.fixtures.s3",
    "tests.fixtures.models",
    "tests.fixtures.media_server",
]

SETTINGS_ENV = {name.upper() for name in Settings.model_fields} | {"PROMETHEUS_MULTIPROC_DIR"}


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No developer's or CI's environment leaks into settings under test."""
    for name in list(os.environ):
        if name.upper() in SETTINGS_ENV:
            monkeypatch.delenv(name)


SettingsFactory = Callable[..., Settings]


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One assembled copy of the bundled models for the whole session."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture
def make_settings(tmp_path: Path, clean_postgres: str, clean_redis: str, model_cache_dir: Path) -> SettingsFactory:
    """Production-shaped settings: PostgreSQL, Redis broker and pub/sub, local storage in a temp folder."""

    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": clean_postgres,
            "celery_broker_url": clean_redis,
            "redis_host": "127.0.0.1",
            "redis_db": int(clean_redis.rsplit("/", 1)[1]),
            "rate_limit_enabled": False,
            "model_cache_dir": model_cache_dir,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
