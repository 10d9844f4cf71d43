"""Cutting long recordings into windows at pauses."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

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
