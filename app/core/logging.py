"""One logging setup for the API, the workers and the CLI."""

from __future__ import annotations

import logging.config

NOISY_LOGGERS = ("faster_whisper", "botocore", "boto3", "urllib3", "s3transfer", "multipart", "httpx")


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
            "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
            "root": {"handlers": ["console"], "level": level},
            "loggers": {name: {"level": "WARNING"} for name in NOISY_LOGGERS},
        }
    )
