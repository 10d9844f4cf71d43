"""What a speech-recognition engine takes and returns, independent of the library behind it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np


@dataclass(frozen=True)
class Word:
    """One recognised word; times in seconds from the start of the audio."""

    start: float
    end: float
    word: str
    probability: float


@dataclass(frozen=True)
class Segment:
    """One recognised stretch of speech.

    Attributes:
        id: 1-based position in the transcript.
        start: start time in seconds.
        end: end time in seconds.
        text: the recognised text, as the engine wrote it (may start with a space).
        words: word-level timings; empty when word timestamps were not asked for.
        avg_logprob: mean token log-probability (closer to 0 is more confident).
        no_speech_prob: the engine's estimate that the segment holds no speech.
        language: ISO 639-1 code spoken in this segment, when known.
    """

    id: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    language: str | None = None


@dataclass(frozen=True)
class TranscriptionInfo:
    """Facts about the whole input, known before the first segment is decoded.

    Attributes:
        language: the detected (or forced) language of the file.
        language_probability: confidence of that detection (1.0 when forced).
        duration: length of the input audio in seconds.
        duration_after_vad: seconds left after voice activity detection removed silence.
    """

    language: str
    language_probability: float
    duration: float
    duration_after_vad: float


@dataclass(frozen=True)
class TranscriptionOptions:
    """How to transcribe.

    Attributes:
        language: force this language; ``None`` detects it.
        task: ``transcribe`` keeps the spoken language, ``translate`` outputs English.
        beam_size: beam search width.
        word_timestamps: produce word-level timings.
        vad_filter: skip non-speech with voice activity detection (prevents hallucination loops).
        multilingual: detect the language per 30 s window, for files that switch language.
        detect_segment_language: label every segment with its own detected language.
        batch_size: decode this many speech chunks at once (faster on every device; 1 decodes sequentially with
            the previous text as context, which suits a single short clip).
    """

    language: str | None = None
    task: Literal["transcribe", "translate"] = "transcribe"
    beam_size: int = 5
    word_timestamps: bool = True
    vad_filter: bool = True
    multilingual: bool = True
    detect_segment_language: bool = True
    batch_size: int = 1


class Transcriber(Protocol):
    """A speech-recognition engine."""

    name: str

    def transcribe(
        self, audio: np.ndarray, options: TranscriptionOptions
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio.

        Args:
            audio: the signal.
            options: how to transcribe.

        Returns:
            A lazy iterator of segments (decoding happens as it is consumed) and the file-level info.
        """
        ...
