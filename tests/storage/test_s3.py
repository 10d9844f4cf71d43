"""S3Storage against a real S3-compatible server (moto), over HTTP."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest

from app.core.config import Settings
from app.core.errors import PayloadTooLarge
from app.storage import InvalidStorageKey, ObjectNotFound, StorageUnavailable, build_storage
from app.storage.s3 import PART_SIZE, S3Storage
from tests.fixtures.s3 import ACCESS_KEY, REGION, SECRET_KEY, free_port, make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1 << 20


def keys_in(client: S3Client, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def pending_uploads(client: S3Client, bucket: str) -> int:
    return len(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def mib_chunks(count: int) -> Iterator[bytes]:
    for i in range(count):
        yield bytes([i]) * MIB


def test_multipart_round_trip_streams(s3_storage: S3Storage, s3_client: S3Client, s3_bucket: str) -> None:
    data = random.Random(0).randbytes(2 * PART_SIZE + 12345)
    yielded = 0

    def source() -> Iterator[bytes]:
        nonlocal yielded
        rng = random.Random(1)
        while yielded < len(data):
            if yielded >= PART_SIZE:
                # The first part is already on the server while the source is still producing.
                upload = s3_client.list_multipart_uploads(Bucket=s3_bucket)["Uploads"][0]
                parts = s3_client.list_parts(Bucket=s3_bucket, Key="jobs/1/in.wav", UploadId=upload["UploadId"])
                assert len(parts["Parts"]) >= 1
            step = rng.randint(1, 3 * MIB)
            yield data[yielded : yielded + step]
            yielded += step

    assert s3_storage.save("jobs/1/in.wav", source(), content_type="audio/wav") == len(data)

    assert keys_in(s3_client, s3_bucket) == ["jobs/1/in.wav"]
    assert pending_uploads(s3_client, s3_bucket) == 0
    assert s3_client.head_object(Bucket=s3_bucket, Key="jobs/1/in.wav")["ContentType"] == "audio/wav"
    assert s3_storage.size("jobs/1/in.wav") == len(data)
    assert s3_storage.exists("jobs/1/in.wav")
    chunks = list(s3_storage.iter_bytes("jobs/1/in.wav", chunk_size=MIB))
    assert max(map(len, chunks)) == MIB
    assert b"".join(chunks) == data
    with s3_storage.open_local("jobs/1/in.wav") as path:
        assert path.suffix == ".wav"
        assert path.read_bytes() == data
    assert not path.exists()


def test_small_and_empty_objects(s3_storage: S3Storage) -> None:
    assert s3_storage.save("small.txt", [b"hello ", b"world"]) == 11
    assert b"".join(s3_storage.iter_bytes("small.txt")) == b"hello world"
    assert s3_storage.save("empty", iter([])) == 0
    assert s3_storage.size("empty") == 0
    assert list(s3_storage.iter_bytes("empty")) == []


def test_oversize_multipart_aborts_and_leaves_nothing(
    s3_storage: S3Storage, s3_client: S3Client, s3_bucket: str
) -> None:
    with pytest.raises(PayloadTooLarge):
        s3_storage.save("big", mib_chunks(12), max_bytes=9 * MIB)
    assert keys_in(s3_client, s3_bucket) == []
    assert pending_uploads(s3_client, s3_bucket) == 0


def test_oversize_single_part_leaves_nothing(s3_storage: S3Storage, s3_client: S3Client, s3_bucket: str) -> None:
    s3_storage.save("a", [b"previous"])
    with pytest.raises(PayloadTooLarge):
        s3_storage.save("a", [b"x" * 60, b"x" * 60], max_bytes=100)
    with pytest.raises(PayloadTooLarge):
        s3_storage.save("b", [b"x" * 101], max_bytes=100)
    assert keys_in(s3_client, s3_bucket) == ["a"]
    assert b"".join(s3_storage.iter_bytes("a")) == b"previous"


def test_failing_source_aborts_the_upload(s3_storage: S3Storage, s3_client: S3Client, s3_bucket: str) -> None:
    def broken() -> Iterator[bytes]:
        yield from mib_chunks(9)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        s3_storage.save("a", broken())
    assert keys_in(s3_client, s3_bucket) == []
    assert pending_uploads(s3_client, s3_bucket) == 0


def test_missing_objects(s3_storage: S3Storage) -> None:
    assert not s3_storage.exists("nope")
    s3_storage.delete("nope")
    s3_storage.delete_prefix("nope")
    with pytest.raises(ObjectNotFound):
        s3_storage.size("nope")
    with pytest.raises(ObjectNotFound):
        s3_storage.iter_bytes("nope")
    with pytest.raises(ObjectNotFound), s3_storage.open_local("nope"):
        pass


def test_delete_and_delete_prefix(s3_storage: S3Storage, s3_client: S3Client, s3_bucket: str) -> None:
    for key in ["jobs/1", "jobs/1/a", "jobs/1/sub/b", "jobs/10/c", "other"]:
        s3_storage.save(key, [b"x"])

    s3_storage.delete("other")
    assert not s3_storage.exists("other")
    s3_storage.delete_prefix("jobs/1")

    assert keys_in(s3_client, s3_bucket) == ["jobs/10/c"]


def test_key_prefix_isolates_deployments(s3_client: S3Client, s3_bucket: str) -> None:
    tenant_a = S3Storage(s3_client, s3_bucket, key_prefix="/tenant-a/")
    tenant_b = S3Storage(s3_client, s3_bucket, key_prefix="tenant-b")
    tenant_a.create_bucket_if_missing()
    tenant_b.create_bucket_if_missing()
    tenant_a.save("jobs/1/a", [b"a"])
    tenant_b.save("jobs/1/a", [b"b"])

    tenant_a.delete_prefix("jobs")

    assert keys_in(s3_client, s3_bucket) == ["tenant-b/jobs/1/a"]
    assert not tenant_a.exists("jobs/1/a")
    assert b"".join(tenant_b.iter_bytes("jobs/1/a")) == b"b"
    with pytest.raises(InvalidStorageKey):
        S3Storage(s3_client, s3_bucket, key_prefix="../up")


def test_presigned_url_downloads_the_bytes_as_an_attachment(s3_storage: S3Storage) -> None:
    data = random.Random(2).randbytes(100_000)
    s3_storage.save("jobs/1/out.wav", [data])

    url = s3_storage.download_url("jobs/1/out.wav", filename='dub "fr" \u00e9t\u00e9.wav', expires_in=300)
    response = httpx.get(url)

    assert response.status_code == 200
    assert response.content == data
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="dub _fr_ _t_.wav"')
    assert "filename*=UTF-8''dub%20%22fr%22%20%C3%A9t%C3%A9.wav" in disposition
    assert "X-Amz-Expires=300" in url
    assert response.headers["content-type"] in {"audio/wav", "audio/x-wav"}
    subtitles = s3_storage.download_url("jobs/1/out.wav", filename="talk.srt", expires_in=300)
    assert httpx.get(subtitles).headers["content-type"] == "application/x-subrip"


def test_check_passes_and_fails(s3_storage: S3Storage, s3_client: S3Client) -> None:
    s3_storage.check()
    with pytest.raises(StorageUnavailable):
        S3Storage(s3_client, "no-such-bucket-here").check()


def test_closed_port_is_unavailable_quickly() -> None:
    client = make_s3_client(f"http://127.0.0.1:{free_port()}", connect_timeout=0.5, max_attempts=1)
    storage = S3Storage(client, "bucket")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        storage.check()
    assert time.monotonic() - started < 5
    assert caught.value.error_code == "STORAGE_UNAVAILABLE"
    with pytest.raises(StorageUnavailable):
        storage.save("a", [b"x"])
    with pytest.raises(StorageUnavailable):
        storage.iter_bytes("a")
    with pytest.raises(StorageUnavailable):
        storage.exists("a")


def test_create_bucket_if_missing_is_idempotent(s3_storage: S3Storage) -> None:
    s3_storage.create_bucket_if_missing()
    s3_storage.check()


def test_factory_builds_s3_storage(s3_server: str, s3_client: S3Client, s3_bucket: str) -> None:
    settings = Settings(
        _env_file=None,
        storage_backend="s3",
        s3_bucket=s3_bucket,
        s3_region=REGION,
        s3_access_key=ACCESS_KEY,
        s3_secret_key=SECRET_KEY,
        s3_endpoint_url=s3_server,
        s3_key_prefix="audio",
    )
    storage = build_storage(settings, lambda key, filename, expires_in: "unused")
    assert isinstance(storage, S3Storage)
    storage.create_bucket_if_missing()
    storage.check()
    storage.save("jobs/1/a", [b"via settings"])
    assert keys_in(s3_client, s3_bucket) == ["audio/jobs/1/a"]
    assert httpx.get(storage.download_url("jobs/1/a", filename="a", expires_in=60)).content == b"via settings"
