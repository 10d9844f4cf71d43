"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, polled often enough to start jobs promptly.

kombu's virtual transports sleep ``polling_interval`` (1 s) whenever every queue is empty, so a job submitted to an
idle worker waited half a second on average before it started. kombu reads that interval from the transport options,
but its SQLAlchemy channel hands every option it does not know to ``create_engine``, which refuses it; the interval
therefore lives on this subclass, and only the SQLite connection arguments travel as options.

kombu's SQLAlchemy channel also never closes its session, so every short-lived connection (a health check, a
publish from a fresh process) kept one pooled database connection checked out until the garbage collector found
it: fifteen health checks in a row exhausted the pool and every later one waited 30 s and failed. The channel here
closes its session when it closes.
"""

from __future__ import annotations

from kombu.transport import sqlalchemy

EMBEDDED_PREFIX = "sqla+"
"""kombu's URL prefix for its SQLAlchemy transport: ``sqla+sqlite:///path/broker.db``."""
POLLING_SECONDS = 0.1
"""The longest an idle worker takes to notice a new job; one indexed SELECT on a local file each time."""


class EmbeddedChannel(sqlalchemy.Channel):
    def close(self) -> None:
        try:
            super().close()  # type: ignore[no-untyped-call]
        finally:
            if self._session is not None:
                self._session.close()
                self._session = None


class EmbeddedTransport(sqlalchemy.Transport):
    Channel = EmbeddedChannel
    polling_interval = POLLING_SECONDS


TRANSPORT = f"{__name__}:{EmbeddedTransport.__name__}"
