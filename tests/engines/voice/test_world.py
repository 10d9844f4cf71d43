"""WORLD analysis and the three voice-matching changes, on real speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engines.voice import world
from app.pipelines.audio import decode_audio


def speech(testdata_dir: Path) -> np.ndarray:
    return decode_audio(testdata_dir / "jfk.flac")[: 16000 * 4]


def test_pitch_mapping_moves_median_and_spread(testdata_dir: Path) -> None:
    analysis = world.analyse(speech(testdata_dir))
    source = world.pitch_stats(analysis)
    near = world.PitchStats(median=source.median + 0.1, spread=source.spread * 0.5)
    far = world.PitchStats(median=source.median + 1.0, spread=source.spread)

    def stats_of(f0: np.ndarray) -> world.PitchStats:
        return world.pitch_stats(world.Analysis(f0, analysis.envelope, analysis.aperiodicity))

    mapped = world.map_pitch(analysis.f0, source, near, semitones=2.0)
    voiced = analysis.voiced
    assert (mapped[~voiced] == 0).all() and (mapped[voiced] > 0).all()
    assert abs(stats_of(mapped).median - (near.median + 2 * np.log(2) / 12)) < 1e-6
    assert abs(stats_of(mapped).spread - near.spread) < 1e-6
    reach = world.MAX_LEVEL_SHIFT_SEMITONES * np.log(2) / 12  # a far target is approached, not reached
    assert abs(stats_of(world.map_pitch(analysis.f0, source, far)).median - (source.median + reach)) < 1e-6


def test_resynthesis_keeps_timing_and_raises_pitch(testdata_dir: Path) -> None:
    original = speech(testdata_dir)
    shifted = world.shift_pitch(original, 12.0)
    assert abs(shifted.size - original.size) < 160
    before = world.pitch_stats(world.analyse(original)).median
    after = world.pitch_stats(world.analyse(shifted)).median
    assert after - before > 4 * np.log(2) / 12  # re-analysis is rough, but the voice is clearly higher


def test_warp_and_spectrum_correction(testdata_dir: Path) -> None:
    analysis = world.analyse(speech(testdata_dir))
    assert np.allclose(world.warp_envelope(analysis.envelope, 1.0), analysis.envelope, rtol=1e-6)
    warped = world.warp_envelope(analysis.envelope, 1.2)
    peak_bins = (
        np.argmax(np.log(analysis.envelope[analysis.voiced]).mean(axis=0)),
        np.argmax(np.log(warped[analysis.voiced]).mean(axis=0)),
    )
    assert peak_bins[1] >= peak_bins[0]  # formants move up
    assert np.abs(world.spectrum_correction(analysis, analysis, 1.0)).max() < 1e-4  # no correction toward itself
    limit = np.log(10 ** (world.MAX_CORRECTION_DB / 10))
    assert np.abs(world.spectrum_correction(analysis, analysis, 1.2)).max() <= limit + 1e-9
    parameters = world.MatchParameters(world.pitch_stats(analysis), 1.1, [0.5, -0.25])
    assert world.MatchParameters.from_json(parameters.to_json()) == parameters
