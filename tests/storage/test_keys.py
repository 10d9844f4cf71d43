"""Key validation, and proof that every verb of both backends applies it before touching anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from app.core.errors import InvalidInput
from app.storage import InvalidStorageKey, Storage, validate_key
from app.storage.local import LocalStorage

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

VALID_KEYS = ["a", "jobs/1/input.wav", "A-b_c.d/e.f", "x" * 512, "/".join(["ab"] * 100)]
BAD_KEYS = [
    "",
    "../x",
    "/etc/passwd",
    "a/../../b",
    "a\\b",
    "a//b",
    "a\x00b",
    ".",
    "..",
    "a/./b",
    ".hidden",
    "-flag",
    "a b",
    "caf\u00e9",
    "a\nb",
    "x" * 513,
]


def _open_local(storage: Storage, key: str) -> None:
    with storage.open_local(key):
        pass


VERBS: dict[str, Callable[[Storage, str], object]] = {
    "save": lambda storage, key: storage.save(key, [b"data"]),
    "open_local": _open_local,
    "iter_bytes": lambda storage, key: list(storage.iter_bytes(key)),
    "delete": lambda storage, key: storage.delete(key),
    "delete_prefix": lambda storage, key: storage.delete_prefix(key),
    "exists": lambda storage, key: storage.exists(key),
    "size": lambda storage, key: storage.size(key),
    "download_url": lambda storage, key: storage.download_url(key, filename="f.wav", expires_in=60),
}


def _refuse_to_sign(key: str, filename: str, expires_in: int) -> str:
    raise AssertionError("the signer must not see an invalid key")


@pytest.mark.parametrize("key", VALID_KEYS)
def test_valid_keys_pass_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("key", [*BAD_KEYS, "a/"])  # "a/" is a fine prefix but not a key
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(InvalidStorageKey) as caught:
        validate_key(key)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.error_code == "INVALID_STORAGE_KEY"
    assert caught.value.status_code == 422


@pytest.mark.parametrize("verb", VERBS)
def test_every_local_verb_refuses_bad_keys(verb: str, tmp_path: Path) -> None:
    root = tmp_path / "root"
    storage = LocalStorage(root, _refuse_to_sign)
    for key in BAD_KEYS:
        with pytest.raises(InvalidStorageKey):
            VERBS[verb](storage, key)
    assert list(tmp_path.rglob("*")) == [root]


@pytest.mark.parametrize("verb", VERBS)
def test_every_s3_verb_refuses_bad_keys(verb: str, s3_storage: Storage, s3_client: S3Client, s3_bucket: str) -> None:
    for key in BAD_KEYS:
        with pytest.raises(InvalidStorageKey):
            VERBS[verb](s3_storage, key)
    assert s3_client.list_objects_v2(Bucket=s3_bucket)["KeyCount"] == 0


@pytest.mark.parametrize("prefix", ["", "/", "//", "../"])
def test_delete_prefix_never_means_everything(prefix: str, tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, _refuse_to_sign)
    storage.save("keep/me", [b"x"])
    with pytest.raises(InvalidStorageKey):
        storage.delete_prefix(prefix)
    assert storage.exists("keep/me")
