"""What speaker engines take and return, independent of the models behind them.

A ``Diarizer`` answers "who spoke when" for a file; a ``SpeakerEmbedder`` turns speech into a vector whose cosine
similarity says how alike two voices are (diarization clusters these; naming known speakers and scoring voice
clones compare them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.pipelines.hooks import ProgressHook

MAX_SPEAKERS = 20


@dataclass(frozen=True)
class SpeakerTurn:
    """One stretch of one speaker's speech, in seconds from the start of the file."""

    start: float
    end: float
    speaker: str

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class DiarizationOptions:
    """The speaker count when the caller knows it (``num_speakers``) or its bounds; all unset: estimate it."""

    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


@dataclass
class Diarization:
    """Who spoke when in one recording.

    Attributes:
        duration: length of the recording in seconds.
        engine: the diarizer's name.
        turns: speaker turns in time order; two turns overlap where two people speak at once.
        centroids: each speaker's mean embedding (unit length), to compare with known voices.
    """

    duration: float
    engine: str
    turns: list[SpeakerTurn]
    centroids: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance."""
        seen: dict[str, None] = {}
        for turn in self.turns:
            seen.setdefault(turn.speaker, None)
        return list(seen)

    def speaking_time(self) -> dict[str, float]:
        """Seconds each speaker talks (overlapped speech counts for each of its speakers)."""
        totals = dict.fromkeys(self.speakers, 0.0)
        for turn in self.turns:
            totals[turn.speaker] += turn.duration
        return {speaker: round(seconds, 3) for speaker, seconds in totals.items()}

    def overlaps(self) -> list[tuple[float, float]]:
        """The time ranges where two or more speakers talk at once, merged."""
        edges = sorted([(t.start, 1) for t in self.turns] + [(t.end, -1) for t in self.turns])
        regions: list[tuple[float, float]] = []
        active, opened = 0, 0.0
        for time, change in edges:
            if change > 0 and active == 1:
                opened = time
            if change < 0 and active == 2:
                if regions and opened - regions[-1][1] < 1e-6:
                    regions[-1] = (regions[-1][0], time)
                elif time > opened:
                    regions.append((opened, time))
            active += change
        return regions

    def rename(self, names: dict[str, str]) -> Diarization:
        """The same diarization with some speakers renamed (e.g. to known voices' names)."""
        turns = [SpeakerTurn(t.start, t.end, names.get(t.speaker, t.speaker)) for t in self.turns]
        centroids = {names.get(label, label): vector for label, vector in self.centroids.items()}
        return Diarization(self.duration, self.engine, turns, centroids)

    def serialize(self) -> dict[str, Any]:
        return {
            "duration": round(self.duration, 3),
            "engine": self.engine,
            "num_speakers": len(self.speakers),
            "speakers": [
                {"speaker": speaker, "speaking_time": seconds} for speaker, seconds in self.speaking_time().items()
            ],
            "segments": [
                {"start": round(t.start, 3), "end": round(t.end, 3), "speaker": t.speaker} for t in self.turns
            ],
            "overlaps": [{"start": round(start, 3), "end": round(end, 3)} for start, end in self.overlaps()],
        }


class SpeakerEmbedder(Protocol):
    """Speech in, unit-length speaker vectors out.

    Attributes:
        name: the embedder's name, as recorded with results.
        dimension: length of its vectors.
    """

    name: str
    dimension: int

    def embed(self, audio: np.ndarray) -> np.ndarray:
        """One vector for a stretch of 16 kHz speech (level-normalised inside)."""
        ...

    def embed_windows(self, audio: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """One vector per fixed-length window starting at each sample offset in ``starts`` (shape (n, dimension))."""
        ...


class Diarizer(Protocol):
    """Who spoke when, for a whole file of any length."""

    name: str

    def diarize(self, audio_path: Path, options: DiarizationOptions, hook: ProgressHook | None = None) -> Diarization:
        """Diarize one recording.

        Raises:
            InvalidAudio: the file is not decodable audio.
        """
        ...
