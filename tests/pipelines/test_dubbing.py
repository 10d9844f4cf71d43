"""Dubbing assembly with the real Piper voice: lines start on time, long lines are sped up (at most 1.5x) and
reported, nothing is cut off, and the track never clips."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from app.engines.synthesis import SynthesizedSpeech
from app.engines.synthesis.piper import PiperSynthesizer, bundled_piper_files
from app.engines.whisper import FasterWhisperTranscriber
from app.pipelines.dubbing import PEAK, DubResult, DubSegment, assemble_dub
from tests.engines.synthesis import heard, word_error_rate

RATE = 24000
LINES = (
    "Good morning everyone.",
    "Welcome to the quarterly meeting of the board.",
    "Please take a seat, we will start in a minute.",
)
Speak = Callable[[str], SynthesizedSpeech]


@pytest.fixture(scope="module")
def speak() -> Speak:
    """The Piper voice, memoised per text so a line's natural length is the same every time it is spoken."""
    files = bundled_piper_files()
    piper = PiperSynthesizer(files.model, files.config, cpu_threads=2)

    @cache
    def say(text: str) -> SynthesizedSpeech:
        return piper.synthesize(text, language="en")

    return say


def onset(result: DubResult, after: float, *, floor_db: float = -35.0) -> float:
    """The start of the first 10 ms frame after ``after`` seconds louder than ``floor_db`` below the peak."""
    frame = RATE // 100
    samples = result.samples[round(after * RATE) :]
    frames = np.abs(samples[: samples.size // frame * frame].reshape(-1, frame)).max(axis=1)
    loud = np.flatnonzero(frames > PEAK * 10.0 ** (floor_db / 20.0))
    return after + float(loud[0]) * frame / RATE


def test_lines_start_at_their_source_times(speak: Speak) -> None:
    natural = [speak(line).duration for line in LINES]
    starts = [0.5, 0.5 + natural[0] + 0.7]
    starts.append(starts[1] + natural[1] + 0.7)
    total = starts[2] + natural[2] + 0.5
    segments = [DubSegment(start=s, end=s + n, text=t) for s, n, t in zip(starts, natural, LINES, strict=True)]
    calls: list[tuple[str, float | None, float | None]] = []

    def hook(step: str, *, completed: float | None = None, total: float | None = None) -> None:
        calls.append((step, completed, total))

    result = assemble_dub(segments, speak, total_duration=total, hook=hook)

    assert result.sample_rate == RATE
    assert result.samples.size == round(total * RATE)
    for start in starts:
        assert onset(result, start - 0.5) == pytest.approx(start, abs=0.15)
    assert [(f.tempo, f.shortened, f.overlapped_next) for f in result.report] == [(1.0, False, False)] * 3
    assert float(np.abs(result.samples).max()) == pytest.approx(PEAK, abs=1e-6)
    assert calls == [("synthesizing", 1, 3), ("synthesizing", 2, 3), ("synthesizing", 3, 3)]


def test_too_long_lines_are_sped_up_at_most_1_5x_and_reported(
    speak: Speak, whisper_base: FasterWhisperTranscriber
) -> None:
    natural = [speak(line).duration for line in LINES]
    # Line 0 needs 1.25x to fit, line 1 would need 3x (so it is capped and overlaps line 2), and line 2 would need
    # 2x to end with the recording (so it is capped and runs past the end).
    starts = [0.0, natural[0] / 1.25]
    starts.append(starts[1] + natural[1] / 3)
    total = starts[2] + natural[2] / 2
    segments = [DubSegment(start=s, end=s + 1.0, text=t) for s, t in zip(starts, LINES, strict=True)]

    result = assemble_dub(segments, speak, total_duration=total, sample_rate=RATE)

    first, second, third = result.report
    assert first.tempo == pytest.approx(1.25, abs=0.01)
    assert (first.shortened, first.overlapped_next) == (True, False)
    assert (second.tempo, second.shortened, second.overlapped_next) == (1.5, True, True)
    assert (third.tempo, third.shortened, third.overlapped_next) == (1.5, True, True)
    for fit, seconds in zip(result.report, natural, strict=True):
        assert fit.speech_seconds == pytest.approx(seconds / fit.tempo, abs=0.05)
    assert result.duration == pytest.approx(starts[2] + natural[2] / 1.5, abs=0.05)
    assert result.serialize()["overlapping"] == 2
    # A line that runs past the end is sped up, not cut: every word is still there. (Heard on its own: in the dub
    # above its first second is mixed with the line before, which masks words now and then.)
    alone = assemble_dub([DubSegment(0.0, 1.0, LINES[2])], speak, total_duration=natural[2] / 2, sample_rate=RATE)
    said = heard(whisper_base, SynthesizedSpeech(samples=alone.samples, sample_rate=RATE), "en")
    assert (alone.report[0].tempo, alone.report[0].shortened) == (1.5, True)
    assert word_error_rate(LINES[2], said) <= 0.2


def test_empty_lines_are_reported_silent(speak: Speak) -> None:
    segments = [DubSegment(0.2, 1.0, "  "), DubSegment(1.0, 3.0, LINES[0])]

    result = assemble_dub(segments, speak, total_duration=4.0, sample_rate=16000)

    assert result.report[0].speech_seconds == 0.0
    assert not result.samples[: round(0.99 * 16000)].any()
    assert result.report[1].speech_seconds > 0.5


def test_report_keeps_input_order_for_unsorted_lines(speak: Speak) -> None:
    segments = [DubSegment(3.0, 4.5, LINES[0], segment_id=4), DubSegment(0.5, 2.5, LINES[0], segment_id=2)]

    result = assemble_dub(segments, speak, total_duration=5.0)

    assert [fit.start for fit in result.report] == [3.0, 0.5]
    assert [fit.index for fit in result.report] == [0, 1]
    assert [fit.segment_id for fit in result.report] == [4, 2]  # what the job's result names them by


def test_speed_up_is_never_above_1_5(speak: Speak) -> None:
    with pytest.raises(ValueError, match="max_speedup"):
        assemble_dub([DubSegment(0.0, 1.0, LINES[0])], speak, total_duration=1.0, max_speedup=2.0)
