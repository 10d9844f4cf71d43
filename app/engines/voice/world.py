"""Voice matching by signal processing with the WORLD vocoder: move a synthetic voice toward a reference speaker.

WORLD splits speech into pitch (F0), a smooth spectral envelope (the vocal tract) and aperiodicity. Three changes,
fitted once on the reference, bring a stock voice closer to the speaker while the words stay as the stock voice
spoke them:

1. **Pitch**: log-F0 is mapped so its spread (a robust statistic: creak and octave errors distort deviations)
   matches the reference's and its median moves toward the reference's, by at most two semitones; a user's pitch
   shift is added on top.
2. **Vocal-tract length**: the envelope's frequency axis is warped by a factor chosen on the reference (longer
   tracts put formants lower).
3. **Long-term spectrum**: the average voiced envelope of the reference minus that of the warped stock voice,
   smoothed and limited to ±12 dB, corrects the overall timbre. Part of this correction copies the reference's
   recording channel (room, microphone) rather than the voice, and is kept deliberately gentle for that reason.

It is not neural voice cloning: prosody, accent and articulation stay those of the stock voice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

SAMPLE_RATE = 16000
FRAME_PERIOD_MS = 5.0
ALPHAS = tuple(round(0.84 + 0.04 * step, 2) for step in range(10))
"""Vocal-tract warps tried on the reference: 0.84-1.20."""
MAX_CORRECTION_DB = 12.0
SMOOTHING_BINS = 9
MAX_SPREAD_RATIO = 2.0
MAX_LEVEL_SHIFT_SEMITONES = 2.0
"""How far the stock voice's pitch level moves toward the speaker's. Larger moves cost intelligibility (JFK's
reference: moving Piper's 134 Hz to his 248 Hz turned "brown" into "round" for Whisper) and bought no measurable
speaker similarity; the stock voice is chosen near the speaker's register instead."""


@dataclass(frozen=True)
class Analysis:
    f0: np.ndarray
    envelope: np.ndarray
    aperiodicity: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        mask: np.ndarray = self.f0 > 0
        return mask


@dataclass(frozen=True)
class PitchStats:
    median: float
    """Median log-F0 of voiced frames (natural log of Hz)."""
    spread: float
    """Interquartile range of log-F0 over 1.349 (a robust standard deviation)."""


@dataclass(frozen=True)
class MatchParameters:
    """What voice matching fitted on a reference, as stored with the voice profile."""

    pitch: PitchStats
    alpha: float
    correction: list[float]
    """Log-power correction per envelope bin."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatchParameters:
        return cls(PitchStats(**data["pitch"]), float(data["alpha"]), [float(v) for v in data["correction"]])


def analyse(samples: np.ndarray) -> Analysis:
    """WORLD analysis of 16 kHz speech (DIO + StoneMask pitch, CheapTrick envelope, D4C aperiodicity)."""
    import pyworld

    signal = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = pyworld.harvest(signal, SAMPLE_RATE, f0_floor=60.0, f0_ceil=600.0, frame_period=FRAME_PERIOD_MS)
    envelope = pyworld.cheaptrick(signal, f0, times, SAMPLE_RATE)
    aperiodicity = pyworld.d4c(signal, f0, times, SAMPLE_RATE)
    return Analysis(f0, envelope, aperiodicity)


def pitch_stats(analysis: Analysis) -> PitchStats:
    voiced = np.log(analysis.f0[analysis.voiced])
    if voiced.size < 10:
        return PitchStats(median=float(np.log(120.0)), spread=0.1)
    low, median, high = np.percentile(voiced, [25, 50, 75])
    return PitchStats(median=float(median), spread=float(max((high - low) / 1.349, 1e-3)))


def warp_envelope(envelope: np.ndarray, alpha: float) -> np.ndarray:
    """Scale the envelope's frequency axis by ``alpha`` (> 1 raises formants), interpolating log power."""
    bins = np.arange(envelope.shape[1], dtype=np.float64)
    source = np.clip(bins / alpha, 0, bins[-1])
    low = np.floor(source).astype(np.int64)
    high = np.minimum(low + 1, bins.size - 1)
    weight = source - low
    logs = np.log(envelope + 1e-16)
    warped: np.ndarray = np.exp(logs[:, low] * (1 - weight) + logs[:, high] * weight)
    return warped


def mean_voiced_log_envelope(analysis: Analysis, envelope: np.ndarray | None = None) -> np.ndarray:
    chosen = analysis.envelope if envelope is None else envelope
    voiced = analysis.voiced if analysis.voiced.any() else np.ones(chosen.shape[0], dtype=bool)
    mean: np.ndarray = np.log(chosen[voiced] + 1e-16).mean(axis=0)
    return mean


def fit_warp(reference: Analysis, stock: Analysis) -> float:
    """The warp in ``ALPHAS`` whose warped stock envelope best matches the reference's average voiced envelope in
    shape (overall level removed), over the formant range 200-5000 Hz: classic vocal-tract-length normalisation."""
    bins = np.arange(reference.envelope.shape[1]) * SAMPLE_RATE / (2 * (reference.envelope.shape[1] - 1))
    band = (bins >= 200) & (bins <= 5000)
    target = mean_voiced_log_envelope(reference)[band]
    errors = {}
    for alpha in ALPHAS:
        candidate = mean_voiced_log_envelope(stock, warp_envelope(stock.envelope, alpha))[band]
        difference = target - candidate
        errors[alpha] = float(np.mean((difference - difference.mean()) ** 2))
    return min(errors, key=lambda a: errors[a])


def spectrum_correction(reference: Analysis, stock: Analysis, alpha: float) -> np.ndarray:
    difference = mean_voiced_log_envelope(reference) - mean_voiced_log_envelope(
        stock, warp_envelope(stock.envelope, alpha)
    )
    kernel = np.ones(SMOOTHING_BINS) / SMOOTHING_BINS
    smoothed = np.convolve(np.pad(difference, SMOOTHING_BINS // 2, mode="edge"), kernel, mode="valid")
    limit = np.log(10 ** (MAX_CORRECTION_DB / 10))
    clipped: np.ndarray = np.clip(smoothed, -limit, limit)
    return clipped


def map_pitch(f0: np.ndarray, source: PitchStats, target: PitchStats, semitones: float = 0.0) -> np.ndarray:
    """Voiced frames' log-F0 moved toward ``target``'s median (by at most ``MAX_LEVEL_SHIFT_SEMITONES``) and
    spread, then shifted by ``semitones``."""
    mapped = f0.copy()
    voiced = f0 > 0
    ratio = float(np.clip(target.spread / source.spread, 1 / MAX_SPREAD_RATIO, MAX_SPREAD_RATIO))
    reach = MAX_LEVEL_SHIFT_SEMITONES * np.log(2) / 12
    level = source.median + float(np.clip(target.median - source.median, -reach, reach))
    mapped[voiced] = np.exp(level + (np.log(f0[voiced]) - source.median) * ratio + semitones * np.log(2) / 12)
    return mapped


def render(
    analysis: Analysis,
    target: PitchStats,
    *,
    alpha: float,
    correction: np.ndarray | None,
    semitones: float = 0.0,
) -> np.ndarray:
    """Resynthesize analysed speech with mapped pitch, warped envelope and corrected spectrum (peak 0.9)."""
    import pyworld

    f0 = map_pitch(analysis.f0, pitch_stats(analysis), target, semitones)
    envelope = warp_envelope(analysis.envelope, alpha)
    if correction is not None:
        envelope = envelope * np.exp(correction)[None, :]
    speech = pyworld.synthesize(f0, np.ascontiguousarray(envelope), analysis.aperiodicity, SAMPLE_RATE, FRAME_PERIOD_MS)
    peak = float(np.max(np.abs(speech))) if speech.size else 0.0
    return np.asarray(speech * (0.9 / peak) if peak > 0 else speech, dtype=np.float32)


def shift_pitch(samples: np.ndarray, semitones: float) -> np.ndarray:
    """Change pitch by ``semitones`` keeping timing and timbre (WORLD: F0 scaled, envelope untouched)."""
    analysis = analyse(samples)
    stats = pitch_stats(analysis)
    return render(analysis, stats, alpha=1.0, correction=None, semitones=semitones)
