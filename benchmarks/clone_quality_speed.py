"""Voice cloning quality and speed: the bundled voice-matching engine against its floor and ceiling.

For each reference speaker (JFK, and every AMI speaker of the test data heard alone, by its RTTM, long enough to
enrol and to score: see ``speakers``), a voice profile is made from one recording; ten sentences are then spoken by
(a) the clone and (b) the floor: simply the stock voice nearest to that recording, unadapted. Both are scored by
cosine similarity of speaker embeddings against a *different* recording of the same speaker, beside (c) that
recording's own similarity to the profile (the ceiling: what a perfect clone could reach). Similarity is measured
with two embedders: the bundled ONNX d-vector (which the engine itself uses to choose the stock voice) and
resemblyzer's GE2E encoder (independent of the engine; installed by scripts/install-torch-engines.sh, as it needs
torch). Each embedder picks its own floor, the stock voice *it* rates nearest, so the engine's gain is measured
against the best a plain nearest-voice choice could do in that embedder's eyes, not against the voice the engine
happened to start from. Also: round-trip WER by the
bundled Whisper, and the real-time factor of synthesis. Targets on 2 CPU cores: RTF <= 0.5, resemblyzer gain over
the floor >= 0.10, WER <= 10 %.

    .venv/bin/python -m benchmarks.clone_quality_speed
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
import soxr

from app.core.config import Settings
from app.engines.registry import EngineRegistry
from app.engines.synthesis import SpeechSynthesizer
from app.engines.synthesis.base import trim_silence
from app.engines.transcriber import TranscriptionOptions
from app.engines.voice import SpeakerReference
from app.engines.voice.matching import ENROLMENT_SENTENCE, StockVoice, stock_voices_for
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.encode import encode_audio
from app.pipelines.reference import InvalidVoiceSample, SampleLimits, clean_reference
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.speaker_data import read_rttm, solo_speech

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Please send the report to the committee before the end of the week.",
    "My grandmother grew tomatoes and beans in her small garden.",
    "The last train to the airport leaves a little after midnight.",
    "Nobody expected the meeting to last quite so long.",
    "We should paint the kitchen a brighter colour this summer.",
    "He opened the window and listened to the rain on the roof.",
    "Could you tell me where the nearest pharmacy is?",
    "The museum will be closed on Monday for repairs.",
    "She laughed and said that she would think about it.",
]


@dataclass(frozen=True)
class Speaker:
    name: str
    enrolment: np.ndarray
    held_out: np.ndarray


MIN_SECONDS = SampleLimits().min_speech_seconds
"""A recording shorter than the shortest sample a voice profile accepts says little about the voice (its embedding is
that of a word or two), so a speaker without this much speech on both sides is reported and skipped."""


def speakers(testdata: Path) -> tuple[list[Speaker], dict[str, float]]:
    """Every real speaker of the test data with enough speech, by one rule, and the speech of those left out.

    JFK's recording is cut in two halves. An AMI speaker heard alone long enough in two excerpts is enrolled from the
    one with more speech and scored against the other (a different day and room: the harder test); one heard long
    enough in a single excerpt only is cut in two halves of that speech."""
    jfk = decode_audio(testdata / "jfk.flac")
    found = [Speaker("JFK (two halves)", jfk[: jfk.size // 2], jfk[jfk.size // 2 :])]
    skipped: dict[str, float] = {}
    labels = {
        str(path.relative_to(testdata).with_suffix("")): read_rttm(path).labels()
        for path in sorted(testdata.rglob("*.rttm"))
    }
    for name in sorted({label for named in labels.values() for label in named}):
        heard = [(solo_speech(testdata, stem, name), stem) for stem, named in labels.items() if name in named]
        heard.sort(key=lambda pair: -pair[0].size)
        minimum = int(MIN_SECONDS * SAMPLE_RATE)
        if len(heard) > 1 and heard[1][0].size >= minimum:
            (enrolment, first), (held_out, second) = heard[:2]
            found.append(Speaker(f"AMI {name} ({Path(first).name} / {Path(second).name})", enrolment, held_out))
        elif heard and heard[0][0].size >= 2 * minimum:
            alone = heard[0][0]
            found.append(Speaker(f"AMI {name} (two halves)", alone[: alone.size // 2], alone[alone.size // 2 :]))
        else:
            skipped[name] = max((speech.size for speech, _ in heard), default=0) / SAMPLE_RATE
    return found, skipped


Embed = Callable[[np.ndarray], np.ndarray]
"""16 kHz mono speech -> unit-length speaker embedding."""


def resemblyzer_embed() -> Embed:
    from resemblyzer import VoiceEncoder, preprocess_wav

    encoder = VoiceEncoder("cpu", verbose=False)

    def embed(samples: np.ndarray) -> np.ndarray:
        return np.asarray(encoder.embed_utterance(preprocess_wav(samples, source_sr=SAMPLE_RATE)), dtype=np.float32)

    return embed


@dataclass
class Scores:
    """One embedder's view of one speaker."""

    clone: list[float]
    floor: list[float]
    ceiling: float


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


class StockRenditions:
    """Every English stock voice saying the enrolment sentence and the benchmark's sentences, synthesized once."""

    def __init__(self, synthesizer_for: Callable[[str], SpeechSynthesizer]) -> None:
        self._synthesizer_for = synthesizer_for
        self._spoken: dict[tuple[str, str], np.ndarray] = {}
        self.voices = stock_voices_for("en")

    def say(self, voice: StockVoice, text: str) -> np.ndarray:
        key = (voice.key, text)
        if key not in self._spoken:
            speech = self._synthesizer_for(voice.engine).synthesize(text, language="en", voice=voice.voice)
            resampled = soxr.resample(speech.samples, speech.sample_rate, SAMPLE_RATE)
            self._spoken[key] = trim_silence(np.asarray(resampled, dtype=np.float32), SAMPLE_RATE)
        return self._spoken[key]

    def nearest(self, embed: Embed, reference: np.ndarray) -> StockVoice:
        """The stock voice whose enrolment sentence ``embed`` rates most similar to ``reference``."""
        target = embed(reference)
        return max(self.voices, key=lambda voice: float(embed(self.say(voice, ENROLMENT_SENTENCE["en"])) @ target))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    args = parser.parse_args()
    testdata = args.testdata.resolve()
    with tempfile.TemporaryDirectory(prefix="clone-bench-") as folder:
        work = Path(folder)
        engines = EngineRegistry(Settings(_env_file=None, data_dir=work, model_cache_dir=work / "models"))
        cloner, embedder, asr = engines.cloner(), engines.embedder(), engines.transcriber()
        scorers: dict[str, Embed] = {"d-vector": embedder.embed, "resemblyzer": resemblyzer_embed()}
        rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in scorers}
        quality: list[tuple[float, float]] = []
        stock = StockRenditions(lambda engine: engines.synthesizer(engine, steady=True))
        print(
            f"{'speaker':28} {'adapted voice':20} "
            + " ".join(f"{name + ' clone':>18} {'floor':>6} {'gain':>6} {'ceiling':>7}" for name in scorers)
            + f" {'WER':>6} {'RTF':>6}"
        )
        found, skipped = speakers(testdata)
        print(
            f"skipped, under {MIN_SECONDS:.0f} s of speech alone on either side (their most in one excerpt): "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in skipped.items())
        )
        for speaker in found:
            sample = work / "sample.wav"
            # Resampling overshoots full scale a little; writing 16-bit PCM would clip it, so level it first.
            peak = float(np.max(np.abs(speaker.enrolment)))
            encode_audio(speaker.enrolment * min(1.0, 0.95 / peak), SAMPLE_RATE, "wav", sample)
            try:
                cleaned = clean_reference(sample, engines.diarizer())
            except InvalidVoiceSample as refused:
                print(f"{speaker.name:28} sample refused: {refused.message}")
                continue
            reference = SpeakerReference(cleaned.samples, embedder.embed(cleaned.samples), "en")
            started = time.perf_counter()
            conditioning = cloner.condition(reference, "en")
            conditioning_seconds = time.perf_counter() - started
            reference = SpeakerReference(reference.samples, reference.embedding, "en", conditioning)
            targets = {name: embed(speaker.held_out) for name, embed in scorers.items()}
            scores = {
                name: Scores([], [], float(embed(cleaned.samples) @ targets[name])) for name, embed in scorers.items()
            }
            floors = {name: stock.nearest(embed, cleaned.samples) for name, embed in scorers.items()}
            errors, seconds, audio_seconds = [], 0.0, 0.0
            for sentence in SENTENCES:
                started = time.perf_counter()
                speech = cloner.synthesize(sentence, language="en", reference=reference)
                seconds += time.perf_counter() - started
                audio_seconds += speech.duration
                for name, embed in scorers.items():
                    scores[name].clone.append(float(embed(speech.samples) @ targets[name]))
                    scores[name].floor.append(float(embed(stock.say(floors[name], sentence)) @ targets[name]))
                heard, _ = asr.transcribe(speech.samples, TranscriptionOptions(language="en"))
                errors.append(jiwer.wer(normalised(sentence), normalised(" ".join(s.text for s in heard))))
            cells = []
            for name, score in scores.items():
                row = (float(np.mean(score.clone)), float(np.mean(score.floor)), score.ceiling)
                rows[name].append(row)
                cells.append(f"{row[0]:18.3f} {row[1]:6.3f} {row[0] - row[1]:+6.3f} {row[2]:7.3f}")
            quality.append((float(np.mean(errors)), seconds / audio_seconds))
            print(
                f"{speaker.name:28} {conditioning['stock_voice']:20} {' '.join(cells)} "
                f"{quality[-1][0]:6.1%} {quality[-1][1]:6.3f}   (conditioning {conditioning_seconds:.1f} s; floors: "
                + ", ".join(f"{name} {voice.key}" for name, voice in floors.items())
                + ")"
            )
        means = {name: np.mean(np.array(values), axis=0) for name, values in rows.items()}
        wer, rtf = np.mean(np.array(quality), axis=0)
        cells = [f"{m[0]:18.3f} {m[1]:6.3f} {m[0] - m[1]:+6.3f} {m[2]:7.3f}" for m in means.values()]
        print(f"{'mean':28} {'':20} {' '.join(cells)} {wer:6.1%} {rtf:6.3f}")
        for name, m in means.items():
            gap = (m[0] - m[1]) / max(m[2] - m[1], 1e-6)
            target = " (target >= +0.10)" if name == "resemblyzer" else ""
            print(
                f"{name}: similarity gain over the nearest stock voice {m[0] - m[1]:+.3f}{target}; "
                f"share of the floor-to-ceiling gap closed {gap:.0%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
