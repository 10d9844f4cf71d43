"""Storage in a local folder: the embedded mode's default, shared by the API and workers on one host."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from app.storage.base import (
    DEFAULT_CHUNK_SIZE,
    InvalidStorageKey,
    ObjectNotFound,
    StorageUnavailable,
    UrlSigner,
    limit_size,
    validate_key,
    validate_prefix,
)

STAGING_ATTEMPTS = 3


class LocalStorage:
    def __init__(self, root: Path, url_signer: UrlSigner) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self._root = root.resolve()
        self._url_signer = url_signer

    def _path(self, key: str) -> Path:
        """The path for a valid key, refused if symlinks would take it outside the root."""
        path = self._root / validate_key(key)
        if not path.resolve().is_relative_to(self._root):
            raise InvalidStorageKey("Storage key resolves outside the storage root", details={"key": key})
        return path

    def save(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
    ) -> int:
        """Write to a hidden temp file beside the target, then rename it over the target.

        The rename is atomic within a filesystem, so readers see the old file or the new one, never half one.
        ``content_type`` is not kept: local downloads get theirs from the API route that serves them.
        """
        path = self._path(key)
        fd, temp_name = _staging_file(path)
        total = 0
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in limit_size(chunks, max_bytes):
                    file.write(chunk)
                    total += len(chunk)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp_name)
            self._prune(path.parent)
            raise
        return total

    @contextmanager
    def open_local(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(details={"key": key})
        yield path

    def iter_bytes(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        # Opened now, not on first iteration, so a missing file fails before a response starts streaming.
        try:
            file = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(details={"key": key}) from exc
        return _read_chunks(file, chunk_size)

    def delete(self, key: str) -> None:
        path = self._path(key)
        if not path.is_dir():
            path.unlink(missing_ok=True)
            self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(validate_prefix(prefix))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        self._prune(path.parent)

    def _prune(self, folder: Path) -> None:
        """Remove ``folder`` and its parents while they are empty, up to the root: every upload has a folder of its
        own, so deleted and refused uploads would otherwise leave empty folders behind without end."""
        while folder != self._root and folder.is_relative_to(self._root):
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): nothing above it is empty either
                return
            folder = folder.parent

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(details={"key": key})
        return path.stat().st_size

    def download_url(self, key: str, *, filename: str, expires_in: int) -> str:
        self._path(key)
        return self._url_signer(key, filename, expires_in)

    def check(self) -> None:
        """Create an unnamed (self-deleting) file: proves the root exists and its filesystem takes writes."""
        try:
            with tempfile.TemporaryFile(dir=self._root):
                pass
        except OSError as exc:
            raise StorageUnavailable(f"Storage folder is not writable: {exc.strerror}") from exc


def _read_chunks(file: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with file:
        while chunk := file.read(chunk_size):
            yield chunk


def _staging_file(path: Path) -> tuple[int, str]:
    """A hidden temp file beside ``path``, its folders made first. A concurrent deletion may prune a folder just
    made before the file is in it, so that is tried again."""
    attempts = STAGING_ATTEMPTS
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        except FileNotFoundError:
            attempts -= 1
            if attempts == 0:
                raise
