"""Frame-level speech and overlap scores from the PyanNet segmentation network (ONNX), for files of any length.

The network scores 5 s chunks: per frame (every 270 samples, 16.9 ms), the probability that each of up to three
local speakers talks. The highest of the three is the probability of speech, the second highest that of overlapped
speech. Chunks slide over the file with a fixed step and their scores are averaged with Hamming weights (as
pyannote aggregates them); audio arrives chunk by chunk, so memory holds one chunk batch, not the file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.errors import ModelNotAvailable

SAMPLE_RATE = 16000
CHUNK_SAMPLES = 5 * SAMPLE_RATE
FRAME_STEP_SAMPLES = 270
"""SincNet stride 10 times three 3x poolings."""
RECEPTIVE_FIELD_SAMPLES = 991
FRAMES_PER_CHUNK = 293


@dataclass(frozen=True)
class FrameScores:
    """Speech and overlapped-speech probabilities on a regular frame grid.

    Attributes:
        speech: probability of at least one speaker, per frame.
        overlap: probability of at least two speakers, per frame.
        frame_step: seconds between frames.
        frame_offset: time of frame 0's centre, in seconds.
    """

    speech: np.ndarray
    overlap: np.ndarray
    frame_step: float = FRAME_STEP_SAMPLES / SAMPLE_RATE
    frame_offset: float = RECEPTIVE_FIELD_SAMPLES / 2 / SAMPLE_RATE

    def time_of(self, frame: int | np.ndarray) -> Any:
        return self.frame_offset + np.asarray(frame) * self.frame_step


class _OverlapAdd:
    """Hamming-weighted average of chunk scores placed on the file's frame grid, grown as chunks arrive."""

    def __init__(self) -> None:
        self._sums = np.zeros((0, 2), dtype=np.float64)
        self._weights = np.zeros(0, dtype=np.float64)
        self._window = np.hamming(FRAMES_PER_CHUNK)

    def add(self, first_frame: int, scores: np.ndarray) -> None:
        end = first_frame + scores.shape[0]
        if end > self._weights.size:
            grow = max(end - self._weights.size, 4096)
            self._sums = np.concatenate([self._sums, np.zeros((grow, 2))])
            self._weights = np.concatenate([self._weights, np.zeros(grow)])
        window = self._window[: scores.shape[0]]
        self._sums[first_frame:end] += scores * window[:, None]
        self._weights[first_frame:end] += window

    def result(self, frames: int) -> tuple[np.ndarray, np.ndarray]:
        averaged = self._sums[:frames] / np.maximum(self._weights[:frames], 1e-8)[:, None]
        return averaged[:, 0].astype(np.float32), averaged[:, 1].astype(np.float32)


class PyanNetSegmenter:
    """Speech and overlap detection with pyannote's segmentation network.

    Args:
        model_path: the network as ONNX (``app.engines.speaker.bundled.segmentation_onnx``).
        step_seconds: hop between 5 s chunks; smaller is slightly more accurate and proportionally slower.
        batch_size: chunks scored per inference call (8 keeps ONNX Runtime's buffers for the 251-tap first
            convolution near 60 MB; larger batches are no faster on a CPU).
        cpu_threads: ONNX Runtime intra-op threads; 0 lets the runtime choose.
        providers: ONNX Runtime execution providers, best first.

    Raises:
        ModelNotAvailable: the model does not load.
    """

    name = "pyannote segmentation (PyanNet, ONNX)"

    def __init__(
        self,
        model_path: Path,
        *,
        step_seconds: float = 1.0,
        batch_size: int = 8,
        cpu_threads: int = 0,
        providers: tuple[str, ...] = ("CPUExecutionProvider",),
    ) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = cpu_threads
        try:
            self._session: Any = onnxruntime.InferenceSession(str(model_path), options, providers=list(providers))
        except (OSError, RuntimeError) as exc:
            raise ModelNotAvailable(
                "The speaker segmentation model does not load", details={"model": str(model_path)}
            ) from exc
        self._step = max(FRAME_STEP_SAMPLES, round(step_seconds * SAMPLE_RATE))
        self._batch = batch_size

    def score(self, audio: Iterable[np.ndarray]) -> FrameScores:
        """Score a file streamed as consecutive 16 kHz mono chunks of any size.

        Args:
            audio: the file's samples, in order.

        Returns:
            Per-frame speech and overlap probabilities covering the whole file.
        """
        accumulator = _OverlapAdd()
        pending: list[tuple[int, np.ndarray]] = []
        buffer = np.zeros(0, dtype=np.float32)
        buffer_start = 0  # file offset of buffer[0], in samples
        next_chunk = 0
        for piece in audio:
            buffer = np.concatenate([buffer, np.asarray(piece, dtype=np.float32)])
            while next_chunk + CHUNK_SAMPLES <= buffer_start + buffer.size:
                begin = next_chunk - buffer_start
                pending.append((next_chunk, buffer[begin : begin + CHUNK_SAMPLES]))
                next_chunk += self._step
                if len(pending) == self._batch:
                    self._flush(pending, accumulator)
            consumed = min(next_chunk - buffer_start, buffer.size)
            buffer, buffer_start = buffer[consumed:], buffer_start + consumed
        total = buffer_start + buffer.size
        last_end = next_chunk - self._step + CHUNK_SAMPLES if next_chunk else 0
        if last_end < total:
            # The end of the file goes in one zero-padded chunk, so it is scored like the rest (as pyannote does).
            tail = np.zeros(CHUNK_SAMPLES, dtype=np.float32)
            rest = buffer[next_chunk - buffer_start :]
            tail[: rest.size] = rest
            pending.append((next_chunk, tail))
        self._flush(pending, accumulator)
        frames = (total - RECEPTIVE_FIELD_SAMPLES) // FRAME_STEP_SAMPLES + 1 if total >= RECEPTIVE_FIELD_SAMPLES else 0
        speech, overlap = accumulator.result(frames)
        return FrameScores(speech=speech, overlap=overlap)

    def _flush(self, pending: list[tuple[int, np.ndarray]], accumulator: _OverlapAdd) -> None:
        if not pending:
            return
        batch = np.stack([chunk for _, chunk in pending])[:, None, :]
        scores = np.sort(self._session.run(None, {"waveforms": batch})[0], axis=2)
        for (start, _), chunk_scores in zip(pending, scores, strict=True):
            first_frame = round(start / FRAME_STEP_SAMPLES)
            accumulator.add(first_frame, np.stack([chunk_scores[:, -1], chunk_scores[:, -2]], axis=1))
        pending.clear()
