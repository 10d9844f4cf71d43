"""Speech to text: decode a media file, run a ``Transcriber`` over it, collect a ``Transcript``.

Progress goes to the hook in each step's own unit: seconds of audio decoded, then seconds of audio transcribed
(the end time of the latest segment), so the overall percentage and ETA follow the processed audio duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.transcriber import Segment, Transcriber, TranscriptionOptions
from app.pipelines.audio import SAMPLE_RATE, iter_decoded_chunks, probe_audio
from app.pipelines.formats import milliseconds
from app.pipelines.hooks import ProgressHook, setup_hook

STEP_WEIGHTS = {"decoding_audio": 0.05, "transcribing": 0.9, "formatting": 0.05}
DECODE_CHUNK_SECONDS = 60.0


@dataclass(frozen=True)
class Transcript:
    """The result of a transcription.

    Attributes:
        language: the file's detected (or forced) language.
        language_probability: confidence of that detection.
        duration: length of the decoded audio in seconds.
        segments: the recognised segments, in time order.
        engine: the transcriber's name, e.g. ``faster-whisper:base``.
    """

    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    engine: str

    @property
    def text(self) -> str:
        """The whole transcript as one string, segments separated by single spaces."""
        return " ".join(text for segment in self.segments if (text := segment.text.strip()))

    def serialize(self) -> dict[str, Any]:
        """A JSON-ready dict (times rounded to milliseconds, scores to three decimals).

        Returns:
            ``language``, ``language_probability``, ``duration``, ``engine``, ``text`` and ``segments``, each
            segment with its ``words``.
        """
        return {
            "language": self.language,
            "language_probability": round(self.language_probability, 3),
            "duration": _seconds(self.duration),
            "engine": self.engine,
            "text": self.text,
            "segments": [
                {
                    "id": segment.id,
                    "start": _seconds(segment.start),
                    "end": _seconds(segment.end),
                    "text": segment.text.strip(),
                    "language": segment.language,
                    "avg_logprob": round(segment.avg_logprob, 3),
                    "no_speech_prob": round(segment.no_speech_prob, 3),
                    "words": [
                        {
                            "start": _seconds(word.start),
                            "end": _seconds(word.end),
                            "word": word.word,
                            "probability": round(word.probability, 3),
                        }
                        for word in segment.words
                    ],
                }
                for segment in self.segments
            ],
        }


class TranscriptionPipeline:
    """Decode, transcribe and collect, reporting ``decoding_audio``, ``transcribing`` and ``formatting``.

    Args:
        transcriber: the speech-recognition engine.
    """

    def __init__(self, transcriber: Transcriber) -> None:
        self._transcriber = transcriber

    def apply(self, audio_path: Path, options: TranscriptionOptions, hook: ProgressHook | None = None) -> Transcript:
        """Transcribe one media file.

        Args:
            audio_path: any file FFmpeg decodes; video files use their first audio stream.
            options: how to transcribe.
            hook: receives progress; see ``STEP_WEIGHTS`` for the steps.

        Returns:
            The transcript.

        Raises:
            InvalidAudio: the file is not decodable audio.
            UnsupportedMediaType: the file has no audio stream.
        """
        report = setup_hook(hook)
        audio = _decode(audio_path, report)
        duration = audio.size / SAMPLE_RATE

        report("transcribing", completed=0.0, total=duration)
        stream, info = self._transcriber.transcribe(audio, options)
        segments: list[Segment] = []
        for segment in stream:
            segments.append(segment)
            report("transcribing", completed=min(segment.end, duration), total=duration)
        report("transcribing", completed=duration, total=duration)

        report("formatting", completed=0.0, total=1.0)
        transcript = Transcript(
            language=info.language,
            language_probability=info.language_probability,
            duration=duration,
            segments=segments,
            engine=self._transcriber.name,
        )
        report("formatting", completed=1.0, total=1.0)
        return transcript


def _decode(audio_path: Path, report: ProgressHook) -> np.ndarray:
    expected = probe_audio(audio_path).duration
    report("decoding_audio", completed=0.0, total=expected)
    chunks: list[np.ndarray] = []
    decoded = 0.0
    for chunk in iter_decoded_chunks(audio_path, sample_rate=SAMPLE_RATE, chunk_seconds=DECODE_CHUNK_SECONDS):
        chunks.append(chunk)
        decoded += chunk.size / SAMPLE_RATE
        report("decoding_audio", completed=decoded, total=max(expected, decoded))
    report("decoding_audio", completed=decoded, total=decoded)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def _seconds(value: float) -> float:
    return milliseconds(value) / 1000
