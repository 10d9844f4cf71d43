"""Speech to text: decode a media file, run a ``Transcriber`` over it, collect a ``Transcript``.

The file is stream-decoded in windows cut at pauses (``app.pipelines.windows``), so memory is bounded for inputs of
any length and timestamps stay absolute. Progress is reported in seconds of audio transcribed (the end time of the
latest segment), so the overall percentage and ETA follow the processed audio duration.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from operator import attrgetter
from pathlib import Path
from typing import Any

from app.engines.transcriber import Segment, Transcriber, TranscriptionOptions
from app.pipelines.audio import SAMPLE_RATE, probe_audio
from app.pipelines.formats import milliseconds
from app.pipelines.hooks import ProgressHook, setup_hook
from app.pipelines.segmentation import split_segments
from app.pipelines.windows import iter_speech_windows

STEP_WEIGHTS = {"transcribing": 0.97, "formatting": 0.03}
WINDOW_SECONDS = 600.0
"""Ten minutes of 16 kHz float32 audio is about 38 MB: the most a transcription holds at once."""


@dataclass(frozen=True)
class Transcript:
    """The result of a transcription.

    Attributes:
        language: the file's detected (or forced) language.
        language_probability: confidence of that detection.
        duration: length of the decoded audio in seconds.
        segments: the recognised segments, in time order.
        engine: the transcriber's name, e.g. ``faster-whisper:base``.
        declared_duration: the length the audio stream announced (0 when it announces none); far more than
            ``duration`` means the file was cut short.
    """

    language: str
    language_probability: float
    duration: float
    segments: list[Segment]
    engine: str
    declared_duration: float = 0.0

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
    """Stream-decode, transcribe window by window and collect, reporting ``transcribing`` and ``formatting``, and
    the status steps ``decoding`` and ``detecting_speech`` (reported without amounts) as each window goes through
    them.

    Args:
        transcriber: the speech-recognition engine.
        window_seconds: how much decoded audio is held at once; memory stays bounded however long the file is.
        max_seconds: the most audio a file may hold, whatever its header declares (``None``: no limit).
    """

    def __init__(
        self, transcriber: Transcriber, *, window_seconds: float = WINDOW_SECONDS, max_seconds: float | None = None
    ) -> None:
        self._transcriber = transcriber
        self._window_seconds = window_seconds
        self._max_seconds = max_seconds

    def apply(self, audio_path: Path, options: TranscriptionOptions, hook: ProgressHook | None = None) -> Transcript:
        """Transcribe one media file.

        Args:
            audio_path: any file FFmpeg decodes; video files use their first audio stream.
            options: how to transcribe.
            hook: receives progress in seconds of audio transcribed; see ``STEP_WEIGHTS``.

        Returns:
            The transcript, with timestamps from the start of the file.

        Raises:
            InvalidAudio: the file is not decodable audio.
            AudioLongerThanAllowed: the file holds more than ``max_seconds`` of audio.
            UnsupportedMediaType: the file has no audio stream.
        """
        report = setup_hook(hook)
        probe = probe_audio(audio_path)
        expected = probe.duration
        report("transcribing", completed=0.0, total=expected)
        segments: list[Segment] = []
        languages: Counter[str] = Counter()  # samples per detected language, for a file without words
        confidence: dict[str, list[float]] = {}
        duration = 0.0
        windows = iter_speech_windows(audio_path, window_seconds=self._window_seconds, max_seconds=self._max_seconds)
        while True:
            report("decoding")  # status steps: named in progress messages, the percentage stays where it is
            if (window := next(windows, None)) is None:
                break
            report("detecting_speech")  # voice activity and language detection run before decoding starts
            stream, info = self._transcriber.transcribe(window.samples, options)
            report("transcribing", completed=window.offset, total=max(expected, duration))
            for piece in stream:
                for segment in split_segments([piece]):
                    segments.append(_shifted(segment, window.offset, len(segments) + 1))
                report("transcribing", completed=window.offset + piece.end, total=max(expected, duration))
            languages[info.language] += window.samples.size
            if info.duration_after_vad > 0:  # a window without speech detected no language at all
                confidence.setdefault(info.language, []).append(info.language_probability)
            duration = window.offset + window.samples.size / SAMPLE_RATE
            report("transcribing", completed=duration, total=max(expected, duration))

        report("formatting", completed=0.0, total=1.0)
        # Speech decoded again (see ``app.engines.whisper_batched``) can fall inside a chunk's span: order by time.
        segments = [replace(s, id=index) for index, s in enumerate(sorted(segments, key=attrgetter("start")), start=1)]
        # The file's language is the one most of its segments' time is in (detection on its first 30 s can be wrong);
        # its probability is detection's where detection chose it, else that share of the time.
        spoken: Counter[str] = Counter()  # milliseconds per language
        for segment in segments:
            if segment.language:
                spoken[segment.language] += milliseconds(segment.end - segment.start)
        language = options.language or _most_common(spoken) or _most_common(languages) or "en"
        scores = confidence.get(language) or [spoken[language] / max(sum(spoken.values()), 1)]
        transcript = Transcript(
            language=language,
            language_probability=sum(scores) / len(scores),
            duration=duration,
            segments=segments,
            engine=self._transcriber.name,
            declared_duration=probe.stream_duration or 0.0,
        )
        report("formatting", completed=1.0, total=1.0)
        return transcript


def _most_common(counts: Counter[str]) -> str | None:
    return counts.most_common(1)[0][0] if counts else None


def _shifted(segment: Segment, offset: float, index: int) -> Segment:
    """The segment with times measured from the start of the file instead of its window."""
    words = [replace(word, start=word.start + offset, end=word.end + offset) for word in segment.words]
    return replace(segment, id=index, start=segment.start + offset, end=segment.end + offset, words=words)


def _seconds(value: float) -> float:
    return milliseconds(value) / 1000
