"""The bundled diarizer on real recordings, scored against their references with pyannote.metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyannote.core import Annotation
from pyannote.metrics.diarization import DiarizationErrorRate

from app.engines.speaker.base import DiarizationOptions
from app.pipelines.audio import decode_audio
from app.pipelines.diarization import STEP_WEIGHTS, BundledDiarizer, refined_labels
from app.pipelines.encode import encode_audio
from tests.media import write_understated_matroska
from tests.speaker_data import as_annotation, der, read_rttm


def speakers_at(annotation: Annotation, times: np.ndarray) -> list[set[str]]:
    """Who talks at each of ``times``."""
    talking: list[set[str]] = [set() for _ in times]
    for segment, _, label in annotation.itertracks(yield_label=True):
        for index in np.flatnonzero((times >= segment.start) & (times < segment.end)):
            talking[index].add(str(label))
    return talking


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


def test_overlapped_speech_gets_both_of_its_speakers(diarizer: BundledDiarizer, testdata_dir: Path) -> None:
    overlapped = both_right = 0
    for stem in ("trn08", "trn09"):  # the excerpts where people talk over each other most (11 and 13 s)
        reference = read_rttm(testdata_dir / "ami_train" / f"{stem}.rttm")
        result = diarizer.diarize(testdata_dir / "ami_train" / f"{stem}.wav", DiarizationOptions())
        hypothesis = as_annotation(result)
        mapping = DiarizationErrorRate().optimal_mapping(reference, hypothesis)
        times = np.arange(0.0, result.duration, 0.01)
        for found, expected in zip(speakers_at(hypothesis, times), speakers_at(reference, times), strict=True):
            if len(found) >= 2:
                overlapped += 1
                both_right += {mapping.get(label, label) for label in found} <= expected

    # Taking the nearest other speaker in time labelled 75 % of it right (42 % on trn08).
    assert overlapped >= 1000, overlapped  # at least 10 s of overlap found
    assert both_right / overlapped >= 0.8, both_right / overlapped


def test_single_speaker_is_one_speaker(diarizer: BundledDiarizer, testdata_dir: Path) -> None:
    result = diarizer.diarize(testdata_dir / "jfk.flac", DiarizationOptions())
    assert result.speakers == ["SPEAKER_00"]
    assert sum(result.speaking_time().values()) > 8.0  # JFK speaks for most of the 11 s
    assert result.overlaps() == []


def test_a_header_that_understates_the_length_does_not_bend_the_turns(
    diarizer: BundledDiarizer, testdata_dir: Path, tmp_path: Path
) -> None:
    understated = tmp_path / "jfk.mkv"
    write_understated_matroska(understated, decode_audio(testdata_dir / "jfk.flac"), declared_seconds=3.0)

    result = diarizer.diarize(understated, DiarizationOptions())

    assert result.duration == pytest.approx(11.0, abs=0.05)  # what decoded, not what the header said
    assert result.turns and all(0.0 <= t.start < t.end <= result.duration for t in result.turns)
    assert sum(result.speaking_time().values()) > 8.0


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


def test_a_window_on_the_far_side_of_a_change_of_speaker_moves_to_that_speaker() -> None:
    first, second = np.eye(4, dtype=np.float32)[:2]
    vectors = np.stack([first, first, second, second, second, second, first, second, first, first])
    clustered = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0])  # the first segment straddles the change

    labels, centroids, similarity = refined_labels(vectors, clustered, 2)

    # The stray window amid the first speaker's turn keeps its label: only adjoining windows' speakers are
    # candidates.
    assert labels.tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
    assert centroids[1] @ second == pytest.approx(1.0)
    assert similarity.shape == (10, 2)


def test_moves_that_would_leave_a_speaker_without_windows_are_not_made() -> None:
    first, second = np.eye(8, dtype=np.float32)[:2]
    vectors = np.stack([first] * 6 + [first, second] + [second] * 6 + [second] + [first] * 5)
    # A third speaker given where there are two: its two windows would both move away. Window 14 straddles.
    forced = np.array([0] * 6 + [2, 2] + [1] * 6 + [0] * 6)

    labels, centroids, _similarity = refined_labels(vectors, forced, 3)

    expected = forced.copy()
    expected[14] = 1  # the other moves still happen
    assert labels.tolist() == expected.tolist()
    assert len(centroids) == 3
