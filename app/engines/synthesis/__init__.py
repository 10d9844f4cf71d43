"""Speech synthesis: engines behind one Protocol, the voices that ship inside the install, and which voice speaks
each language (chosen by measured intelligibility, not by what an engine claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.engines.errors import ModelNotAvailable
from app.engines.synthesis.base import SpeechSynthesizer, SynthesizedSpeech, Voice, VoiceNotAvailable
from app.engines.synthesis.kokoro import KokoroFiles, KokoroSynthesizer, bundled_kokoro_files, load_vocab
from app.engines.synthesis.phonemes import EspeakPhonemizer
from app.engines.synthesis.piper import PiperFiles, PiperSynthesizer, bundled_piper_files

__all__ = [
    "MAX_WER",
    "UNAVAILABLE",
    "VOICE_CATALOGUE",
    "BundledVoices",
    "SpeechSynthesizer",
    "SynthesizedSpeech",
    "Voice",
    "VoiceChoice",
    "VoiceNotAvailable",
    "best_voice_for",
    "bundled_voices",
    "load_bundled_synthesizer",
    "no_voice_reason",
]

MAX_WER = 0.2
"""A language is offered only if its best bundled voice is understood this well (round trip through Whisper)."""


@dataclass(frozen=True)
class BundledVoices:
    """Where the voices that ship inside the installed packages live on disk."""

    piper: PiperFiles
    kokoro: KokoroFiles


def bundled_voices(cache_dir: Path) -> BundledVoices:
    """Locate the bundled voices, assembling the split Kokoro model into ``cache_dir`` on first use.

    Args:
        cache_dir: the writable model cache (never the user's home).

    Returns:
        The file locations, keyed by engine.

    Raises:
        ModelNotAvailable: a voice package is missing or corrupt.
    """
    return BundledVoices(piper=bundled_piper_files(), kokoro=bundled_kokoro_files(cache_dir))


@dataclass(frozen=True)
class VoiceChoice:
    """The voice that speaks a language, with how well it was understood.

    Attributes:
        engine: ``piper`` or ``kokoro`` (what ``load_bundled_synthesizer`` takes).
        voice: the voice id passed to ``synthesize``.
        wer: round-trip word error rate on the three sentences the voice was chosen on.
        held_out_wer: the same on three fresh sentences (the unbiased figure: choosing the best of five voices on
            three sentences flatters the winner).
    """

    engine: str
    voice: str
    wer: float
    held_out_wer: float


# Measured with benchmarks/voice_intelligibility.py on 2 CPU cores: for each language, 3 native sentences per voice
# (Piper joe: English only; Kokoro: 5 voices x 6 languages), Whisper base forced to the language, WER over all
# three; the best voice then re-measured on 3 held-out sentences. A language is offered only if both are <= MAX_WER.
VOICE_CATALOGUE: dict[str, VoiceChoice] = {
    # Kokoro also scored 0.000 (jm_kumo, jf_alpha, jf_gongitsune) but Piper is ~7x faster (RTF 0.16 vs 1.1).
    "en": VoiceChoice(engine="piper", voice="joe", wer=0.0, held_out_wer=0.0),
    "es": VoiceChoice(engine="kokoro", voice="jm_kumo", wer=0.0, held_out_wer=0.0),  # other voices 0.029-0.059
    "pt": VoiceChoice(engine="kokoro", voice="jm_kumo", wer=0.031, held_out_wer=0.030),  # others 0.062-0.219
    # At the bar on held-out sentences (6 of 30 words misheard); other voices 0.100-0.133 on the first three.
    "it": VoiceChoice(engine="kokoro", voice="jf_alpha", wer=0.067, held_out_wer=0.200),
}
UNAVAILABLE: dict[str, str] = {
    # jf_gongitsune 0.094 on the first sentences, 0.267 held out; other voices 0.219-0.469.
    "de": "no bundled voice speaks German intelligibly enough: the best was misheard on 27% of words in our tests "
    "(the bar is 20%)",
    # jm_kumo 0.132 on the first sentences, 0.317 held out; other voices 0.289-0.632.
    "fr": "no bundled voice speaks French intelligibly enough: the best was misheard on 32% of words in our tests "
    "(the bar is 20%)",
}
"""Languages that were measured and rejected, with the reason a dubbing job reports."""


def best_voice_for(language: str) -> VoiceChoice | None:
    """The measured best bundled voice for ``language``, or ``None`` when no bundled voice speaks it well enough."""
    return VOICE_CATALOGUE.get(language)


def no_voice_reason(language: str) -> str:
    """Why ``language`` has no bundled voice, in words a dubbing job can show next to its transcript."""
    measured = UNAVAILABLE.get(language)
    if measured is not None:
        return measured
    offered = ", ".join(sorted(VOICE_CATALOGUE))
    return f"no bundled voice speaks {language!r}; dubbing is available in: {offered}"


def load_bundled_synthesizer(
    engine: str, cache_dir: Path, *, cpu_threads: int = 0, steady: bool = False
) -> SpeechSynthesizer:
    """Load one bundled engine (a ``VoiceChoice.engine``); workers call this once per process, lazily.

    Args:
        engine: ``piper`` or ``kokoro``.
        cache_dir: the writable model cache (the Kokoro model is assembled there on first use).
        cpu_threads: ONNX Runtime threads; 0 lets the runtime choose.
        steady: the same text always sounds the same (Piper's sampling noise off; Kokoro is deterministic anyway).
            Voice matching wants this: its adaptation is fitted on one rendition and applied to others.

    Raises:
        ModelNotAvailable: the engine is unknown or its files are missing or corrupt.
    """
    if engine == "piper":
        piper = bundled_piper_files()
        return PiperSynthesizer(piper.model, piper.config, cpu_threads=cpu_threads, variation=0.0 if steady else None)
    if engine == "kokoro":
        kokoro = bundled_kokoro_files(cache_dir)
        return KokoroSynthesizer(
            kokoro.model,
            kokoro.voices,
            load_vocab(kokoro.vocab),
            phonemizer=EspeakPhonemizer(),
            cpu_threads=cpu_threads,
        )
    raise ModelNotAvailable(f"No bundled speech engine {engine!r}", details={"engine": engine})
