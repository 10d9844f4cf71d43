"""Speaker engines: who spoke when (diarization) and how alike two voices are (speaker embeddings)."""

from __future__ import annotations

from app.engines.speaker.base import (
    MAX_SPEAKERS,
    Diarization,
    DiarizationOptions,
    Diarizer,
    SpeakerEmbedder,
    SpeakerTurn,
)
from app.engines.speaker.bundled import bundled_embedder_model, segmentation_onnx
from app.engines.speaker.embedding import DVectorEmbedder
from app.engines.speaker.segmentation import PyanNetSegmenter

__all__ = [
    "MAX_SPEAKERS",
    "DVectorEmbedder",
    "Diarization",
    "DiarizationOptions",
    "Diarizer",
    "PyanNetSegmenter",
    "SpeakerEmbedder",
    "SpeakerTurn",
    "bundled_embedder_model",
    "segmentation_onnx",
]
