"""Signed, expiring download links for locally stored files (S3 deployments get presigned URLs instead)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from app.core.config import Settings
from app.core.security import DOWNLOAD_TOKEN_TYPE, create_token, decode_token


def download_signer(settings: Settings) -> Callable[[str, str, int], str]:
    """A ``(key, filename, expires_in) -> URL`` function for the local storage backend."""

    def sign(key: str, filename: str, expires_in: int) -> str:
        token = create_token(
            key,
            secret_key=settings.secret_key,
            token_type=DOWNLOAD_TOKEN_TYPE,
            expires_in=timedelta(seconds=expires_in),
            extra={"fn": filename},
        )
        return f"{settings.public_url or ''}{settings.api_prefix}/files/{token}"

    return sign


def read_download_token(settings: Settings, token: str) -> tuple[str, str]:
    """The storage key and file name a download link grants; raises ``TokenExpired`` / ``InvalidToken``."""
    claims: dict[str, Any] = decode_token(token, secret_key=settings.secret_key, token_type=DOWNLOAD_TOKEN_TYPE)
    return str(claims["sub"]), str(claims.get("fn") or "download")
