"""What every storage backend offers, the errors it raises and the rules its keys follow.

Uploads, results and worker scratch files all go through ``Storage``, so the API and the workers never care
whether bytes live on a local disk or in S3. Keys come from our own code (``jobs/<id>/input.wav``), but they
are validated on every call anyway: a key is the only thing that turns into a filesystem path or an S3 key, so
checking it in one place is what keeps a buggy caller from reaching outside the storage root.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from app.core.errors import InvalidInput, PayloadTooLarge, ResourceNotFound, ServiceUnavailable

MAX_KEY_LENGTH = 512
DEFAULT_CHUNK_SIZE = 1 << 20

# A segment never starts with ".", so "." and ".." and the hidden temp files of local writes are not keys.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

UrlSigner = Callable[[str, str, int], str]
"""``(key, filename, expires_in) -> URL``: local download links are API routes, so the API builds them."""


class StorageUnavailable(ServiceUnavailable):
    error_code = "STORAGE_UNAVAILABLE"
    default_message = "File storage is unavailable"


class ObjectNotFound(ResourceNotFound):
    default_message = "Stored file not found"


class InvalidStorageKey(InvalidInput):
    error_code = "INVALID_STORAGE_KEY"
    default_message = "Invalid storage key"


def validate_key(key: str) -> str:
    """Return ``key`` if it is a relative POSIX path of safe segments, else raise ``InvalidStorageKey``."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(_SEGMENT.fullmatch(part) for part in key.split("/")):
        raise InvalidStorageKey(details={"key": key[:MAX_KEY_LENGTH]})
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix names a folder of keys; a trailing slash is optional; an empty one (everything) is refused."""
    return validate_key(prefix.removesuffix("/"))


def limit_size(chunks: Iterable[bytes], max_bytes: int | None) -> Iterator[bytes]:
    """Pass chunks through, raising ``PayloadTooLarge`` before yielding the one that crosses ``max_bytes``.

    Checking per chunk rather than after the fact means an oversized upload is refused while it streams, and
    the offending bytes are never written.
    """
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if max_bytes is not None and total > max_bytes:
            raise PayloadTooLarge(details={"max_bytes": max_bytes})
        if chunk:
            yield chunk


def attachment_disposition(filename: str) -> str:
    """A ``Content-Disposition`` that survives any filename: ASCII fallback plus the RFC 6266 UTF-8 form."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


_SUBTITLE_TYPES = {".srt": "application/x-subrip", ".vtt": "text/vtt"}
"""Outputs the standard table does not know everywhere (players pick subtitles by type)."""


def media_type_of(filename: str) -> str:
    """The ``Content-Type`` a download of ``filename`` is served with, local or presigned alike."""
    suffix = Path(filename).suffix.lower()
    return _SUBTITLE_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


class Storage(Protocol):
    """Blob storage addressed by validated keys (see ``validate_key``)."""

    def save(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
    ) -> int:
        """Stream ``chunks`` into ``key`` and return the byte count.

        The object appears whole or not at all: on ``PayloadTooLarge`` or any other failure nothing new is
        left behind and a previous object under ``key`` is untouched.
        """
        ...

    def open_local(self, key: str) -> AbstractContextManager[Path]:
        """A filesystem path to the bytes, for libraries (PyAV) that need one; valid only inside the block."""
        ...

    def iter_bytes(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        """The object's bytes in chunks. A missing object raises ``ObjectNotFound`` here, before iteration."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing object is not an error, so cleanup can be retried."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under the folder ``prefix`` (``prefix/...``) and an object named ``prefix``."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def download_url(self, key: str, *, filename: str, expires_in: int) -> str:
        """A URL that downloads the object as ``filename`` with no other credentials, for ``expires_in`` s."""
        ...

    def check(self) -> None:
        """Raise ``StorageUnavailable`` unless the backend is usable now; cheap enough for health."""
        ...
