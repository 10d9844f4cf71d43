"""Diarization-guided speaker extraction on a recording built from two real speakers taking turns."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soxr

from app.engines.speaker.base import DiarizationOptions, SpeakerTurn
from app.pipelines.audio import decode_audio, probe_audio
from app.pipelines.diarization import BundledDiarizer
from app.pipelines.encode import AudioFormat, encode_audio
from app.pipelines.extraction import DiarizationGuidedExtractor, speaker_gain
from tests.speaker_data import si_sdr, two_speaker_mix

logger = logging.getLogger(__name__)


def test_each_track_holds_its_own_speaker(diarizer: BundledDiarizer, testdata_dir: Path, tmp_path: Path) -> None:
    mix = two_speaker_mix(testdata_dir)
    path = tmp_path / "mix.wav"
    encode_audio(mix.mixture, 16000, "wav", path)

    diarization = diarizer.diarize(path, DiarizationOptions())
    result = DiarizationGuidedExtractor().extract(path, diarization, tmp_path, AudioFormat.WAV)

    assert len(result.tracks) == 2
    tracks = [decode_audio(track.path) for track in result.tracks]
    assert all(abs(track.size - mix.mixture.size) <= 16 for track in tracks)
    correlation = np.array([[abs(np.corrcoef(t[: s.size], s[: t.size])[0, 1]) for s in mix.sources] for t in tracks])
    assert sorted(correlation.argmax(axis=1).tolist()) == [0, 1], correlation  # each track matches a different source
    own = correlation.argmax(axis=1)
    scores = [si_sdr(track, mix.sources[source]) for track, source in zip(tracks, own, strict=True)]
    baseline = [si_sdr(mix.mixture, mix.sources[source]) for source in own]
    logger.info("SI-SDR per track %s dB (mixture: %s dB)", scores, baseline)
    assert all(score > base for score, base in zip(scores, baseline, strict=True))
    assert result.serialize()["overlap_policy"].startswith("kept")


def test_gain_fades_at_turn_edges() -> None:
    times = np.linspace(0.0, 3.0, 3001)
    gain = speaker_gain(times, np.array([0.99]), np.array([2.01]), fade=0.02)
    assert gain[0] == 0.0 and gain[1500] == pytest.approx(1.0) and gain[-1] == 0.0
    assert 0.0 < gain[1000] < 1.0  # half-way up the ramp at the turn's start
    assert np.all(np.abs(np.diff(gain)) < 0.2)  # no step from 0 to 1: no click


def test_every_format_decodes_and_reports_the_rate_it_was_written_at(testdata_dir: Path, tmp_path: Path) -> None:
    from app.engines.speaker.base import Diarization

    source = tmp_path / "jfk-22k.wav"  # a rate Opus does not take: its tracks are written at 24 kHz
    encode_audio(soxr.resample(decode_audio(testdata_dir / "jfk.flac"), 16000, 22050), 22050, "wav", source)
    diarization = Diarization(11.0, "test", [SpeakerTurn(0.0, 5.0, "SPEAKER_00"), SpeakerTurn(5.0, 11.0, "SPEAKER_01")])
    rates = {}
    for fmt in AudioFormat:
        result = DiarizationGuidedExtractor().extract(source, diarization, tmp_path, fmt)
        rates[fmt.value] = result.sample_rate
        for track in result.tracks:
            assert track.path.suffix == f".{fmt.value}"
            assert abs(decode_audio(track.path).size / 16000 - 11.0) < 0.2
            if fmt != AudioFormat.OGG:  # an Opus stream always reads back as 48 kHz, whatever it was coded at
                assert probe_audio(track.path).sample_rate == result.sample_rate
    assert rates == {"wav": 22050, "mp3": 22050, "ogg": 24000}
