"""Builds the configured backend, so nothing else imports boto3 or decides between local and S3."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from app.core.config import Settings, StorageBackend
from app.storage.base import Storage, UrlSigner
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def build_storage(settings: Settings, url_signer: UrlSigner) -> Storage:
    if settings.storage_backend is StorageBackend.LOCAL:
        return LocalStorage(settings.storage_root, url_signer)
    assert settings.s3_bucket, "Settings refuses STORAGE_BACKEND=s3 without S3_BUCKET"
    return S3Storage(build_s3_client(settings), settings.s3_bucket, key_prefix=settings.s3_key_prefix)


def build_s3_client(settings: Settings) -> S3Client:
    """Unset credentials fall through to boto3's own chain (instance roles, web identity) in AWS deployments.

    Custom endpoints (MinIO and the like) get path-style addressing: they rarely have per-bucket DNS.
    """
    return boto3.client(
        "s3",
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        endpoint_url=settings.s3_endpoint_url,
        # Fail fast when S3 is down (health checks, requests); one upload part may take long on a slow link.
        config=Config(
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=60,
            retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": "path" if settings.s3_endpoint_url else "virtual"},
        ),
    )
