"""The transcription pipeline end to end with the bundled Whisper base model on real speech."""

from __future__ import annotations

import functools
import itertools
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest

from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber
from app.engines.whisper_batched import LanguageTaggingPipeline
from app.pipelines.audio import decode_audio
from app.pipelines.encode import encode_audio
from app.pipelines.formats import render_transcript
from app.pipelines.transcription import STEP_WEIGHTS, Transcript, TranscriptionPipeline

JFK_REFERENCE = (
    "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
)
ENGLISH_UNTIL = 29.6
GERMAN_FROM = 30.0


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@dataclass
class RecordingHook:
    calls: list[tuple[str, float | None, float | None]] = field(default_factory=list)

    def __call__(self, step: str, *, completed: float | None = None, total: float | None = None) -> None:
        self.calls.append((step, completed, total))


@dataclass(frozen=True)
class Run:
    transcript: Transcript
    hook: RecordingHook
    seconds: float


@pytest.fixture(scope="module", params=[1, 8], ids=["sequential", "batched"])
def jfk(request: pytest.FixtureRequest, whisper_base: FasterWhisperTranscriber, testdata_dir: Path) -> Run:
    hook = RecordingHook()
    started = time.perf_counter()
    options = TranscriptionOptions(batch_size=request.param)
    transcript = TranscriptionPipeline(whisper_base).apply(testdata_dir / "jfk.flac", options, hook)
    return Run(transcript, hook, time.perf_counter() - started)


def test_jfk_is_transcribed_exactly(jfk: Run) -> None:
    assert jiwer.wer(normalise(JFK_REFERENCE), normalise(jfk.transcript.text)) == 0.0
    assert jfk.transcript.language == "en"
    assert jfk.transcript.engine == "faster-whisper:base"
    assert jfk.transcript.duration == pytest.approx(11.0, abs=0.01)
    assert all(segment.language == "en" for segment in jfk.transcript.segments)


def test_word_timestamps_are_monotonic_and_inside_the_audio(jfk: Run) -> None:
    words = [word for segment in jfk.transcript.segments for word in segment.words]

    assert len(words) == len(normalise(JFK_REFERENCE).split())
    assert all(0.0 <= word.start <= word.end <= jfk.transcript.duration for word in words)
    assert all(before.end <= after.start + 1e-6 for before, after in itertools.pairwise(words))


def test_hook_sees_every_step_in_order_and_finishes_each(jfk: Run) -> None:
    named = [step for step, _, _ in jfk.hook.calls]
    assert named[:4] == ["transcribing", "decoding", "detecting_speech", "transcribing"]  # then segment by segment
    assert all(completed is None for step, completed, _ in jfk.hook.calls if step not in STEP_WEIGHTS)
    weighed = [call for call in jfk.hook.calls if call[0] in STEP_WEIGHTS]
    steps = [step for index, (step, _, _) in enumerate(weighed) if step != weighed[index - 1][0]]
    assert list(dict.fromkeys(steps)) == steps == list(STEP_WEIGHTS)

    for step in STEP_WEIGHTS:
        amounts = [(completed, total) for name, completed, total in jfk.hook.calls if name == step]
        completed, total = amounts[-1]
        assert completed is not None and total is not None and completed == total > 0
        assert [done for done, _ in amounts] == sorted(done or 0.0 for done, _ in amounts)

    transcribed = [completed for name, completed, _ in jfk.hook.calls if name == "transcribing"]
    assert len(transcribed) >= len(jfk.transcript.segments) + 1, "one report per segment"


def test_serialized_transcript_renders(jfk: Run) -> None:
    data = jfk.transcript.serialize()
    segment = data["segments"][0]

    assert set(segment) == {"id", "start", "end", "text", "language", "avg_logprob", "no_speech_prob", "words"}
    assert set(segment["words"][0]) == {"start", "end", "word", "probability"}
    assert all(round(word["start"], 3) == word["start"] for word in segment["words"])
    assert render_transcript(data, "srt").startswith("1\n00:00:00,")
    assert normalise(render_transcript(data, "txt")) == normalise(JFK_REFERENCE)


@pytest.fixture(scope="module")
def multilingual(whisper_base: FasterWhisperTranscriber, testdata_dir: Path) -> Callable[[int], Transcript]:
    """The English-then-German minute transcribed whole at a batch size, once per size for the module."""

    @functools.cache
    def transcribe(batch_size: int) -> Transcript:
        options = TranscriptionOptions(batch_size=batch_size)
        return TranscriptionPipeline(whisper_base).apply(testdata_dir / "multilingual_en_de.mp3", options)

    return transcribe


@pytest.mark.parametrize("batch_size", [1, 8], ids=["sequential", "batched"])
def test_mixed_language_segments_are_labelled(multilingual: Callable[[int], Transcript], batch_size: int) -> None:
    transcript = multilingual(batch_size)
    english = Counter(s.language for s in transcript.segments if s.end <= ENGLISH_UNTIL)
    german = Counter(s.language for s in transcript.segments if s.start >= GERMAN_FROM)
    seen = [(s.start, s.end, s.language) for s in transcript.segments]

    assert english and english.most_common(1)[0][0] == "en", seen
    assert german and german.most_common(1)[0][0] == "de", seen


def test_windowed_transcription_keeps_absolute_time(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path, multilingual: Callable[[int], Transcript]
) -> None:
    """A 60 s file in windows of about 20 s: the same words, in order, on the file's own clock."""
    whole = multilingual(8)
    options = TranscriptionOptions(batch_size=8)
    audio = testdata_dir / "multilingual_en_de.mp3"
    windowed = TranscriptionPipeline(whisper_base, window_seconds=20.0).apply(audio, options)

    starts = [segment.start for segment in windowed.segments]
    assert starts == sorted(starts) and windowed.segments[-1].end > 50.0
    assert windowed.duration == pytest.approx(whole.duration, abs=0.05)
    assert [segment.id for segment in windowed.segments] == list(range(1, len(windowed.segments) + 1))
    error = jiwer.wer(normalise(whole.text), normalise(windowed.text))
    assert error < 0.15, (whole.text, windowed.text)
    german = [s for s in windowed.segments if s.start >= GERMAN_FROM]
    assert german and Counter(s.language for s in german).most_common(1)[0][0] == "de"


def test_batched_progress_arrives_while_the_file_is_still_being_decoded(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Segments, progress and the chance to stop a cancelled job come batch by batch: two minutes of speech are not
    decoded in one batch of all their chunks, and its first chunk is reported before the decoding runs more than one
    batch ahead of it (the next batch decodes while the first is handed on)."""
    events: list[tuple[str, float]] = []
    decode_batch = LanguageTaggingPipeline.forward

    def forward(self: LanguageTaggingPipeline, features: Any, *args: Any) -> Any:
        events.append(("batch", float(len(features))))
        return decode_batch(self, features, *args)

    def hook(step: str, *, completed: float | None = None, total: float | None = None) -> None:
        events.append((step, completed or 0.0))

    monkeypatch.setattr(LanguageTaggingPipeline, "forward", forward)
    twice = tmp_path / "twice.wav"
    encode_audio(np.tile(decode_audio(testdata_dir / "multilingual_en_de.mp3"), 2), 16000, "wav", twice)
    TranscriptionPipeline(whisper_base).apply(twice, TranscriptionOptions(batch_size=8), hook)

    batches = [index for index, (name, _) in enumerate(events) if name == "batch"]
    assert len(batches) >= 3 and events[batches[0]][1] == 1
    before_the_third = events[batches[0] : batches[2]]
    assert any(name == "transcribing" and completed > 0 for name, completed in before_the_third), events


def test_windows_without_speech_do_not_lower_the_language_probability(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path, tmp_path: Path
) -> None:
    jfk = decode_audio(testdata_dir / "jfk.flac")
    padded = tmp_path / "jfk-then-silence.wav"
    encode_audio(np.concatenate([jfk, np.zeros(40 * 16000, dtype=np.float32)]), 16000, "wav", padded)
    options = TranscriptionOptions(batch_size=8)

    alone = TranscriptionPipeline(whisper_base).apply(testdata_dir / "jfk.flac", options)
    windowed = TranscriptionPipeline(whisper_base, window_seconds=15.0).apply(padded, options)

    assert windowed.language == "en" and windowed.duration == pytest.approx(51.0, abs=0.1)
    assert windowed.language_probability == pytest.approx(alone.language_probability, abs=0.05)
