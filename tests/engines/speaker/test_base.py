"""The diarization result type: speaking time, overlap regions, renaming, JSON."""

from __future__ import annotations

import numpy as np

from app.engines.speaker.base import Diarization, SpeakerTurn


def make() -> Diarization:
    turns = [
        SpeakerTurn(0.0, 4.0, "SPEAKER_00"),
        SpeakerTurn(3.0, 6.0, "SPEAKER_01"),
        SpeakerTurn(6.0, 7.5, "SPEAKER_01"),
        SpeakerTurn(7.0, 9.0, "SPEAKER_00"),
        SpeakerTurn(8.0, 8.5, "SPEAKER_02"),
    ]
    centroids = {f"SPEAKER_0{i}": np.eye(3, dtype=np.float32)[i] for i in range(3)}
    return Diarization(duration=10.0, engine="test", turns=turns, centroids=centroids)


def test_speaking_time_and_overlaps() -> None:
    diarization = make()
    assert diarization.speakers == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"]
    assert diarization.speaking_time() == {"SPEAKER_00": 6.0, "SPEAKER_01": 4.5, "SPEAKER_02": 0.5}
    assert diarization.overlaps() == [(3.0, 4.0), (7.0, 7.5), (8.0, 8.5)]


def test_serialize_and_rename() -> None:
    renamed = make().rename({"SPEAKER_01": "Alice"})
    document = renamed.serialize()
    assert document["num_speakers"] == 3
    assert {s["speaker"] for s in document["segments"]} == {"SPEAKER_00", "Alice", "SPEAKER_02"}
    assert document["overlaps"][0] == {"start": 3.0, "end": 4.0}
    assert "Alice" in renamed.centroids
