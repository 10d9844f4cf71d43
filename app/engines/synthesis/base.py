"""What a speech-synthesis engine takes and returns, independent of the model behind it.

Stock-voice engines (Piper, Kokoro) and voice-cloning engines share one small Protocol: text and a language in,
mono float audio out. Which engine and voice speak a language best is decided elsewhere, by measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.core.errors import InvalidInput

SENTENCE_PAUSE_SECONDS = 0.25
"""Silence put between separately synthesized sentences (a natural pause, far below a noticeable gap)."""
EDGE_FADE_SECONDS = 0.005
"""Fade at the edges of every synthesized piece, so joins never click."""


class VoiceNotAvailable(InvalidInput):
    """The requested language or voice is not one this engine (or this installation) can speak."""

    error_code = "VOICE_NOT_AVAILABLE"
    default_message = "No voice is available for this language"


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers for one language.

    Attributes:
        id: the engine's name for the voice (passed back as ``synthesize(voice=...)``).
        language: ISO 639-1 code of the language it speaks.
        engine: the engine's ``name``.
        description: a human-readable note (speaker, accent, quality).
    """

    id: str
    language: str
    engine: str
    description: str


@dataclass(frozen=True)
class SynthesizedSpeech:
    """Synthesized audio.

    Attributes:
        samples: mono float32 signal in [-1, 1].
        sample_rate: its rate in Hz (the engine's native rate; callers resample as they need).
    """

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.size / self.sample_rate


class SpeechSynthesizer(Protocol):
    """A text-to-speech engine.

    Attributes:
        name: the engine's name, as recorded with a job's results.
        licence: the licence terms that bind whoever distributes the engine with its weights.
    """

    name: str
    licence: str

    def voices(self) -> list[Voice]:
        """Every (voice, language) pair the engine can speak."""
        ...

    def synthesize(
        self, text: str, *, language: str, voice: str | None = None, speed: float = 1.0
    ) -> SynthesizedSpeech:
        """Speak ``text``.

        Args:
            text: what to say, in ``language``.
            language: ISO 639-1 code.
            voice: a voice ``id`` from ``voices()``; ``None`` picks the engine's default for the language.
            speed: speaking rate; 1.0 is the voice's natural pace, 1.2 is 20 % faster.

        Returns:
            The audio.

        Raises:
            VoiceNotAvailable: the engine cannot speak ``language`` with ``voice``.
        """
        ...


def join_pieces(pieces: Sequence[np.ndarray], sample_rate: int, pause: float = SENTENCE_PAUSE_SECONDS) -> np.ndarray:
    """Concatenate separately synthesized pieces with a pause between them and faded edges (no clicks).

    Args:
        pieces: mono float32 signals.
        sample_rate: their rate in Hz.
        pause: seconds of silence between pieces.

    Returns:
        One float32 signal.
    """
    gap = np.zeros(round(pause * sample_rate), dtype=np.float32)
    out: list[np.ndarray] = []
    for piece in pieces:
        if piece.size == 0:
            continue
        if out:
            out.append(gap)
        out.append(fade_edges(piece, sample_rate))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def fade_edges(samples: np.ndarray, sample_rate: int, seconds: float = EDGE_FADE_SECONDS) -> np.ndarray:
    """A float32 copy of ``samples`` with a raised-cosine fade-in and fade-out of ``seconds`` each."""
    out = np.array(samples, dtype=np.float32)
    n = min(round(seconds * sample_rate), out.size // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32))).astype(np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def trim_silence(samples: np.ndarray, sample_rate: int, *, floor_db: float = -40.0, pad: float = 0.03) -> np.ndarray:
    """Cut leading and trailing silence (below ``floor_db`` relative to the peak), keeping ``pad`` seconds of it.

    Engines pad their output with silence of varying length; trimming it makes speech start where it is placed.
    """
    magnitude = np.abs(samples)
    if magnitude.size == 0:
        return samples
    loud = np.flatnonzero(magnitude > magnitude.max() * 10.0 ** (floor_db / 20.0))
    if loud.size == 0:
        return samples[:0]
    margin = round(pad * sample_rate)
    return samples[max(0, int(loud[0]) - margin) : int(loud[-1]) + margin + 1]


def check_speed(speed: float) -> None:
    """Refuse speaking rates no engine renders intelligibly.

    Raises:
        InvalidInput: ``speed`` is outside 0.5-2.0.
    """
    if not 0.5 <= speed <= 2.0:
        raise InvalidInput("speed must be between 0.5 and 2.0", details={"speed": speed})


def shift_pitch(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """Rubber Band pitch shift (duration kept)."""
    from pedalboard import PitchShift

    shifted = PitchShift(semitones=semitones)(samples.reshape(1, -1), float(sample_rate))
    return np.asarray(shifted, dtype=np.float32).reshape(-1)
