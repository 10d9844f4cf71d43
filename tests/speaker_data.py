"""Reference material for speaker tests: RTTM files as pyannote annotations, scoring, and recordings built from the
shared test media."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.diarization import DiarizationErrorRate

from app.engines.speaker.base import Diarization
from app.pipelines.audio import SAMPLE_RATE, decode_audio


def read_rttm(path: Path) -> Annotation:
    reference = Annotation(uri=path.stem)
    for index, line in enumerate(path.read_text().splitlines()):
        fields = line.split()
        start, duration = float(fields[3]), float(fields[4])
        reference[Segment(start, start + duration), index] = fields[7]
    return reference


def as_annotation(diarization: Diarization) -> Annotation:
    hypothesis = Annotation()
    for index, turn in enumerate(diarization.turns):
        hypothesis[Segment(turn.start, turn.end), index] = turn.speaker
    return hypothesis


def der(reference: Annotation, diarization: Diarization, *, collar: float = 0.0) -> float:
    """Diarization error rate over the whole file, overlap scored (pyannote.metrics)."""
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    return float(metric(reference, as_annotation(diarization), uem=Timeline([Segment(0, diarization.duration)])))


def longest_solo_stretch(reference: Annotation, speaker: str) -> tuple[float, float]:
    """The longest span where ``speaker`` talks and nobody else does."""
    others = Timeline([s for s, _, label in reference.itertracks(yield_label=True) if label != speaker]).support()
    own = Timeline([s for s, _, label in reference.itertracks(yield_label=True) if label == speaker]).support()
    solo = own.extrude(others) if others else own
    best = max(solo, key=lambda segment: segment.duration)
    return best.start, best.end


def solo_speech(testdata: Path, stem: str, speaker: str) -> np.ndarray:
    """Everything ``speaker`` says alone in the AMI excerpt ``stem`` (overlaps with others left out), joined."""
    reference = read_rttm(testdata / f"{stem}.rttm")
    audio = decode_audio(testdata / f"{stem}.wav")
    others = [s for s, _, label in reference.itertracks(yield_label=True) if label != speaker]
    pieces = []
    for segment, _, label in reference.itertracks(yield_label=True):
        if label != speaker:
            continue
        solo = segment
        for other in others:
            if other.start <= solo.start < other.end:
                solo = Segment(min(other.end, solo.end), solo.end)
            if solo.start < other.start < solo.end:
                solo = Segment(solo.start, other.start)
        if solo.duration > 0.3:
            pieces.append(audio[int(solo.start * SAMPLE_RATE) : int(solo.end * SAMPLE_RATE)])
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class TwoSpeakerMix:
    """Two real speakers taking turns, with one short overlap, and each speaker's own signal."""

    mixture: np.ndarray
    sources: tuple[np.ndarray, np.ndarray]
    overlap: tuple[float, float]


def two_speaker_mix(testdata: Path, overlap_seconds: float = 1.0) -> TwoSpeakerMix:
    """JFK, then an AMI speaker's longest solo stretch starting ``overlap_seconds`` before JFK ends, then JFK again.

    Both are levelled to the same RMS so neither track wins by loudness alone.
    """
    jfk = decode_audio(testdata / "jfk.flac")
    start, end = longest_solo_stretch(read_rttm(testdata / "ami_dev00.rttm"), "MEE009")
    ami = decode_audio(testdata / "ami_dev00.wav")[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    ami = ami * (np.sqrt(np.mean(jfk**2)) / np.sqrt(np.mean(ami**2)))
    first, second = jfk[: jfk.size // 2 + SAMPLE_RATE], jfk[jfk.size // 2 + SAMPLE_RATE :]
    overlap = int(overlap_seconds * SAMPLE_RATE)
    total = first.size + ami.size - overlap + second.size
    a, b = np.zeros(total, dtype=np.float32), np.zeros(total, dtype=np.float32)
    a[: first.size] = first
    b[first.size - overlap : first.size - overlap + ami.size] = ami
    a[first.size - overlap + ami.size :] = second
    return TwoSpeakerMix(
        mixture=a + b,
        sources=(a, b),
        overlap=((first.size - overlap) / SAMPLE_RATE, first.size / SAMPLE_RATE),
    )


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB."""
    length = min(estimate.size, reference.size)
    estimate, reference = estimate[:length].astype(np.float64), reference[:length].astype(np.float64)
    scale = np.dot(estimate, reference) / (np.dot(reference, reference) + 1e-12)
    target = scale * reference
    return float(10 * np.log10(np.sum(target**2) / (np.sum((estimate - target) ** 2) + 1e-12)))
