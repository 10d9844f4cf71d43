"""Naming diarized speakers after known voices: each speaker whose centroid matches a voice profile's embedding
closely enough takes the profile's name. Pairs are taken most similar first, each voice and each speaker at most
once, as speaches and OpenAI do with ``known_speaker_names``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engines.speaker.base import Diarization

SAME_SPEAKER_SIMILARITY = 0.7
"""Cosine similarity of d-vectors above which two stretches of speech are taken to be one person (same-speaker
pairs scored 0.82-0.91 in our measurements, different AMI far-field speakers up to 0.77; JFK against AMI 0.6)."""


@dataclass(frozen=True)
class KnownVoice:
    voice_id: int
    name: str
    embedding: np.ndarray


@dataclass(frozen=True)
class NamedSpeaker:
    speaker: str
    """The label the diarizer gave."""
    voice_id: int
    name: str
    similarity: float


def name_speakers(
    diarization: Diarization, voices: list[KnownVoice], threshold: float = SAME_SPEAKER_SIMILARITY
) -> tuple[Diarization, list[NamedSpeaker]]:
    """The diarization with matched speakers renamed, and which matched whom."""
    pairs = sorted(
        (
            (float(np.dot(centroid, voice.embedding)), speaker, voice)
            for speaker, centroid in diarization.centroids.items()
            for voice in voices
        ),
        key=lambda pair: -pair[0],
    )
    taken_speakers: set[str] = set()
    taken_voices: set[int] = set()
    # A name must not be another speaker's label ("SPEAKER_01"), or renaming would merge the two.
    used_names: set[str] = set(diarization.speakers)
    named: list[NamedSpeaker] = []
    for similarity, speaker, voice in pairs:
        if similarity < threshold or speaker in taken_speakers or voice.voice_id in taken_voices:
            continue
        name = voice.name if voice.name not in used_names - {speaker} else f"{voice.name} ({voice.voice_id})"
        named.append(NamedSpeaker(speaker, voice.voice_id, name, round(similarity, 4)))
        taken_speakers.add(speaker)
        taken_voices.add(voice.voice_id)
        used_names.add(name)
    return diarization.rename({n.speaker: n.name for n in named}), named
