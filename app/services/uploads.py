"""Storing user uploads: content-checked by decoding, streamed to storage in chunks, size-capped, and removed
again if the request that stored them fails."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

from sqlalchemy.orm import Session

from app.db.uow import on_rollback
from app.pipelines.audio import AudioInfo, probe_audio
from app.schemas.text import CONTROL_CHARACTERS
from app.storage import Storage

CHUNK_BYTES = 1 << 20
MAX_FILENAME_CHARS = 255
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StoredUpload:
    key: str
    filename: str
    size: int
    audio: AudioInfo


def safe_filename(filename: str | None, default: str = "input") -> str:
    """A storage-safe version of a client's file name (never a path)."""
    name = PurePath((filename or "").replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", name).lstrip("._-")[:120]
    return cleaned or default


def read_chunks(file: BinaryIO, chunk_size: int = CHUNK_BYTES) -> Iterator[bytes]:
    while chunk := file.read(chunk_size):
        yield chunk


class UploadService:
    def store_audio(
        self,
        session: Session,
        storage: Storage,
        *,
        owner_id: int,
        file: BinaryIO,
        filename: str | None,
        max_bytes: int,
    ) -> StoredUpload:
        file.seek(0)
        audio = probe_audio(file)
        file.seek(0)
        name = safe_filename(filename)
        key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/{name}"
        size = storage.save(key, read_chunks(file), max_bytes=max_bytes)
        on_rollback(session, lambda: storage.delete(key))
        # As the client named it, less what no database column takes, within the column's width.
        shown_name = (CONTROL_CHARACTERS.sub("", filename or "") or name)[:MAX_FILENAME_CHARS]
        return StoredUpload(key=key, filename=shown_name, size=size, audio=audio)


upload_service = UploadService()
