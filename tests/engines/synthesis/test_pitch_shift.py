"""Rubber Band pitch shifting, as the XTTS engine applies a requested pitch."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engines.synthesis.base import shift_pitch
from app.engines.voice import world
from app.pipelines.audio import decode_audio


def test_pitch_shift_keeps_duration(testdata_dir: Path) -> None:
    original = decode_audio(testdata_dir / "jfk.flac")[: 16000 * 4]
    higher = shift_pitch(original, 16000, 4.0)
    assert abs(higher.size - original.size) < 160
    before = world.pitch_stats(world.analyse(original)).median
    after = world.pitch_stats(world.analyse(higher)).median
    assert abs((after - before) * 12 / np.log(2) - 4.0) < 1.0
