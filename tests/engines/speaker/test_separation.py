"""The pyannote separation engine's real code path on a tiny random-weight ToTaToNet (the real weights cannot be had
here). Random weights separate nothing, so these tests check the tracks' shape, level and naming, the matching of
the model's speakers to the job's diarization, and errors - never separation quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyannote.core import Annotation, Segment

from app.engines.errors import ModelNotAvailable
from app.engines.speaker.base import Diarization, SpeakerTurn
from app.engines.speaker.separation import PyannoteSeparator, _matched_sources
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.encode import AudioFormat, encode_audio
from tests.speaker_data import two_speaker_mix


def mix_diarization(duration: float, overlap: tuple[float, float]) -> Diarization:
    turns = [
        SpeakerTurn(0.0, overlap[1], "SPEAKER_00"),
        SpeakerTurn(overlap[0], duration - 5.0, "SPEAKER_01"),
        SpeakerTurn(duration - 5.0, duration, "SPEAKER_00"),
    ]
    return Diarization(duration=duration, engine="reference", turns=sorted(turns, key=lambda t: t.start))


def test_writes_a_levelled_track_per_diarized_speaker(
    tiny_separation_dir: Path, testdata_dir: Path, tmp_path: Path
) -> None:
    mix = two_speaker_mix(testdata_dir)
    recording = tmp_path / "mix.wav"
    encode_audio(mix.mixture * 0.5, SAMPLE_RATE, "wav", recording)
    duration = mix.mixture.size / SAMPLE_RATE
    diarization = mix_diarization(duration, mix.overlap)
    separator = PyannoteSeparator(tiny_separation_dir)

    result = separator.extract(recording, diarization, tmp_path, AudioFormat.OGG)

    assert result.method == f"pyannote speech separation ({tiny_separation_dir.name})"
    assert result.method == separator.name and "separated by the model" in result.overlap_policy
    assert [track.speaker for track in result.tracks] == ["SPEAKER_00", "SPEAKER_01"]
    assert result.overlaps == diarization.overlaps() and result.sample_rate == SAMPLE_RATE
    for track in result.tracks:
        audio = decode_audio(track.path)
        assert audio.size / SAMPLE_RATE == pytest.approx(duration, abs=0.1)
        assert 0 < np.max(np.abs(audio)) <= 1.0


def test_the_models_speakers_are_matched_to_the_diarization_by_overlap() -> None:
    found = Annotation()
    found[Segment(0.0, 2.0)] = "A"  # the model heard one speaker, where our SPEAKER_01 talks
    separated = np.arange(4 * SAMPLE_RATE, dtype=np.float32).reshape(-1, 1)
    ours = Diarization(4.0, "", [SpeakerTurn(0.0, 2.0, "SPEAKER_01"), SpeakerTurn(2.0, 4.0, "SPEAKER_00")])

    matched = _matched_sources(found, separated, ours, 5 * SAMPLE_RATE)

    assert list(matched) == ["SPEAKER_01"]  # SPEAKER_00 gets no source, so its track will be masked
    assert matched["SPEAKER_01"].size == 5 * SAMPLE_RATE and matched["SPEAKER_01"][-1] == 0.0


def test_a_folder_without_a_pipeline_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable) as info:
        PyannoteSeparator(tmp_path)
    assert info.value.details == {"engine": "pyannote-separation", "missing": ["config.yaml"]}
