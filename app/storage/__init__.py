"""File storage behind one small interface; see ``base.Storage``."""

from app.storage.base import (
    InvalidStorageKey,
    ObjectNotFound,
    Storage,
    StorageUnavailable,
    UrlSigner,
    attachment_disposition,
    media_type_of,
    validate_key,
)
from app.storage.factory import build_storage

__all__ = [
    "InvalidStorageKey",
    "ObjectNotFound",
    "Storage",
    "StorageUnavailable",
    "UrlSigner",
    "attachment_disposition",
    "build_storage",
    "media_type_of",
    "validate_key",
]
