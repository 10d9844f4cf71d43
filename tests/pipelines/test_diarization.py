"""The bundled diarizer on real recordings, scored against their references with pyannote.metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.engines.speaker.base import DiarizationOptions
from app.pipelines.diarization import STEP_WEIGHTS, BundledDiarizer
from app.pipelines.encode import encode_audio
from tests.speaker_data import der, read_rttm


def test_ami_meeting_two_speakers_found_automatically(diarizer: BundledDiarizer, testdata_dir: Path) -> None:
    steps: list[str] = []
    result = diarizer.diarize(
        testdata_dir / "ami_dev00.wav", DiarizationOptions(), lambda step, **_: steps.append(step)
    )

    error = der(read_rttm(testdata_dir / "ami_dev00.rttm"), result)

    assert len(result.speakers) == 2
    assert error <= 0.20, error
    assert set(steps) == set(STEP_WEIGHTS)
    assert set(result.centroids) == set(result.speakers)
    assert all(0 <= t.start < t.end <= result.duration + 1e-6 for t in result.turns)


def test_single_speaker_is_one_speaker(diarizer: BundledDiarizer, testdata_dir: Path) -> None:
    result = diarizer.diarize(testdata_dir / "jfk.flac", DiarizationOptions())
    assert result.speakers == ["SPEAKER_00"]
    assert sum(result.speaking_time().values()) > 8.0  # JFK speaks for most of the 11 s
    assert result.overlaps() == []


def test_silence_has_no_speakers(diarizer: BundledDiarizer, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    encode_audio(np.zeros(16000 * 8, dtype=np.float32), 16000, "wav", path)
    result = diarizer.diarize(path, DiarizationOptions())
    assert result.turns == [] and result.speakers == []
    assert result.serialize()["num_speakers"] == 0


@pytest.mark.parametrize(
    ("options", "expected"), [(DiarizationOptions(num_speakers=3), 3), (DiarizationOptions(max_speakers=1), 1)]
)
def test_speaker_count_options_are_honoured(
    diarizer: BundledDiarizer, testdata_dir: Path, options: DiarizationOptions, expected: int
) -> None:
    assert len(diarizer.diarize(testdata_dir / "ami_dev00.wav", options).speakers) == expected
