"""Argos Translate packages and the deployment's model folder.

An ``.argosmodel`` is a zip holding one folder with ``metadata.json`` (``from_code``, ``to_code``), a
``sentencepiece.model`` and a CTranslate2 model in ``model/``. It is unpacked once and run by
``CTranslate2Translator``, without argostranslate itself (which needs torch and downloads resources).

``discover_translation_models`` turns a folder (``TRANSLATION_MODELS_DIR``) into engines, so a deployment adds a
pair by dropping in an ``.argosmodel``, an unpacked Argos package, or a CTranslate2 folder with
``audio-api-translation.json`` (see ``app.engines.translation.ctranslate2_marian``).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from app.engines.translation.base import TextTranslator
from app.engines.translation.ctranslate2_marian import (
    METADATA_FILE,
    CTranslate2Options,
    CTranslate2Translator,
    invalid_model,
    load_model_folder,
    read_json,
)

logger = logging.getLogger(__name__)

ARGOS_SUFFIX = ".argosmodel"
ARGOS_METADATA = "metadata.json"
ARGOS_CODES: dict[str, tuple[str, str]] = {"pb": ("pt", "pt-BR"), "zt": ("zh", "zh-Hant")}
"""Argos codes that are not ISO 639-1, mapped to the code Whisper reports and the variant they stand for."""


def load_argos_package(
    path: Path, extract_dir: Path, *, options: CTranslate2Options | None = None
) -> CTranslate2Translator:
    """Unpack an ``.argosmodel`` (once) and build its translator.

    The archive goes to a folder named after its path, size and modification time, so a replaced file is unpacked
    again and an unchanged one never is. It is unpacked into a staging folder and renamed into place, so a
    concurrent process never sees half an archive.

    Args:
        path: the ``.argosmodel`` file.
        extract_dir: where unpacked packages are kept (created if missing).
        options: how to run the model; CPU int8 by default.

    Raises:
        TranslationModelInvalid: not a zip, an entry that would land outside the folder (absolute, ``..``, a
            symlink), or an unusable package.
    """
    return load_argos_folder(extract_argos_package(path, extract_dir), options=options)


def extract_argos_package(path: Path, extract_dir: Path) -> Path:
    """Unpack an ``.argosmodel`` safely into ``extract_dir`` (once) and return the folder with its metadata."""
    info = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}".encode()).hexdigest()[:16]
    destination = extract_dir / f"{path.stem}-{key}"
    if not destination.is_dir():
        extract_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=extract_dir))
        try:
            _safe_extract(path, staging)
            try:
                staging.rename(destination)
            except OSError:
                if not destination.is_dir():
                    raise
                logger.debug("%s was unpacked by another process", path.name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return _package_root(destination)


def load_argos_folder(package_dir: Path, *, options: CTranslate2Options | None = None) -> CTranslate2Translator:
    """Build the translator for an unpacked Argos package (the folder holding ``metadata.json``).

    Raises:
        TranslationModelInvalid: missing metadata or codes, or a tokenizer other than sentencepiece.
    """
    meta = read_json(package_dir / ARGOS_METADATA)
    codes = [meta.get("from_code"), meta.get("to_code")]
    if not all(isinstance(code, str) and code for code in codes):
        raise invalid_model(package_dir, f"{ARGOS_METADATA} lacks from_code/to_code")
    (source, source_variant), (target, target_variant) = (_argos_code(str(code)) for code in codes)
    tokenizer = package_dir / "sentencepiece.model"
    if not tokenizer.is_file():
        raise invalid_model(package_dir, "no sentencepiece.model (BPE-tokenized Argos packages are not supported)")
    prefix = meta.get("target_prefix")
    variants = {code: variant for code, variant in ((source, source_variant), (target, target_variant)) if variant}
    return CTranslate2Translator(
        package_dir / "model",
        source=source,
        target=target,
        sentencepiece_model=tokenizer,
        target_prefix=[prefix] if isinstance(prefix, str) and prefix else (),
        variants=variants,
        name=f"argos:{package_dir.name}",
        **(options or CTranslate2Options()).as_kwargs(),
    )


def discover_translation_models(
    folder: Path, extract_dir: Path, *, options: CTranslate2Options | None = None
) -> list[TextTranslator]:
    """Every translation model a deployment dropped into ``folder``, in name order.

    Recognised entries: ``*.argosmodel`` files, unpacked Argos packages (folders with ``metadata.json``) and
    CTranslate2 folders with ``audio-api-translation.json``; anything else is ignored. A missing folder means no
    extra models.

    Args:
        folder: the deployment's translation model folder.
        extract_dir: where ``.argosmodel`` archives are unpacked.
        options: how to run the models; CPU int8 by default.

    Raises:
        TranslationModelInvalid: a recognised entry is broken; the operator has to fix or remove it, rather than a
            language pair silently disappearing.
    """
    if not folder.is_dir():
        logger.info("no translation model folder at %s", folder)
        return []
    engines: list[TextTranslator] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix == ARGOS_SUFFIX:
            engines.append(load_argos_package(entry, extract_dir, options=options))
        elif (entry / METADATA_FILE).is_file():
            engines.append(load_model_folder(entry, options))
        elif (entry / ARGOS_METADATA).is_file():
            engines.append(load_argos_folder(entry, options=options))
        else:
            logger.debug("ignoring %s in the translation model folder", entry.name)
    for engine in engines:
        logger.info("translation model %s: %s", engine.name, sorted(engine.pairs()))
    return engines


def _argos_code(code: str) -> tuple[str, str | None]:
    code = code.strip().lower()
    return ARGOS_CODES.get(code, (code, None))


def _safe_extract(archive_path: Path, destination: Path) -> None:
    try:
        with zipfile.ZipFile(archive_path) as archive:
            for member in archive.infolist():
                if not _is_safe_member(member):
                    raise invalid_model(archive_path, f"unsafe entry in archive: {member.filename!r}")
            archive.extractall(destination)
    except (zipfile.BadZipFile, OSError) as exc:
        raise invalid_model(archive_path, "not a readable zip archive", exc) from exc


def _is_safe_member(member: zipfile.ZipInfo) -> bool:
    name = member.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    is_symlink = stat.S_ISLNK(member.external_attr >> 16)
    return bool(parts) and not name.startswith("/") and ".." not in parts and ":" not in parts[0] and not is_symlink


def _package_root(destination: Path) -> Path:
    if (destination / ARGOS_METADATA).is_file():
        return destination
    roots = [child for child in destination.iterdir() if (child / ARGOS_METADATA).is_file()]
    if len(roots) != 1:
        raise invalid_model(destination, f"expected one folder with {ARGOS_METADATA} in the package")
    return roots[0]
