"""Who said each word: a transcript and a diarization of the same recording merged into one document.

Every word gets the speaker whose turns overlap it most. A word that falls in a gap between turns gets the nearest
speaker in time, and one spoken while two people talk gets the one covering most of it; ``speaker_source`` says
which rule decided (``turn``, ``overlap`` or ``nearest``), so no word ever lacks a ``speaker`` key. Segments are cut
where the speaker changes between words, so every segment has one speaker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from app.engines.speaker.base import SpeakerTurn

TURN, OVERLAP, NEAREST, NONE = "turn", "overlap", "nearest", "none"
MIN_WORD_SECONDS = 0.002
"""Words shorter than this are looked up as if this long, around their middle."""


class _Turns:
    def __init__(self, turns: Sequence[SpeakerTurn]) -> None:
        self.starts = np.array([t.start for t in turns], dtype=np.float64)
        self.ends = np.array([t.end for t in turns], dtype=np.float64)
        self.speakers = [t.speaker for t in turns]

    def speaker_of(self, start: float, end: float) -> tuple[str | None, str]:
        if not self.speakers:
            return None, NONE
        if end - start < MIN_WORD_SECONDS:  # Whisper gives some words no length: they still lie inside turns
            middle = (start + end) / 2
            start, end = middle - MIN_WORD_SECONDS / 2, middle + MIN_WORD_SECONDS / 2
        covered = np.clip(np.minimum(self.ends, end) - np.maximum(self.starts, start), 0.0, None)
        by_speaker: dict[str, float] = {}
        for speaker, seconds in zip(self.speakers, covered, strict=True):
            if seconds > 0:
                by_speaker[speaker] = by_speaker.get(speaker, 0.0) + float(seconds)
        if by_speaker:
            best = max(by_speaker, key=lambda speaker: by_speaker[speaker])
            return best, OVERLAP if len(by_speaker) > 1 else TURN
        middle = (start + end) / 2
        distance = np.maximum(self.starts - middle, 0.0) + np.maximum(middle - self.ends, 0.0)
        return self.speakers[int(np.argmin(distance))], NEAREST


def attribute_speakers(transcript: Mapping[str, Any], turns: Sequence[SpeakerTurn]) -> dict[str, Any]:
    """The serialized transcript with ``speaker`` and ``speaker_source`` on every word and segment.

    Args:
        transcript: the dict ``Transcript.serialize`` returns.
        turns: the diarization's speaker turns.

    Returns:
        A new document: segments split at speaker changes and renumbered, plus ``speakers`` (in order of first word).
    """
    lookup = _Turns(turns)
    segments: list[dict[str, Any]] = []
    for segment in transcript.get("segments", []):
        words = [
            {**word, "speaker": speaker, "speaker_source": source}
            for word in segment.get("words", [])
            for speaker, source in [lookup.speaker_of(word["start"], word["end"])]
        ]
        if not words:
            speaker, source = lookup.speaker_of(segment["start"], segment["end"])
            segments.append({**segment, "speaker": speaker, "speaker_source": source})
            continue
        for run in _speaker_runs(words):
            sources = {word["speaker_source"] for word in run}
            segments.append(
                {
                    **segment,
                    "start": run[0]["start"],
                    "end": run[-1]["end"],
                    "text": "".join(word["word"] for word in run).strip(),
                    "speaker": run[0]["speaker"],
                    "speaker_source": TURN if sources == {TURN} else (OVERLAP if OVERLAP in sources else NEAREST),
                    "words": run,
                }
            )
    for index, segment in enumerate(segments, start=1):
        segment["id"] = index
    speakers = list(dict.fromkeys(s["speaker"] for s in segments if s["speaker"] is not None))
    return {**transcript, "speakers": speakers, "segments": segments}


def _speaker_runs(words: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    runs: list[list[dict[str, Any]]] = [[words[0]]]
    for word in words[1:]:
        if word["speaker"] == runs[-1][-1]["speaker"]:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs
