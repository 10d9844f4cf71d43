"""What a voice-cloning engine takes and returns, independent of the model behind it.

A cloner speaks text in the voice of a reference speaker. What it derives from the reference (conditioning: XTTS
latents, voice-matching parameters, ...) is computed once per voice profile and kept with it, so jobs never redo it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from app.engines.synthesis.base import SynthesizedSpeech


@dataclass(frozen=True)
class SpeakerReference:
    """A voice profile as an engine sees it.

    Attributes:
        samples: the cleaned reference, 16 kHz mono float32.
        embedding: its unit-length speaker embedding.
        language: the language the reference speaker speaks.
        conditioning: what this engine's ``condition`` derived from the reference for the language being spoken.
    """

    samples: np.ndarray
    embedding: np.ndarray
    language: str
    conditioning: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EngineInfo:
    """An installed speech engine, as ``GET /voice/engines`` lists it."""

    name: str
    kind: str
    """``voice cloning`` (a model conditioned on the speaker), ``voice matching`` (signal processing applied to a
    stock voice) or ``stock voice``."""
    clones: bool
    """Whether the output is meant to sound like the reference speaker."""
    languages: list[str]
    licence: str
    description: str


class VoiceCloner(Protocol):
    """Text in, speech in a reference speaker's voice out."""

    info: EngineInfo

    def condition(self, reference: SpeakerReference, language: str) -> dict[str, Any]:
        """Derive, once per language, what synthesis needs from the reference (JSON-serialisable, stored with the
        profile and passed back as ``reference.conditioning``).

        Raises:
            VoiceNotAvailable: the engine cannot speak ``language``.
        """
        ...

    def synthesize(
        self, text: str, *, language: str, reference: SpeakerReference, speed: float = 1.0, pitch: float = 0.0
    ) -> SynthesizedSpeech:
        """Speak one sentence (or a few) of ``text`` in the reference's voice.

        Args:
            text: what to say.
            language: ISO 639-1 code, one of ``info.languages``.
            reference: the speaker, with the conditioning ``condition`` returned.
            speed: speaking rate, 0.5-2.0 (1.0 natural).
            pitch: shift in semitones, -12..+12.

        Raises:
            VoiceNotAvailable: the engine cannot speak ``language``.
        """
        ...
