"""Voice matching's signal processing on real speech: pitch mapping, vocal-tract warp, spectrum correction."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soxr

from app.engines.synthesis import load_bundled_synthesizer
from app.engines.voice import world
from app.engines.voice.matching import ENROLMENT_SENTENCE
from app.pipelines.audio import decode_audio

OCTAVE = np.log(2.0)


@pytest.fixture(scope="module")
def stock_speech(model_cache_dir: Path) -> np.ndarray:
    """The Piper voice's enrolment sentence: what voice matching resynthesizes."""
    spoken = load_bundled_synthesizer("piper", model_cache_dir, steady=True).synthesize(
        ENROLMENT_SENTENCE["en"], language="en", voice="joe"
    )
    return np.asarray(soxr.resample(spoken.samples, spoken.sample_rate, world.SAMPLE_RATE), dtype=np.float32)


def speech(testdata_dir: Path) -> np.ndarray:
    return decode_audio(testdata_dir / "jfk.flac")[: 16000 * 4]


def semitones(first: float, second: float) -> float:
    return float((second - first) * 12 / OCTAVE)


def pitch_change(before: world.Analysis, after: world.Analysis) -> float:
    """Median pitch change in semitones over the frames voiced in both."""
    frames = min(before.f0.size, after.f0.size)
    both = (before.f0[:frames] > 0) & (after.f0[:frames] > 0)
    return float(12 * np.log2(np.median(after.f0[:frames][both] / before.f0[:frames][both])))


def spectral_centroid(analysis: world.Analysis) -> float:
    power = analysis.envelope[analysis.voiced].mean(axis=0)
    return float((np.arange(power.size) * power).sum() / power.sum())


def test_a_voice_needs_no_correction_toward_itself(testdata_dir: Path) -> None:
    analysis = world.analyse(speech(testdata_dir))
    assert np.abs(world.spectrum_correction(analysis, analysis)).max() < 1e-9
    stats = world.pitch_stats(analysis)
    assert 80 < np.exp(stats.median) < 300 and stats.spread > 0


def test_resynthesis_moves_pitch_warp_and_spectrum_as_asked(stock_speech: np.ndarray) -> None:
    original = world.analyse(stock_speech, synthetic=True)
    own = world.pitch_stats(original)
    bins = original.envelope.shape[1]
    unchanged = world.VoiceMatch(own, 1.0, [0.0] * bins)
    lower = world.VoiceMatch(world.PitchStats(own.median - 3 * OCTAVE / 12, own.spread), 1.1, [0.0] * bins)
    tilt = np.linspace(-1.0, 1.0, bins)  # darker lows, brighter highs

    plain = world.analyse(world.resynthesize(original, own, unchanged), synthetic=True)
    higher = world.analyse(world.resynthesize(original, own, unchanged, semitones=4.0), synthetic=True)
    lower_and_shorter = world.analyse(world.resynthesize(original, own, lower), synthetic=True)
    brighter = world.analyse(world.resynthesize(original, own, world.VoiceMatch(own, 1.0, tilt.tolist())))

    assert abs(pitch_change(original, plain)) < 0.5
    assert abs(pitch_change(original, higher) - 4.0) < 0.5
    assert abs(pitch_change(original, lower_and_shorter) + 3.0) < 0.5
    assert spectral_centroid(lower_and_shorter) > spectral_centroid(plain) * 1.04
    measured = world.spectrum_correction(brighter, world.analyse(world.resynthesize(original, own, unchanged)))
    assert measured[3 * bins // 4 :].mean() - measured[: bins // 4].mean() > 1.0


def test_a_requested_pace_scales_the_length_and_keeps_the_pitch(stock_speech: np.ndarray) -> None:
    original = world.analyse(stock_speech, synthetic=True)
    own = world.pitch_stats(original)
    unchanged = world.VoiceMatch(own, 1.0, [0.0] * original.envelope.shape[1])
    natural = world.resynthesize(original, own, unchanged)
    natural_pitch = world.pitch_stats(world.analyse(natural)).median

    for tempo in (0.5, 2.0):
        paced = world.resynthesize(original, own, unchanged, tempo=tempo)
        assert paced.size * tempo == pytest.approx(natural.size, rel=0.01)
        assert abs(semitones(natural_pitch, world.pitch_stats(world.analyse(paced)).median)) < 1.0


def test_matched_pitch_undoes_octave_errors_and_stays_within_reach() -> None:
    stock = world.PitchStats(median=float(np.log(220.0)), spread=0.1)

    halved = world.matched_pitch(world.PitchStats(float(np.log(102.0)), 0.12), stock)
    near = world.matched_pitch(world.PitchStats(float(np.log(196.0)), 0.5), stock)
    far_above = world.matched_pitch(world.PitchStats(float(np.log(440.0)), 0.01), stock)

    assert semitones(halved.median, float(np.log(204.0))) == pytest.approx(0.0, abs=1e-6)
    assert semitones(near.median, float(np.log(196.0))) == pytest.approx(0.0, abs=1e-6)
    assert near.spread == pytest.approx(0.2) and far_above.spread == pytest.approx(0.05)
    assert semitones(stock.median, far_above.median) == pytest.approx(world.MAX_PITCH_CHANGE_SEMITONES)


def test_a_deep_voice_under_a_mans_stock_voice_is_taken_as_it_reads() -> None:
    stock = world.PitchStats(median=float(np.log(153.0)), spread=0.1)

    deep = world.matched_pitch(world.PitchStats(float(np.log(85.0)), 0.1), stock)

    assert semitones(stock.median, deep.median) == pytest.approx(-world.MAX_PITCH_CHANGE_SEMITONES)


def test_silence_resynthesizes_to_silence() -> None:
    silence = world.analyse(np.zeros(16000, dtype=np.float32), synthetic=True)
    stats = world.PitchStats(float(np.log(150.0)), 0.1)

    out = world.resynthesize(silence, stats, world.VoiceMatch(stats, 1.0, [0.0] * silence.envelope.shape[1]))

    assert abs(out.size - 16000) <= 80 and not out.any()  # WORLD speaks whole 5 ms frames


def test_correction_is_limited_and_round_trips(testdata_dir: Path) -> None:
    quiet = world.analyse(speech(testdata_dir) * 0.001)
    loud = world.analyse(speech(testdata_dir))
    limit = np.log(10 ** (world.MAX_CORRECTION_DB / 10))
    assert np.abs(world.spectrum_correction(loud, quiet, warp=1.06)).max() <= limit + 1e-9
    match = world.VoiceMatch(world.pitch_stats(loud), 0.94, [0.5, -0.25])
    assert world.VoiceMatch.from_json(match.to_json()) == match


def test_a_recording_analysis_cannot_be_resynthesized(testdata_dir: Path) -> None:
    recording = world.analyse(speech(testdata_dir))
    stats = world.pitch_stats(recording)
    with pytest.raises(ValueError, match="aperiodicity"):
        world.resynthesize(recording, stats, world.VoiceMatch(stats, 1.0, [0.0] * recording.envelope.shape[1]))
