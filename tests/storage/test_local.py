from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.errors import PayloadTooLarge
from app.storage import InvalidStorageKey, ObjectNotFound, StorageUnavailable, build_storage
from app.storage.local import LocalStorage


class RecordingSigner:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []

    def __call__(self, key: str, filename: str, expires_in: int) -> str:
        self.calls.append((key, filename, expires_in))
        return f"https://api.test/download/{key}?exp={expires_in}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "storage"


@pytest.fixture
def signer() -> RecordingSigner:
    return RecordingSigner()


@pytest.fixture
def storage(root: Path, signer: RecordingSigner) -> LocalStorage:
    return LocalStorage(root, signer)


def files_under(path: Path) -> list[str]:
    """Every file, hidden temp files included, relative to ``path``."""
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir())


def uneven_chunks(data: bytes, seed: int = 1) -> Iterator[bytes]:
    rng = random.Random(seed)
    offset = 0
    while offset < len(data):
        step = rng.randint(1, 300_000)
        yield data[offset : offset + step]
        offset += step


def test_round_trip_of_a_multi_chunk_object(storage: LocalStorage, root: Path) -> None:
    data = random.Random(0).randbytes(3_000_001)

    assert storage.save("jobs/1/input.wav", uneven_chunks(data)) == len(data)

    assert b"".join(storage.iter_bytes("jobs/1/input.wav")) == data
    chunks = list(storage.iter_bytes("jobs/1/input.wav", chunk_size=1 << 16))
    assert max(map(len, chunks)) == 1 << 16
    assert b"".join(chunks) == data
    with storage.open_local("jobs/1/input.wav") as path:
        assert path == root.resolve() / "jobs/1/input.wav"
        assert path.read_bytes() == data
    assert storage.exists("jobs/1/input.wav")
    assert storage.size("jobs/1/input.wav") == len(data)
    assert files_under(root) == ["jobs/1/input.wav"]


def test_root_is_created(root: Path, signer: RecordingSigner) -> None:
    LocalStorage(root / "deeper", signer)
    assert (root / "deeper").is_dir()


def test_empty_object(storage: LocalStorage) -> None:
    assert storage.save("empty", []) == 0
    assert storage.size("empty") == 0
    assert list(storage.iter_bytes("empty")) == []


def test_readers_see_the_old_object_until_the_new_one_is_complete(storage: LocalStorage) -> None:
    storage.save("result.json", [b"old"])

    def new_content() -> Iterator[bytes]:
        yield b"new, "
        assert b"".join(storage.iter_bytes("result.json")) == b"old"
        yield b"longer"

    storage.save("result.json", new_content())
    assert b"".join(storage.iter_bytes("result.json")) == b"new, longer"


def test_oversize_raises_and_leaves_nothing(storage: LocalStorage, root: Path) -> None:
    with pytest.raises(PayloadTooLarge):
        storage.save("jobs/1/input.wav", [b"x" * 60, b"x" * 60], max_bytes=100)
    assert files_under(root) == []
    assert list(root.iterdir()) == []  # nor the folders made for it


def test_oversize_keeps_the_previous_object(storage: LocalStorage, root: Path) -> None:
    storage.save("a", [b"previous"])
    with pytest.raises(PayloadTooLarge):
        storage.save("a", [b"x" * 101], max_bytes=100)
    assert b"".join(storage.iter_bytes("a")) == b"previous"
    assert files_under(root) == ["a"]


def test_exactly_max_bytes_is_accepted(storage: LocalStorage) -> None:
    assert storage.save("a", [b"x" * 60, b"x" * 40], max_bytes=100) == 100


def test_failing_source_leaves_nothing(storage: LocalStorage, root: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        storage.save("a", broken())
    assert files_under(root) == []


def test_missing_objects(storage: LocalStorage) -> None:
    assert not storage.exists("nope")
    storage.delete("nope")
    storage.delete_prefix("nope")
    with pytest.raises(ObjectNotFound):
        storage.size("nope")
    with pytest.raises(ObjectNotFound):
        storage.iter_bytes("nope")
    with pytest.raises(ObjectNotFound), storage.open_local("nope"):
        pass


def test_a_folder_is_not_an_object(storage: LocalStorage) -> None:
    storage.save("jobs/1/a", [b"x"])
    assert not storage.exists("jobs/1")
    with pytest.raises(ObjectNotFound):
        storage.iter_bytes("jobs/1")
    with pytest.raises(ObjectNotFound):
        storage.size("jobs/1")


def test_delete_and_delete_prefix(storage: LocalStorage, root: Path) -> None:
    for key in ["jobs/1/a", "jobs/1/sub/b", "jobs/10/c", "other"]:
        storage.save(key, [b"x"])

    storage.delete("other")
    assert not storage.exists("other")
    storage.delete_prefix("jobs/1/")

    assert files_under(root) == ["jobs/10/c"]


def test_deleting_a_folders_last_object_removes_the_empty_folders_above_it(storage: LocalStorage, root: Path) -> None:
    for key in ["users/1/inputs/u1/a.wav", "users/1/inputs/u2/b.wav", "users/1/voices/v1/reference.wav"]:
        storage.save(key, [b"x"])

    storage.delete("users/1/inputs/u1/a.wav")
    assert not (root / "users/1/inputs/u1").exists() and (root / "users/1/inputs/u2").is_dir()
    storage.delete("users/1/inputs/u2/b.wav")
    assert not (root / "users/1/inputs").exists() and (root / "users/1/voices/v1").is_dir()
    storage.delete_prefix("users/1/voices/")
    assert list(root.iterdir()) == [] and root.is_dir()


def test_download_url_delegates_to_the_signer(storage: LocalStorage, signer: RecordingSigner) -> None:
    url = storage.download_url("jobs/1/out.srt", filename="talk.srt", expires_in=600)
    assert url == "https://api.test/download/jobs/1/out.srt?exp=600"
    assert signer.calls == [("jobs/1/out.srt", "talk.srt", 600)]


def test_check(storage: LocalStorage, root: Path) -> None:
    storage.check()
    root.rmdir()
    with pytest.raises(StorageUnavailable) as caught:
        storage.check()
    assert caught.value.error_code == "STORAGE_UNAVAILABLE"
    assert caught.value.status_code == 503
    root.write_bytes(b"a file where the folder should be")
    with pytest.raises(StorageUnavailable):
        storage.check()


def test_symlinks_out_of_the_root_are_refused(storage: LocalStorage, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (root / "escape").symlink_to(outside, target_is_directory=True)
    (root / "link").symlink_to(outside / "secret")

    for key in ["escape/secret", "escape/new", "link"]:
        with pytest.raises(InvalidStorageKey):
            storage.save(key, [b"overwrite"])
        with pytest.raises(InvalidStorageKey):
            storage.iter_bytes(key)
        with pytest.raises(InvalidStorageKey), storage.open_local(key):
            pass
        with pytest.raises(InvalidStorageKey):
            storage.exists(key)
        with pytest.raises(InvalidStorageKey):
            storage.delete(key)
    with pytest.raises(InvalidStorageKey):
        storage.delete_prefix("escape")
    assert files_under(outside) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlinks_within_the_root_are_followed(storage: LocalStorage, root: Path) -> None:
    storage.save("jobs/1/a", [b"x"])
    (root / "alias").symlink_to(root / "jobs", target_is_directory=True)
    assert b"".join(storage.iter_bytes("alias/1/a")) == b"x"


def test_factory_builds_local_storage(tmp_path: Path, signer: RecordingSigner) -> None:
    settings = Settings(_env_file=None, storage_backend="local", storage_dir=tmp_path / "files")
    storage = build_storage(settings, signer)
    assert isinstance(storage, LocalStorage)
    storage.save("a", [b"x"])
    assert (tmp_path / "files" / "a").read_bytes() == b"x"
