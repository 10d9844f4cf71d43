"""Dubbing assembly: translated speech placed on the source recording's timeline.

Each line is spoken where the original line started. Translations often run longer than the original, so speech
that would run into the next line is sped up with Rubber Band (pitch preserved), but never beyond 1.5x: past that
speech stops being comfortable to follow. What still does not fit is left whole and overlaps the next line, and
the report says so; words are never cut off.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import soxr
from pedalboard import time_stretch

from app.engines.synthesis.base import SynthesizedSpeech, fade_edges
from app.pipelines.hooks import ProgressHook, setup_hook

MAX_SPEEDUP = 1.5
"""The fastest any line is ever played (1.5x its natural pace)."""
PEAK = 0.95
"""The output's peak level: full use of the range, with headroom for lossy encoders."""
_TOLERANCE_SECONDS = 0.01


@dataclass(frozen=True)
class DubSegment:
    """One line to speak: its text and the source time span it replaces (seconds)."""

    start: float
    end: float
    text: str
    segment_id: int | None = None
    """The transcript segment it speaks, reported back in its fit."""


@dataclass(frozen=True)
class SegmentFit:
    """How one line was fitted onto the timeline.

    Attributes:
        index: the line's position in the input.
        segment_id: the transcript segment the line speaks, where the caller named one.
        start: where its speech starts (the source start), in seconds.
        end: the source end of the line, in seconds.
        speech_seconds: how long its speech lasts as placed (after any speed-up).
        tempo: the speed-up applied (1.0 = natural pace, at most 1.5).
        shortened: the speech was sped up to fit.
        overlapped_next: even at the maximum speed-up it runs past the next line's start (or, for the last line,
            past the end of the recording).
    """

    index: int
    segment_id: int | None
    start: float
    end: float
    speech_seconds: float
    tempo: float
    shortened: bool
    overlapped_next: bool


@dataclass
class DubResult:
    """The dubbed track and how every line was fitted.

    Attributes:
        samples: mono float32 signal, peak-normalised; at least as long as the source recording.
        sample_rate: its rate in Hz.
        report: one ``SegmentFit`` per input line, in input order.
    """

    samples: np.ndarray
    sample_rate: int
    report: list[SegmentFit]

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate

    def serialize(self) -> dict[str, Any]:
        """The fitting report as JSON (the audio itself is stored as a file)."""
        return {
            "duration": round(self.duration, 3),
            "sample_rate": self.sample_rate,
            "shortened": sum(fit.shortened for fit in self.report),
            "overlapping": sum(fit.overlapped_next for fit in self.report),
            "segments": [asdict(fit) for fit in self.report],
        }


def assemble_dub(
    segments: Sequence[DubSegment],
    synthesize: Callable[[str], SynthesizedSpeech],
    *,
    total_duration: float,
    sample_rate: int = 24000,
    max_speedup: float = MAX_SPEEDUP,
    hook: ProgressHook | None = None,
) -> DubResult:
    """Speak every line and place it at its source start time on one track.

    The time a line may take runs from its start to the next line's start (the last line: to ``total_duration``).
    Longer speech is time-compressed just enough to fit, up to ``max_speedup``. Lines are synthesized one at a
    time and added into the output straight away, so memory holds the track plus one line.

    Args:
        segments: the lines, with their source times.
        synthesize: speaks one line (any engine, any native rate).
        total_duration: length of the source recording in seconds; the track is at least this long.
        sample_rate: the output rate in Hz.
        max_speedup: the largest tempo applied, between 1.0 and 1.5.
        hook: progress, reported as ``synthesizing`` with lines completed out of the total.

    Returns:
        The peak-normalised track and a report per line.

    Raises:
        ValueError: ``max_speedup`` is outside 1.0-1.5.
    """
    if not 1.0 <= max_speedup <= MAX_SPEEDUP:
        raise ValueError(f"max_speedup must be between 1.0 and {MAX_SPEEDUP}, not {max_speedup}")
    report = setup_hook(hook)
    order = sorted(range(len(segments)), key=lambda i: segments[i].start)
    track = np.zeros(round(total_duration * sample_rate), dtype=np.float32)
    fits: dict[int, SegmentFit] = {}
    for position, index in enumerate(order):
        segment = segments[index]
        following = order[position + 1] if position + 1 < len(order) else None
        limit = segments[following].start if following is not None else total_duration
        available = max(limit - segment.start, 0.0)
        samples, rate, tempo = _fitted(
            synthesize(segment.text) if segment.text.strip() else None, available, max_speedup
        )
        placed = _resampled(samples, rate, sample_rate)
        offset = round(max(segment.start, 0.0) * sample_rate)
        if offset + placed.size > track.size:
            track = np.concatenate([track, np.zeros(offset + placed.size - track.size, dtype=np.float32)])
        track[offset : offset + placed.size] += fade_edges(placed, sample_rate)
        seconds = placed.size / sample_rate
        fits[index] = SegmentFit(
            index=index,
            segment_id=segment.segment_id,
            start=round(segment.start, 3),
            end=round(segment.end, 3),
            speech_seconds=round(seconds, 3),
            tempo=round(tempo, 3),
            shortened=tempo > 1.0,
            overlapped_next=seconds > available + _TOLERANCE_SECONDS,
        )
        report("synthesizing", completed=position + 1, total=len(order))
    peak = float(np.max(np.abs(track))) if track.size else 0.0
    if peak > 0.0:
        track *= PEAK / peak
    return DubResult(samples=track, sample_rate=sample_rate, report=[fits[i] for i in range(len(segments))])


def _fitted(speech: SynthesizedSpeech | None, available: float, max_speedup: float) -> tuple[np.ndarray, int, float]:
    """The speech, time-compressed (pitch kept) just enough to last ``available`` seconds, up to ``max_speedup``."""
    if speech is None or speech.samples.size == 0:
        return np.zeros(0, dtype=np.float32), 1, 1.0
    samples = np.asarray(speech.samples, dtype=np.float32).reshape(-1)
    natural = samples.size / speech.sample_rate
    if natural <= available + _TOLERANCE_SECONDS:
        return samples, speech.sample_rate, 1.0
    tempo = min(natural / available, max_speedup) if available > 0 else max_speedup
    stretched = time_stretch(samples, float(speech.sample_rate), stretch_factor=tempo)
    return np.asarray(stretched, dtype=np.float32).reshape(-1), speech.sample_rate, tempo


def _resampled(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or samples.size == 0:
        return samples
    return np.asarray(soxr.resample(samples, rate, target), dtype=np.float32)
