"""Cutting long recordings into windows at pauses."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.windows import iter_speech_windows, pause_cut
from tests.media import write_speech_wav


def test_windows_cover_the_file_exactly_once(testdata_dir: Path) -> None:
    path = testdata_dir / "multilingual_en_de.mp3"
    whole = decode_audio(path)
    windows = list(iter_speech_windows(path, window_seconds=15.0))

    assert len(windows) >= 3
    assert windows[0].offset == 0.0
    for before, after in pairwise(windows):
        assert after.offset == before.offset + before.samples.size / SAMPLE_RATE
    assert np.array_equal(np.concatenate([w.samples for w in windows]), whole)
    assert all(w.samples.size <= (15.0 + 30.0) * SAMPLE_RATE for w in windows)


def test_cuts_fall_in_pauses_not_in_words(testdata_dir: Path, tmp_path: Path) -> None:
    """jfk.flac has clear pauses between phrases: every cut lands where the signal is quiet."""
    speech = write_speech_wav(testdata_dir / "jfk.flac", tmp_path / "jfk.wav", start=0.0, end=11.0)
    cut = pause_cut(speech, search_from=int(2.0 * SAMPLE_RATE))
    around = speech[max(0, cut - 800) : cut + 800]  # 50 ms either side
    assert 2.0 * SAMPLE_RATE < cut < speech.size
    assert float(np.sqrt(np.mean(around**2))) < 0.1 * float(np.sqrt(np.mean(speech**2)))


def test_silence_is_cut_anywhere() -> None:
    silence = np.zeros(5 * SAMPLE_RATE, dtype=np.float32)
    assert pause_cut(silence, search_from=0) == silence.size


def test_speech_without_a_pause_is_cut_between_syllables_not_at_the_window_end(testdata_dir: Path) -> None:
    """jfk.flac with its pauses taken out, played four times: no pause to cut in, so the cut goes where the signal
    is quietest instead of wherever the window happens to end (inside a word)."""
    jfk = decode_audio(testdata_dir / "jfk.flac")
    regions = get_speech_timestamps(jfk, VadOptions(min_silence_duration_ms=100, speech_pad_ms=0))
    unbroken = np.tile(np.concatenate([jfk[r["start"] : r["end"]] for r in regions]), 4)
    assert not [g for g in pause_gaps(unbroken) if g >= 0.3], "the test signal still has a pause"

    cut = pause_cut(unbroken, search_from=0)

    assert 0 < cut < unbroken.size
    around = unbroken[cut - 400 : cut + 400]  # 25 ms either side
    assert float(np.sqrt(np.mean(around**2))) < 0.1 * float(np.sqrt(np.mean(unbroken**2)))


def pause_gaps(samples: np.ndarray) -> list[float]:
    regions = get_speech_timestamps(samples, VadOptions(threshold=0.5, min_silence_duration_ms=300, speech_pad_ms=100))
    return [(b["start"] - a["end"]) / SAMPLE_RATE for a, b in pairwise(regions)]
