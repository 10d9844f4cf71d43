"""Checking and cleaning a voice sample before it becomes a voice profile.

A sample is refused, with what to fix, when it is too long to be a sample, clipped, silent, holds less than
``min_speech_seconds`` of speech, or holds a second speaker with a real share of the speech (a cloned voice would
blend them). The cleaned reference keeps only the main speaker's speech, joined with short pauses and faded edges,
at a standard loudness (EBU R128, -23 LUFS), so every engine conditions on the voice rather than on the recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.errors import InvalidInput
from app.engines.speaker.base import DiarizationOptions, Diarizer
from app.engines.synthesis.base import join_pieces
from app.pipelines.audio import SAMPLE_RATE, AudioLongerThanAllowed, decode_audio, probe_audio

TARGET_LOUDNESS_LUFS = -23.0
PEAK_LIMIT = 0.95
TURN_PAD_SECONDS = 0.1
PAUSE_SECONDS = 0.15


class InvalidVoiceSample(InvalidInput):
    error_code = "INVALID_VOICE_SAMPLE"
    default_message = "The voice sample cannot be used"


@dataclass(frozen=True)
class SampleLimits:
    min_speech_seconds: float = 3.0
    max_seconds: float = 300.0
    max_clipped_fraction: float = 0.001
    """Share of samples stuck at the peak level above which the sample counts as clipped."""
    min_level_dbfs: float = -55.0
    second_speaker_share: float = 0.15
    """A second speaker with more than this share of the speech (and over a second of it) refuses the sample."""


@dataclass
class CleanedReference:
    samples: np.ndarray
    """16 kHz mono float32, speech only, loudness-normalised."""
    speech_seconds: float
    quality: dict[str, Any] = field(default_factory=dict)


def _refuse(problem: str, message: str, **details: Any) -> InvalidVoiceSample:
    return InvalidVoiceSample(message, details={"problem": problem, **details})


def _clipped_fraction(samples: np.ndarray) -> float:
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak < 0.9:
        return 0.0
    return float(np.mean(np.abs(samples) >= peak * 0.999))


def _level_dbfs(pieces: list[np.ndarray]) -> float:
    """RMS level of the pieces together, in dB below full scale (-200 for nothing)."""
    samples = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
    return 20 * float(np.log10(float(np.sqrt(np.mean(np.square(samples)))) + 1e-12)) if samples.size else -200.0


def _loudness_normalised(samples: np.ndarray) -> tuple[np.ndarray, float]:
    import pyloudnorm

    meter = pyloudnorm.Meter(SAMPLE_RATE)
    loudness = float(meter.integrated_loudness(samples.astype(np.float64)))
    if not np.isfinite(loudness):
        return samples, loudness
    gain = 10 ** ((TARGET_LOUDNESS_LUFS - loudness) / 20)
    peak = float(np.max(np.abs(samples))) * gain
    if peak > PEAK_LIMIT:
        gain *= PEAK_LIMIT / peak
    return (samples * gain).astype(np.float32), loudness


def clean_reference(path: Path, diarizer: Diarizer, limits: SampleLimits | None = None) -> CleanedReference:
    """Check a voice sample and return its cleaned reference.

    Raises:
        InvalidAudio: the file is not decodable audio.
        InvalidVoiceSample: the sample is too long, clipped, silent, too short or has several speakers
            (``details.problem`` says which).
    """
    limits = limits or SampleLimits()
    info = probe_audio(path)
    if info.duration > limits.max_seconds:
        raise _refuse(
            "too_long",
            f"The sample is {info.duration:.0f} s long; upload at most {limits.max_seconds:.0f} s of one person "
            "speaking",
            duration=round(info.duration, 1),
            max_seconds=limits.max_seconds,
        )
    try:
        native = decode_audio(path, sample_rate=info.sample_rate, max_seconds=limits.max_seconds)
    except AudioLongerThanAllowed as exc:  # the header said less than the file holds
        raise _refuse(
            "too_long",
            f"The sample is longer than {limits.max_seconds:.0f} s; upload at most that much of one person speaking",
            max_seconds=limits.max_seconds,
        ) from exc
    clipped = _clipped_fraction(native)
    if clipped > limits.max_clipped_fraction:
        raise _refuse(
            "clipped",
            "The sample is clipped (distorted by a too-high recording level); record it again more quietly",
            clipped_fraction=round(clipped, 4),
        )
    audio = decode_audio(path, max_seconds=limits.max_seconds)
    diarization = diarizer.diarize(path, DiarizationOptions())
    times = diarization.speaking_time()
    # The level of the speech alone: over the whole file, a minute of silence before a word made good speech "silent".
    level = _level_dbfs([audio[int(t.start * SAMPLE_RATE) : int(t.end * SAMPLE_RATE)] for t in diarization.turns])
    if level < limits.min_level_dbfs or not times:
        raise _refuse("silent", "The sample holds no audible speech", level_dbfs=round(level, 1))
    main = max(times, key=lambda speaker: times[speaker])
    total = sum(times.values())
    others = {speaker: seconds for speaker, seconds in times.items() if speaker != main}
    if any(seconds > 1.0 and seconds / total > limits.second_speaker_share for seconds in others.values()):
        raise _refuse(
            "multiple_speakers",
            "More than one person speaks in the sample; upload a recording of the one voice alone",
            speakers=len(times),
        )
    turns = [t for t in diarization.turns if t.speaker == main]
    pieces = [
        audio[int(max(0.0, t.start - TURN_PAD_SECONDS) * SAMPLE_RATE) : int((t.end + TURN_PAD_SECONDS) * SAMPLE_RATE)]
        for t in turns
    ]
    speech = join_pieces(pieces, SAMPLE_RATE, pause=PAUSE_SECONDS)
    speech_seconds = sum(t.duration for t in turns)
    if speech_seconds < limits.min_speech_seconds:
        raise _refuse(
            "too_short",
            f"The sample holds {speech_seconds:.1f} s of speech; at least {limits.min_speech_seconds:.0f} s are needed",
            speech_seconds=round(speech_seconds, 2),
            min_speech_seconds=limits.min_speech_seconds,
        )
    cleaned, loudness = _loudness_normalised(speech)
    return CleanedReference(
        samples=cleaned,
        speech_seconds=round(speech_seconds, 3),
        quality={
            "input_seconds": round(info.duration, 3),
            "input_loudness_lufs": round(loudness, 1) if np.isfinite(loudness) else None,
            "level_dbfs": round(level, 1),
            "clipped_fraction": round(clipped, 5),
            "speakers_found": len(times),
            "loudness_lufs": TARGET_LOUDNESS_LUFS,
        },
    )
