"""Batched Whisper decoding that keeps the language detected for every speech chunk.

faster-whisper's ``BatchedInferencePipeline`` in multilingual mode detects each chunk's language from the encoder
output it has already computed (no extra encoder pass), but only uses it to prompt the decoder. Recording those
detections lets every segment carry its own language at no cost; detecting per segment afterwards would run the
encoder a second time for each one.
"""

from __future__ import annotations

from typing import Any

from faster_whisper import BatchedInferencePipeline, WhisperModel


class _DetectionRecorder:
    """Wraps the CTranslate2 model and remembers the last ``detect_language`` answer."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.last: list[list[tuple[str, float]]] = []

    def detect_language(self, *args: Any, **kwargs: Any) -> Any:
        self.last = self._inner.detect_language(*args, **kwargs)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class LanguageTaggingPipeline(BatchedInferencePipeline):  # type: ignore[misc]
    """``BatchedInferencePipeline`` that maps each chunk (by its ``seek``) to ``(language, probability)``."""

    def __init__(self, model: WhisperModel) -> None:
        if not isinstance(model.model, _DetectionRecorder):
            model.model = _DetectionRecorder(model.model)
        super().__init__(model)
        self._recorder: _DetectionRecorder = model.model
        self.chunk_languages: dict[int, tuple[str, float]] = {}

    def forward(self, features: Any, tokenizer: Any, chunks_metadata: Any, options: Any) -> Any:
        self._recorder.last = []
        outputs = super().forward(features, tokenizer, chunks_metadata, options)
        if options.multilingual:
            for metadata, ranked in zip(chunks_metadata, self._recorder.last, strict=True):
                token, probability = ranked[0]
                seek = int(metadata["offset"] * self.model.frames_per_second)
                self.chunk_languages[seek] = (token.strip("<|>"), float(probability))
        return outputs
