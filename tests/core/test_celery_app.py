from __future__ import annotations

from pathlib import Path

from kombu.transport.redis import Transport as RedisTransport

from app.core.broker import POLLING_SECONDS, EmbeddedTransport
from app.core.celery_app import create_celery
from app.core.config import Settings


def test_embedded_broker_is_a_sqlite_file_that_idle_workers_poll_promptly(tmp_path: Path) -> None:
    app = create_celery(Settings(_env_file=None, data_dir=tmp_path))
    with app.connection_for_write() as connection:
        assert isinstance(connection.transport, EmbeddedTransport)
        assert connection.transport.polling_interval == POLLING_SECONDS < 1.0  # kombu's default is 1 s
        queue = connection.SimpleQueue("probe-queue")
        queue.put({"job_id": 7})
        message = queue.get(timeout=5)
        message.ack()
        queue.close()
    assert message.payload == {"job_id": 7}
    assert (tmp_path / "broker.db").is_file()


def test_a_redis_broker_uses_kombus_own_transport(tmp_path: Path) -> None:
    app = create_celery(Settings(_env_file=None, data_dir=tmp_path, celery_broker_url="redis://127.0.0.1:6379/0"))
    assert app.conf.broker_transport is None
    assert isinstance(app.connection_for_write().transport, RedisTransport)
