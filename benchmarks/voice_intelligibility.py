"""How intelligible each bundled voice is in each candidate language, measured by round-trip WER.

For every language (en, es, pt, de, fr, it) and every bundled voice that can attempt it, three native reference
sentences are synthesized, transcribed by the bundled Whisper base with the language forced, and scored with WER
(lowercase, punctuation removed). Prints a per-language, per-voice table with the real-time factor of synthesis
(wall seconds per second of audio), then the best voice per language re-measured on three held-out sentences; a
language is offered only if both scores are within the bar. The catalogue in ``app.engines.synthesis`` records
those choices.

    .venv/bin/python -m benchmarks.voice_intelligibility [--threads 2] [--languages es pt]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import soxr

from app.engines.bundled import bundled_whisper_base
from app.engines.synthesis import MAX_WER, SpeechSynthesizer, load_bundled_synthesizer
from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber

REFERENCE_SENTENCES: dict[str, tuple[str, str, str]] = {
    "en": (
        "Please call Stella and ask her to bring these things with her from the store.",
        "The meeting has been moved to Thursday afternoon because the director is away.",
        "We should leave early tomorrow if we want to find a good place to park.",
    ),
    "es": (
        "Mañana por la mañana vamos a visitar a mis abuelos en el campo.",
        "El restaurante de la esquina cierra los lunes, así que cenaremos en casa.",
        "¿Podrías explicarme otra vez cómo funciona esta máquina?",
    ),
    "pt": (
        "Amanhã de manhã vamos visitar os meus avós no interior.",
        "O restaurante da esquina fecha às segundas, então vamos jantar em casa.",
        "Você pode me explicar de novo como funciona esta máquina?",
    ),
    "de": (
        "Morgen früh besuchen wir meine Großeltern auf dem Land.",
        "Das Restaurant an der Ecke ist montags geschlossen, also essen wir zu Hause.",
        "Kannst du mir noch einmal erklären, wie diese Maschine funktioniert?",
    ),
    "fr": (
        "Demain matin, nous allons rendre visite à mes grands-parents à la campagne.",
        "Le restaurant du coin est fermé le lundi, alors nous dînerons à la maison.",
        "Peux-tu m'expliquer encore une fois comment fonctionne cette machine ?",
    ),
    "it": (
        "Domani mattina andiamo a trovare i miei nonni in campagna.",
        "Il ristorante all'angolo è chiuso il lunedì, quindi ceniamo a casa.",
        "Puoi spiegarmi di nuovo come funziona questa macchina?",
    ),
}
HELD_OUT_SENTENCES: dict[str, tuple[str, str, str]] = {
    "en": (
        "My sister bought a small house near the river last summer.",
        "Could you tell me where the nearest train station is?",
        "The children played in the garden until it started to rain.",
    ),
    "es": (
        "Mi hermana compró una casa pequeña cerca del río el verano pasado.",
        "¿Me podría decir dónde está la estación de tren más cercana?",
        "Los niños jugaron en el jardín hasta que empezó a llover.",
    ),
    "pt": (
        "Minha irmã comprou uma casa pequena perto do rio no verão passado.",
        "Você poderia me dizer onde fica a estação de trem mais próxima?",
        "As crianças brincaram no jardim até começar a chover.",
    ),
    "de": (
        "Meine Schwester hat letzten Sommer ein kleines Haus am Fluss gekauft.",
        "Können Sie mir sagen, wo der nächste Bahnhof ist?",
        "Die Kinder spielten im Garten, bis es anfing zu regnen.",
    ),
    "fr": (
        "Ma sœur a acheté une petite maison près de la rivière l'été dernier.",
        "Pourriez-vous me dire où se trouve la gare la plus proche ?",
        "Les enfants ont joué dans le jardin jusqu'à ce qu'il commence à pleuvoir.",
    ),
    "it": (
        "Mia sorella ha comprato una piccola casa vicino al fiume l'estate scorsa.",
        "Mi può dire dov'è la stazione ferroviaria più vicina?",
        "I bambini hanno giocato in giardino finché non ha cominciato a piovere.",
    ),
}
"""Fresh sentences for the chosen voice only: picking the best of five voices on three sentences flatters it."""
WHISPER_RATE = 16000
ENGINES = ("piper", "kokoro")


@dataclass(frozen=True)
class Score:
    language: str
    engine: str
    voice: str
    wer: float
    rtf: float


def normalise(text: str) -> str:
    """Lowercase, punctuation (apostrophes included) turned into spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def round_trip(
    synthesizer: SpeechSynthesizer, whisper: FasterWhisperTranscriber, language: str, voice: str, texts: Sequence[str]
) -> Score:
    options = TranscriptionOptions(
        language=language, word_timestamps=False, multilingual=False, detect_segment_language=False
    )
    references, hypotheses = [], []
    synth_seconds = audio_seconds = 0.0
    for text in texts:
        started = time.perf_counter()
        speech = synthesizer.synthesize(text, language=language, voice=voice)
        synth_seconds += time.perf_counter() - started
        audio_seconds += speech.duration
        audio = soxr.resample(speech.samples, speech.sample_rate, WHISPER_RATE).astype(np.float32)
        segments, _info = whisper.transcribe(audio, options)
        references.append(normalise(text))
        hypotheses.append(normalise(" ".join(segment.text for segment in segments)))
    wer = float(jiwer.wer(references, hypotheses))
    return Score(language, synthesizer.name, voice, wer, synth_seconds / audio_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="ONNX Runtime / CTranslate2 threads")
    parser.add_argument("--languages", nargs="*", default=list(REFERENCE_SENTENCES))
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "audio-api-model-cache")
    args = parser.parse_args()

    whisper = FasterWhisperTranscriber(
        bundled_whisper_base(args.cache_dir), device="cpu", compute_type="int8", cpu_threads=args.threads
    )
    engines = {name: load_bundled_synthesizer(name, args.cache_dir, cpu_threads=args.threads) for name in ENGINES}
    scores: list[Score] = []
    print(f"{'lang':<5} {'engine':<26} {'voice':<14} {'WER':>6} {'RTF':>6}")
    for language in args.languages:
        for engine in engines.values():
            for voice in (v.id for v in engine.voices() if v.language == language):
                score = round_trip(engine, whisper, language, voice, REFERENCE_SENTENCES[language])
                scores.append(score)
                print(f"{language:<5} {score.engine:<26} {voice:<14} {score.wer:>6.3f} {score.rtf:>6.2f}", flush=True)
    print(f"\nbest voice per language (lowest WER, then fastest), confirmed on held-out sentences (bar {MAX_WER}):")
    for language in args.languages:
        best = min((s for s in scores if s.language == language), key=lambda s: (s.wer, s.rtf))
        [engine] = [e for e in engines.values() if e.name == best.engine]
        held_out = round_trip(engine, whisper, language, best.voice, HELD_OUT_SENTENCES[language])
        verdict = "offered" if max(best.wer, held_out.wer) <= MAX_WER else "not offered"
        print(
            f"{language:<5} {best.engine:<26} {best.voice:<14} WER {best.wer:.3f}  held-out WER {held_out.wer:.3f}"
            f"  RTF {(best.rtf + held_out.rtf) / 2:.2f}  {verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
