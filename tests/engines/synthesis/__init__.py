"""Round-trip helpers: what a synthesized voice said, as the bundled Whisper base hears it."""

from __future__ import annotations

import re

import jiwer
import numpy as np
import soxr

from app.engines.synthesis import SynthesizedSpeech
from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber

WHISPER_RATE = 16000


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def heard(whisper: FasterWhisperTranscriber, speech: SynthesizedSpeech, language: str) -> str:
    audio = soxr.resample(speech.samples, speech.sample_rate, WHISPER_RATE).astype(np.float32)
    options = TranscriptionOptions(
        language=language, word_timestamps=False, multilingual=False, detect_segment_language=False
    )
    segments, _info = whisper.transcribe(audio, options)
    return " ".join(segment.text for segment in segments)


def word_error_rate(reference: str, hypothesis: str) -> float:
    return float(jiwer.wer(normalise(reference), normalise(hypothesis)))


def longest_quiet_run(speech: SynthesizedSpeech, *, floor_db: float = -50.0, frame_seconds: float = 0.02) -> float:
    """Seconds of the longest stretch whose 20 ms frames all stay below ``floor_db`` relative to the peak."""
    frame = round(frame_seconds * speech.sample_rate)
    frames = speech.samples[: speech.samples.size // frame * frame].reshape(-1, frame)
    quiet = np.abs(frames).max(axis=1) < np.abs(speech.samples).max() * 10.0 ** (floor_db / 20.0)
    longest = current = 0
    for is_quiet in quiet:
        current = current + 1 if is_quiet else 0
        longest = max(longest, current)
    return longest * frame_seconds


def edges_of_inserted_silence(samples: np.ndarray, *, min_run: int) -> np.ndarray:
    """The magnitudes just outside every run of exact zeros at least ``min_run`` long (where pieces were joined)."""
    zero = np.concatenate([[False], samples == 0.0, [False]]).astype(np.int8)
    changes = np.flatnonzero(np.diff(zero))
    starts, ends = changes[0::2], changes[1::2]
    inner = (ends - starts >= min_run) & (starts > 0) & (ends < samples.size)
    edges: np.ndarray = np.abs(np.concatenate([samples[starts[inner] - 1], samples[ends[inner]]]))
    return edges
