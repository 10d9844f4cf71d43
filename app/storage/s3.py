"""Storage in an S3 bucket (AWS or an S3-compatible server), for deployments with several hosts."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from itertools import chain
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, cast

from botocore.exceptions import BotoCoreError, ClientError

from app.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ObjectNotFound,
    StorageUnavailable,
    attachment_disposition,
    limit_size,
    media_type_of,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, ObjectIdentifierTypeDef

PART_SIZE = 8 << 20
"""Multipart part size: the most a save holds in memory, and above S3's 5 MiB minimum for non-final parts."""

_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})


@contextmanager
def _translate_errors(key: str | None = None) -> Iterator[None]:
    """Map botocore failures to storage errors: a missing key is a 404, anything else means S3 is unusable."""
    try:
        yield
    except ClientError as exc:
        code = _error_code(exc)
        if key is not None and code in _NOT_FOUND_CODES:
            raise ObjectNotFound(details={"key": key}) from exc
        raise StorageUnavailable(f"Object storage request failed ({code or 'unknown error'})") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable("Object storage cannot be reached") from exc


class S3Storage:
    def __init__(self, client: S3Client, bucket: str, *, key_prefix: str = "") -> None:
        """``key_prefix`` lets deployments share a bucket; it must itself be a valid key (or empty)."""
        self._client = client
        self._bucket = bucket
        prefix = key_prefix.strip("/")
        self._prefix = f"{validate_key(prefix)}/" if prefix else ""

    def _key(self, key: str) -> str:
        return self._prefix + validate_key(key)

    def save(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        max_bytes: int | None = None,
        content_type: str | None = None,
    ) -> int:
        """Buffer up to one part; a body that fits is one PUT, a bigger one a multipart upload.

        A multipart upload stays invisible until completed, so aborting it on failure leaves nothing behind.
        """
        s3_key = self._key(key)
        content_type = content_type or "application/octet-stream"
        parts = _cut_parts(limit_size(chunks, max_bytes))
        first = next(parts, b"")
        if len(first) < PART_SIZE:  # only the last part is short, so this is the whole body
            with _translate_errors():
                self._client.put_object(Bucket=self._bucket, Key=s3_key, Body=first, ContentType=content_type)
            return len(first)
        return self._save_multipart(s3_key, chain([first], parts), content_type)

    def _save_multipart(self, s3_key: str, parts: Iterable[bytes], content_type: str) -> int:
        with _translate_errors():
            upload_id = self._client.create_multipart_upload(Bucket=self._bucket, Key=s3_key, ContentType=content_type)[
                "UploadId"
            ]
        completed: list[CompletedPartTypeDef] = []
        total = 0
        try:
            with _translate_errors():
                for number, body in enumerate(parts, start=1):
                    response = self._client.upload_part(
                        Bucket=self._bucket, Key=s3_key, UploadId=upload_id, PartNumber=number, Body=body
                    )
                    completed.append({"PartNumber": number, "ETag": response["ETag"]})
                    total += len(body)
                self._client.complete_multipart_upload(
                    Bucket=self._bucket, Key=s3_key, UploadId=upload_id, MultipartUpload={"Parts": completed}
                )
        except BaseException:
            with suppress(ClientError, BotoCoreError):
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=s3_key, UploadId=upload_id)
            raise
        return total

    @contextmanager
    def open_local(self, key: str) -> Iterator[Path]:
        """Download to a temp file with the key's extension, since some decoders guess the format from it."""
        chunks = self.iter_bytes(key)
        fd, temp_name = tempfile.mkstemp(suffix=PurePosixPath(key).suffix)
        try:
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    file.write(chunk)
            yield Path(temp_name)
        finally:
            os.unlink(temp_name)

    def iter_bytes(self, key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        # The GET is sent now, not on first iteration, so a missing object fails before a response streams.
        with _translate_errors(key):
            body = self._client.get_object(Bucket=self._bucket, Key=self._key(key))["Body"]
        return _read_body(body, chunk_size)

    def delete(self, key: str) -> None:
        with _translate_errors():
            self._client.delete_object(Bucket=self._bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> None:
        """Lists ``folder/`` with the slash, so ``jobs/1`` spares ``jobs/10``; deletes a page at a time."""
        folder = self._key(validate_prefix(prefix))
        paginator = self._client.get_paginator("list_objects_v2")
        with _translate_errors():
            self._client.delete_object(Bucket=self._bucket, Key=folder)
            for page in paginator.paginate(Bucket=self._bucket, Prefix=f"{folder}/"):
                # A page holds at most 1000 keys, which is also the most one DeleteObjects request takes.
                objects: list[ObjectIdentifierTypeDef] = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if not objects:
                    continue
                response = self._client.delete_objects(Bucket=self._bucket, Delete={"Objects": objects, "Quiet": True})
                if response.get("Errors"):
                    raise StorageUnavailable("Object storage refused to delete some objects")

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        with _translate_errors(key):
            return self._client.head_object(Bucket=self._bucket, Key=self._key(key))["ContentLength"]

    def download_url(self, key: str, *, filename: str, expires_in: int) -> str:
        params = {
            "Bucket": self._bucket,
            "Key": self._key(key),
            "ResponseContentDisposition": attachment_disposition(filename),
            "ResponseContentType": media_type_of(filename),
        }
        with _translate_errors():
            return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def check(self) -> None:
        with _translate_errors():
            self._client.head_bucket(Bucket=self._bucket)

    def create_bucket_if_missing(self) -> None:
        """For development and tests; production buckets are provisioned outside the service."""
        with _translate_errors():
            try:
                self._client.head_bucket(Bucket=self._bucket)
            except ClientError as exc:
                if _error_code(exc) not in _NOT_FOUND_CODES:
                    raise
            else:
                return
            region = self._client.meta.region_name
            if region and region != "us-east-1":
                self._client.create_bucket(
                    Bucket=self._bucket,
                    CreateBucketConfiguration={"LocationConstraint": cast("BucketLocationConstraintType", region)},
                )
            else:
                self._client.create_bucket(Bucket=self._bucket)


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _cut_parts(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Re-cut chunks into ``PART_SIZE`` parts (the last one shorter), holding at most a part and a chunk."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= PART_SIZE:
            yield bytes(buffer[:PART_SIZE])
            del buffer[:PART_SIZE]
    if buffer:
        yield bytes(buffer)


def _read_body(body: StreamingBody, chunk_size: int) -> Iterator[bytes]:
    try:
        with _translate_errors():
            yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
