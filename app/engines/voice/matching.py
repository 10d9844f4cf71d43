"""The bundled voice-matching engine: the stock voice nearest to the speaker, moved toward their voice.

Stock voices are the bundled Piper and Kokoro voices that speak the language intelligibly (measured in
``app.engines.synthesis``). For a new profile the engine picks one whose pitch register suits the speaker (see
``nearest_stock_voice``) and fits the adaptation on the stock voice's enrolment sentence
(``app.engines.voice.world``): the speaker's pitch level and range, the vocal-tract warp under which the adapted
sentence sounds most like the reference to the speaker embedder, and the long-term spectrum correction; the
unadapted stock voice competes too, and wins where the embedder rates it closer (one far-field woman, FEE087, whose
adapted clone both embedders rated below the plain stock voice: resemblyzer -0.107 under it, -0.016 with the
unadapted candidate; the other speakers kept their adaptation). Each warp is also tried with the stock voice's own
pitch beside the speaker's: a far-field pitch reading mixed with octave errors (FEE083) moved her stock voice to a
pitch the embedder rated further from her, and resemblyzer agreed (held-out gain over her stock voice -0.068 with
the speaker's pitch, -0.030 with the stock voice's; mean over the five benchmark speakers +0.094 to +0.101, the
others unchanged, since the d-vector kept the speaker's pitch for them).
Each synthesis speaks with the stock voice (its deterministic variant, so the fit holds for every rendition) and
resynthesizes it with WORLD under that adaptation; a requested pitch shift is added to the pitch mapping, and a
requested speed replays the natural-pace analysis faster or slower (``world.time_scaled``). Prosody and accent stay
the stock voice's.

Rejected: walking Kokoro's style vector toward the speaker (blends of its five voices, then random steps kept when
the d-vector rated the enrolment sentence closer to the reference). The d-vector's rating rose (FEE083 0.58 to
0.71) but resemblyzer's similarity to held-out speech did not follow (FEE083 0.580 to 0.541, FEE087 0.586 to 0.603,
MEE009 0.484 to 0.481), and each fitting took 80 s.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soxr

from app.engines.speaker.base import SpeakerEmbedder
from app.engines.synthesis import VOICE_CATALOGUE, SpeechSynthesizer, VoiceNotAvailable
from app.engines.synthesis.base import SynthesizedSpeech, check_speed, trim_silence
from app.engines.voice import world
from app.engines.voice.base import EngineInfo, SpeakerReference

ENROLMENT_SENTENCE = {
    "en": "We were told the old bridge would reopen in early spring, after the river had calmed down again.",
    "es": "Nos dijeron que el puente viejo volvería a abrir a principios de la primavera.",
    "pt": "Disseram-nos que a ponte velha voltaria a abrir no início da primavera.",
    "it": "Ci hanno detto che il vecchio ponte avrebbe riaperto all'inizio della primavera.",
}
PITCH_WINDOW_SEMITONES = 12.0
SLOWER_VOICE_MARGIN = 0.1
DECISIVE_MARGIN = 2 * SLOWER_VOICE_MARGIN
"""Similarity lead at which a slower voice of a like envelope wins even outside the pitch window."""
ENGINE_SPEED_ORDER = ("piper", "kokoro")
"""Fastest first."""
WARPS = (0.94, 1.0, 1.06)
"""Vocal-tract length factors tried at enrolment. ±6 %: the stock voice is already the nearest in register, and
with ±12 % allowed, the embedder chose a 12 % warp for one woman that the independent embedder scored lower."""
NAME = "voice-matching (nearest stock voice + WORLD pitch, vocal-tract and timbre adaptation)"


@dataclass(frozen=True)
class StockVoice:
    engine: str
    voice: str

    @property
    def key(self) -> str:
        return f"{self.engine}:{self.voice}"


def stock_voices_for(language: str) -> list[StockVoice]:
    """Bundled voices that speak ``language`` intelligibly: Piper's and every Kokoro voice for English (all measured
    at 0 % WER), the measured best Kokoro voice elsewhere."""
    if language == "en":
        kokoro = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
        return [StockVoice("piper", "joe"), *(StockVoice("kokoro", name) for name in kokoro)]
    choice = VOICE_CATALOGUE.get(language)
    return [StockVoice(choice.engine, choice.voice)] if choice else []


@dataclass(frozen=True)
class StockSample:
    """A stock voice's enrolment sentence and what was measured on it."""

    samples: np.ndarray
    analysis: world.Analysis
    pitch: world.PitchStats
    embedding: np.ndarray


class VoiceMatchingCloner:
    """A ``VoiceCloner`` built from the bundled stock voices and the WORLD vocoder.

    Args:
        synthesizer_for: the loaded stock engine by name (``piper``, ``kokoro``), loaded lazily by the caller.
        embedder: the speaker embedder used to choose the stock voice.
        cache_dir: where the stock voices' enrolment sentences are kept once synthesized.
    """

    info = EngineInfo(
        name=NAME,
        kind="voice matching",
        clones=True,
        languages=sorted(ENROLMENT_SENTENCE.keys() & VOICE_CATALOGUE.keys()),
        licence="engine MIT; stock voices: Piper joe (see its model card), Kokoro-82M (Apache-2.0); espeak-ng GPL-3.0",
        description="Not neural cloning: the bundled voice nearest to the speaker, resynthesized by the WORLD "
        "vocoder with the speaker's pitch level and range, vocal-tract length and long-term spectrum. Prosody and "
        "accent stay the stock voice's.",
    )

    def __init__(
        self,
        synthesizer_for: Callable[[str], SpeechSynthesizer],
        embedder: SpeakerEmbedder,
        *,
        cache_dir: Path | None = None,
    ) -> None:
        self._synthesizer_for = synthesizer_for
        self._embedder = embedder
        self._cache_dir = cache_dir
        self._stock: dict[tuple[str, str], StockSample] = {}

    def _enrolment_speech(self, voice: StockVoice, language: str) -> np.ndarray:
        """The voice's enrolment sentence; synthesis is deterministic, so it is kept on disk once made."""
        text = ENROLMENT_SENTENCE[language]
        path = None
        if self._cache_dir is not None:
            digest = hashlib.sha256(f"{voice.key}|{language}|{text}".encode()).hexdigest()[:16]
            path = self._cache_dir / f"{voice.engine}-{voice.voice}-{language}-{digest}.npy"
            if path.is_file():
                return np.asarray(np.load(path), dtype=np.float32)
        speech = self._speak(voice, text, language)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            staging = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(staging, speech)
            os.replace(staging, path)
        return speech

    def _stock_sample(self, voice: StockVoice, language: str) -> StockSample:
        cached = self._stock.get((voice.key, language))
        if cached is None:
            speech = self._enrolment_speech(voice, language)
            analysis = world.analyse(speech, synthetic=True)
            cached = StockSample(speech, analysis, world.pitch_stats(analysis), self._embedder.embed(speech))
            self._stock[(voice.key, language)] = cached
        return cached

    def _speak(self, voice: StockVoice, text: str, language: str) -> np.ndarray:
        """The stock voice at its natural pace (``synthesize`` sets the pace in resynthesis)."""
        speech = self._synthesizer_for(voice.engine).synthesize(text, language=language, voice=voice.voice)
        resampled = soxr.resample(speech.samples, speech.sample_rate, world.SAMPLE_RATE)
        return trim_silence(np.asarray(resampled, dtype=np.float32), world.SAMPLE_RATE)

    def nearest_stock_voice(
        self, reference: SpeakerReference, language: str, speaker: world.Analysis | None = None
    ) -> tuple[StockVoice, float]:
        """The stock voice for ``language`` to adapt, and its embedding similarity to the speaker.

        The fastest engine's most similar voice (Piper runs about 7x faster than Kokoro), unless a slower engine's
        voice is both clearly more similar (by ``SLOWER_VOICE_MARGIN``) and closer in spectral envelope shape, and
        either lies within an octave of the speaker's pitch or leads by ``DECISIVE_MARGIN``. Embedding similarity
        alone is a poor chooser: the d-vector rated a female Kokoro voice closest to JFK (0.46 against Piper's male
        voice at 0.34), while the envelope put Piper nearest. Pitch alone is no better: on a far-field meeting
        microphone Harvest read one woman's voice at 102 Hz, 12.5 semitones under the Kokoro voice that both
        embedding (0.65 against 0.40) and envelope put nearest to her. (The speaker's pitch is read by Harvest, the
        stock voices' by DIO; see ``world.analyse``.)

        Args:
            reference: the speaker.
            language: what the voice must speak.
            speaker: the reference's WORLD analysis, where the caller already has it.
        """
        candidates = stock_voices_for(language)
        if not candidates:
            raise VoiceNotAvailable(f"Voice matching does not speak {language!r}", details={"language": language})
        if speaker is None:
            speaker = world.analyse(reference.samples)
        speaker_pitch = world.pitch_stats(speaker).median
        best: tuple[float, float, StockVoice] | None = None
        for engine in ENGINE_SPEED_ORDER:
            for voice in (v for v in candidates if v.engine == engine):
                sample = self._stock_sample(voice, language)
                similarity = float(sample.embedding @ reference.embedding)
                shape = world.envelope_distance(speaker, sample.analysis)
                semitones = float(abs(sample.pitch.median - speaker_pitch) * 12 / np.log(2))
                if best is None:
                    best = (similarity, shape, voice)
                elif voice.engine == best[2].engine:
                    if similarity > best[0]:
                        best = (similarity, shape, voice)
                elif (
                    similarity > best[0] + SLOWER_VOICE_MARGIN
                    and shape < best[1]
                    and (semitones <= PITCH_WINDOW_SEMITONES or similarity > best[0] + DECISIVE_MARGIN)
                ):
                    best = (similarity, shape, voice)
        assert best is not None
        return best[2], best[0]

    def condition(self, reference: SpeakerReference, language: str) -> dict[str, Any]:
        """Choose the stock voice for ``language`` and fit pitch, warp and spectrum correction on the reference."""
        target = world.analyse(reference.samples)
        voice, similarity = self.nearest_stock_voice(reference, language, target)
        stock = self._stock_sample(voice, language)
        # The stock voice's own pitch competes with the speaker's: on a far-field microphone the pitch tracker mixes
        # octave errors into a woman's reading (FEE083: median 161 Hz, spread nearly twice the stock voice's).
        pitches = (world.matched_pitch(world.pitch_stats(target), stock.pitch), stock.pitch)
        candidates: list[world.VoiceMatch] = []
        for warp in WARPS:
            correction = world.spectrum_correction(target, stock.analysis, warp=warp).round(4).tolist()
            candidates.extend(world.VoiceMatch(pitch, warp, correction) for pitch in pitches)
        # The stock voice as it is, through the vocoder: adaptation must earn its place.
        candidates.append(world.VoiceMatch(stock.pitch, 1.0, [0.0] * len(candidates[0].correction)))
        fits = []
        for match in candidates:
            adapted = world.resynthesize(stock.analysis, stock.pitch, match)
            fits.append((float(self._embedder.embed(adapted) @ reference.embedding), match))
        _, best = max(fits, key=lambda fit: fit[0])
        return {
            "stock_voice": voice.key,
            "stock_similarity": round(similarity, 4),
            "parameters": best.to_json(),
        }

    def synthesize(
        self, text: str, *, language: str, reference: SpeakerReference, speed: float = 1.0, pitch: float = 0.0
    ) -> SynthesizedSpeech:
        fitted = reference.conditioning or self.condition(reference, language)
        engine, name = fitted["stock_voice"].split(":", 1)
        voice = StockVoice(engine, name)
        match = world.VoiceMatch.from_json(fitted["parameters"])
        check_speed(speed)
        spoken = self._speak(voice, text, language)
        if spoken.size == 0:  # the stock voice said nothing (text of punctuation alone)
            return SynthesizedSpeech(samples=spoken, sample_rate=world.SAMPLE_RATE)
        analysis = world.analyse(spoken, synthetic=True)
        stock_pitch = self._stock_sample(voice, language).pitch
        speech = world.resynthesize(analysis, stock_pitch, match, semitones=pitch, tempo=speed)
        return SynthesizedSpeech(samples=speech, sample_rate=world.SAMPLE_RATE)
