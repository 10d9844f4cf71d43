"""One logging setup for the API, the workers and the CLI."""

from __future__ import annotations

import logging
import logging.config
import re

NOISY_LOGGERS = ("faster_whisper", "botocore", "boto3", "urllib3", "s3transfer", "multipart", "httpx")

# Credentials that travel in URL paths: the WebSocket's access token and signed download links.
_SECRET_IN_PATH = re.compile(r"(/ws/|/files/)[^/?\s\"]+")


def redact(text: str) -> str:
    return _SECRET_IN_PATH.sub(r"\1[redacted]", text)


class RedactTokensFilter(logging.Filter):
    """Keeps bearer tokens out of access logs (uvicorn logs every request path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"redact": {"()": RedactTokensFilter}},
            "formatters": {"default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["redact"]}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {name: {"level": "WARNING"} for name in NOISY_LOGGERS},
        }
    )
