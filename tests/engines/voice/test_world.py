"""Timbre matching on real speech: the correction curve and the equaliser that applies it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engines.voice import world
from app.engines.voice.matching import shift_pitch
from app.pipelines.audio import decode_audio


def speech(testdata_dir: Path) -> np.ndarray:
    return decode_audio(testdata_dir / "jfk.flac")[: 16000 * 4]


def test_a_voice_needs_no_correction_toward_itself(testdata_dir: Path) -> None:
    analysis = world.analyse(speech(testdata_dir))
    assert np.abs(world.spectrum_correction(analysis, analysis)).max() < 1e-9
    stats = world.pitch_stats(analysis)
    assert 80 < np.exp(stats.median) < 300 and stats.spread > 0


def test_the_equaliser_moves_the_spectrum_by_the_correction(testdata_dir: Path) -> None:
    original = speech(testdata_dir)
    analysis = world.analyse(original)
    bins = analysis.envelope.shape[1]
    tilt = np.linspace(-1.0, 1.0, bins)  # darker lows, brighter highs

    shaped = world.equalize(original, tilt)

    assert shaped.shape == original.shape and float(np.max(np.abs(shaped))) <= 0.9 + 1e-6
    measured = world.spectrum_correction(world.analyse(shaped), analysis)
    low, high = measured[: bins // 4].mean(), measured[3 * bins // 4 :].mean()
    assert high - low > 1.0  # the high band gained against the low band, as asked
    assert np.abs(world.equalize(original, np.zeros(bins)) - original / np.abs(original).max() * 0.9).max() < 1e-3


def test_correction_is_limited_and_round_trips(testdata_dir: Path) -> None:
    quiet = world.analyse(speech(testdata_dir) * 0.001)
    loud = world.analyse(speech(testdata_dir))
    limit = np.log(10 ** (world.MAX_CORRECTION_DB / 10))
    assert np.abs(world.spectrum_correction(loud, quiet)).max() <= limit + 1e-9
    match = world.TimbreMatch(world.pitch_stats(loud), [0.5, -0.25])
    assert world.TimbreMatch.from_json(match.to_json()) == match


def test_pitch_shift_keeps_duration(testdata_dir: Path) -> None:
    original = speech(testdata_dir)
    higher = shift_pitch(original, 16000, 4.0)
    assert abs(higher.size - original.size) < 160
    before = world.pitch_stats(world.analyse(original)).median
    after = world.pitch_stats(world.analyse(higher)).median
    assert abs((after - before) * 12 / np.log(2) - 4.0) < 1.0
