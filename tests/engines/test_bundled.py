"""The bundled Whisper base model is joined once, checked, and moved into place atomically."""

from __future__ import annotations

import hashlib
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.engines.bundled import (
    BUNDLED_DIR,
    BUNDLED_SHA256,
    MARKER,
    BundledSource,
    bundled_whisper_base,
    installed_whisper_base,
    resolve_whisper_model,
    whisper_config,
)
from app.engines.errors import ModelNotAvailable
from app.engines.languages import WHISPER_LANGUAGES, model_languages


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def test_assembles_the_checked_model(tmp_path: Path) -> None:
    folder = bundled_whisper_base(tmp_path)

    assert folder == tmp_path / BUNDLED_DIR
    assert sha256_of(folder / "model.bin") == BUNDLED_SHA256
    assert {path.name for path in folder.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.txt",
        MARKER,
    }
    assert [path.name for path in tmp_path.iterdir()] == [BUNDLED_DIR], "no staging folder is left behind"


def test_second_call_is_a_no_op(tmp_path: Path) -> None:
    folder = bundled_whisper_base(tmp_path)
    before = {path.name: path.stat().st_mtime_ns for path in folder.iterdir()}

    assert bundled_whisper_base(tmp_path) == folder
    assert {path.name: path.stat().st_mtime_ns for path in folder.iterdir()} == before


def test_corrupt_part_is_refused(tmp_path: Path) -> None:
    installed = installed_whisper_base()
    corrupt = tmp_path / "parts" / "model.bin.part2"
    corrupt.parent.mkdir()
    shutil.copyfile(installed.parts[1], corrupt)
    with corrupt.open("r+b") as stream:
        stream.seek(1000)
        byte = stream.read(1)
        stream.seek(1000)
        stream.write(bytes([byte[0] ^ 0xFF]))
    source = BundledSource(
        parts=(installed.parts[0], corrupt), extra_files=installed.extra_files, sha256=installed.sha256
    )
    cache = tmp_path / "cache"

    with pytest.raises(ModelNotAvailable) as caught:
        bundled_whisper_base(cache, source=source)

    assert isinstance(caught.value.details, dict)
    assert caught.value.details["expected_sha256"] == BUNDLED_SHA256
    assert list(cache.iterdir()) == [], "neither the model folder nor a staging folder remains"


def test_missing_part_is_refused(tmp_path: Path) -> None:
    installed = installed_whisper_base()
    source = BundledSource(
        parts=(installed.parts[0], tmp_path / "absent.part2"),
        extra_files=installed.extra_files,
        sha256=installed.sha256,
    )

    with pytest.raises(ModelNotAvailable, match="missing"):
        bundled_whisper_base(tmp_path / "cache", source=source)


def test_concurrent_assembly_yields_one_complete_folder(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        folders = list(pool.map(bundled_whisper_base, [tmp_path, tmp_path]))

    assert folders == [tmp_path / BUNDLED_DIR] * 2
    assert sha256_of(folders[0] / "model.bin") == BUNDLED_SHA256
    assert [path.name for path in tmp_path.iterdir()] == [BUNDLED_DIR]


def test_incomplete_leftover_folder_is_replaced(tmp_path: Path) -> None:
    leftover = tmp_path / BUNDLED_DIR
    leftover.mkdir()
    (leftover / "model.bin").write_bytes(b"half a model")

    folder = bundled_whisper_base(tmp_path)

    assert (folder / MARKER).is_file()
    assert sha256_of(folder / "model.bin") == BUNDLED_SHA256
    assert [path.name for path in tmp_path.iterdir()] == [BUNDLED_DIR]


def test_resolve_base_and_local_folder(tmp_path: Path) -> None:
    local = tmp_path / "my-model"
    local.mkdir()
    (local / "model.bin").write_bytes(b"")

    assert resolve_whisper_model("base", tmp_path / "cache") == tmp_path / "cache" / BUNDLED_DIR
    assert resolve_whisper_model(str(local), tmp_path / "cache") == local


@pytest.mark.parametrize("name", ["large-v3", "Systran/faster-whisper-small", "/nonexistent/model"])
def test_unknown_model_is_not_available(tmp_path: Path, name: str) -> None:
    with pytest.raises(ModelNotAvailable, match="WHISPER_MODEL") as caught:
        resolve_whisper_model(name, tmp_path)

    assert caught.value.status_code == 503
    assert caught.value.error_code == "MODEL_NOT_AVAILABLE"
    assert not (tmp_path / BUNDLED_DIR).exists()


def test_a_models_languages_are_those_its_config_lists(tmp_path: Path) -> None:
    large_v3 = tmp_path / "config.json"
    large_v3.write_text(json.dumps({"lang_ids": list(range(50259, 50359))}))
    unreadable = tmp_path / "broken.json"
    unreadable.write_text("{")

    assert "yue" in model_languages(large_v3) and len(model_languages(large_v3)) == 100
    bundled = model_languages(whisper_config("base"))
    assert len(bundled) == 99 and "yue" not in bundled and {"en", "de", "pt", "su"} <= bundled
    assert model_languages(unreadable) == model_languages(None) == WHISPER_LANGUAGES
