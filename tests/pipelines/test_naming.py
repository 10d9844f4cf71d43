"""Naming diarized speakers after known voices."""

from __future__ import annotations

import numpy as np

from app.engines.speaker.base import Diarization, SpeakerTurn
from app.pipelines.naming import KnownVoice, name_speakers


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_best_matches_win_and_strangers_stay_anonymous() -> None:
    diarization = Diarization(
        10.0,
        "test",
        [SpeakerTurn(0, 4, "SPEAKER_00"), SpeakerTurn(4, 8, "SPEAKER_01"), SpeakerTurn(8, 10, "SPEAKER_02")],
        centroids={"SPEAKER_00": unit(1, 0, 0), "SPEAKER_01": unit(0, 1, 0), "SPEAKER_02": unit(0, 0, 1)},
    )
    voices = [
        KnownVoice(7, "Ann", unit(0.1, 1, 0)),  # clearly SPEAKER_01
        KnownVoice(8, "Ann", unit(1, 0.2, 0)),  # SPEAKER_00, and a second "Ann" gets told apart
        KnownVoice(9, "Bob", unit(0.9, 0.3, 0)),  # also nearest SPEAKER_00, but Ann (8) is nearer still
    ]

    renamed, named = name_speakers(diarization, voices)

    assert [(n.speaker, n.voice_id, n.name) for n in named] == [("SPEAKER_01", 7, "Ann"), ("SPEAKER_00", 8, "Ann (8)")]
    assert renamed.speakers == ["Ann (8)", "Ann", "SPEAKER_02"]
    assert all(n.similarity >= 0.7 for n in named)


def test_a_name_that_is_another_speakers_label_does_not_merge_them() -> None:
    diarization = Diarization(
        8.0,
        "test",
        [SpeakerTurn(0, 4, "SPEAKER_00"), SpeakerTurn(4, 8, "SPEAKER_01")],
        centroids={"SPEAKER_00": unit(1, 0), "SPEAKER_01": unit(0, 1)},
    )

    renamed, named = name_speakers(diarization, [KnownVoice(5, "SPEAKER_01", unit(1, 0.1))])

    assert [(n.speaker, n.name) for n in named] == [("SPEAKER_00", "SPEAKER_01 (5)")]
    assert renamed.speakers == ["SPEAKER_01 (5)", "SPEAKER_01"]
