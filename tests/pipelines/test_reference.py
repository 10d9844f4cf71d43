"""Voice samples: what is refused (with what to fix) and what a cleaned reference looks like."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from app.pipelines.audio import decode_audio
from app.pipelines.diarization import BundledDiarizer
from app.pipelines.encode import encode_audio
from app.pipelines.reference import InvalidVoiceSample, SampleLimits, clean_reference
from tests.media import write_understated_matroska
from tests.speaker_data import two_speaker_mix


def write(tmp_path: Path, samples: np.ndarray, name: str = "sample.wav") -> Path:
    path = tmp_path / name
    encode_audio(samples, 16000, "wav", path)
    return path


def test_a_clean_single_speaker_sample_is_kept(diarizer: BundledDiarizer, testdata_dir: Path) -> None:
    cleaned = clean_reference(testdata_dir / "jfk.flac", diarizer)
    assert 8.0 < cleaned.speech_seconds <= 11.0
    assert cleaned.quality["speakers_found"] == 1 and cleaned.quality["clipped_fraction"] < 0.001
    assert 0.1 < float(np.max(np.abs(cleaned.samples))) <= 0.95
    import pyloudnorm

    assert pyloudnorm.Meter(16000).integrated_loudness(cleaned.samples.astype(np.float64)) == pytest.approx(-23, abs=1)


def test_quiet_speech_after_a_long_silence_is_judged_by_the_speech(
    diarizer: BundledDiarizer, testdata_dir: Path, tmp_path: Path
) -> None:
    quiet = decode_audio(testdata_dir / "jfk.flac") * 10 ** (-36 / 20)  # speech at -50 dBFS
    late = np.concatenate([np.zeros(16000 * 60, dtype=np.float32), quiet])

    cleaned = clean_reference(write(tmp_path, late), diarizer)

    assert 8.0 < cleaned.speech_seconds <= 11.0
    assert SampleLimits().min_level_dbfs < cleaned.quality["level_dbfs"] < -45


@pytest.mark.parametrize("problem", ["too_short", "silent", "clipped", "multiple_speakers", "too_long"])
def test_unusable_samples_say_what_to_fix(
    diarizer: BundledDiarizer, testdata_dir: Path, tmp_path: Path, problem: str
) -> None:
    jfk = decode_audio(testdata_dir / "jfk.flac")
    limits = SampleLimits()
    makers: dict[str, Callable[[], np.ndarray]] = {
        "too_short": lambda: jfk[16000 * 2 : 16000 * 2 + 8000],
        "silent": lambda: np.zeros(16000 * 6, dtype=np.float32),
        "clipped": lambda: np.clip(jfk * 8, -1, 1),
        "multiple_speakers": lambda: two_speaker_mix(testdata_dir).mixture * 0.5,
        "too_long": lambda: jfk,
    }
    samples = makers[problem]()
    if problem == "too_long":
        limits = SampleLimits(max_seconds=5.0)
    with pytest.raises(InvalidVoiceSample) as refused:
        clean_reference(write(tmp_path, samples), diarizer, limits)
    details = refused.value.details
    assert isinstance(details, dict) and details["problem"] == problem
    assert refused.value.status_code == 422 and refused.value.message


def test_a_sample_whose_header_understates_its_length_is_refused_as_too_long(
    diarizer: BundledDiarizer, testdata_dir: Path, tmp_path: Path
) -> None:
    forged = tmp_path / "sample.mkv"
    write_understated_matroska(forged, np.tile(decode_audio(testdata_dir / "jfk.flac"), 3), declared_seconds=2.0)

    with pytest.raises(InvalidVoiceSample) as refused:
        clean_reference(forged, diarizer, SampleLimits(max_seconds=20.0))

    assert refused.value.details == {"problem": "too_long", "max_seconds": 20.0}
