"""Speaking a text in a voice profile's voice: sentence by sentence, with progress, joined without clicks."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.engines.synthesis.base import SENTENCE_PAUSE_SECONDS, SynthesizedSpeech, join_pieces
from app.engines.voice.base import SpeakerReference, VoiceCloner
from app.pipelines.hooks import ProgressHook, setup_hook

STEP_WEIGHTS = {"conditioning": 0.05, "synthesizing": 0.9, "scoring": 0.05}
MAX_SENTENCE_CHARS = 300
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026;])\s+|(?<=[\u3002\uff01\uff1f\uff1b])\s*|\n+")
"""After . ! ? ; or an ellipsis and a space; after the ideographic full stop, exclamation, question mark or
semicolon, which Chinese and Japanese write with no space after; or at line breaks."""
_PAUSES = ", ", "\u3001", "\uff0c", " "
"""Where a sentence over the limit is cut, best first: a comma (also the ideographic ones), else a space."""


def split_sentences(text: str, limit: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Sentences of ``text``; one longer than ``limit`` is cut at the last comma in its second half, else at the
    last space, else at the limit (text without spaces)."""
    sentences: list[str] = []
    for sentence in (part.strip() for part in _SENTENCE_END.split(text)):
        while len(sentence) > limit:
            cut = -1
            for pause in _PAUSES:
                found = sentence.rfind(pause, 0, limit - len(pause) + 1)
                if found >= limit // 2 or (pause == " " and found > 0):
                    cut = found + len(pause)
                    break
            cut = cut if cut > 0 else limit
            sentences.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            sentences.append(sentence)
    return sentences


@dataclass(frozen=True)
class CloneResult:
    speech: SynthesizedSpeech
    sentences: int


class CloningPipeline:
    """Synthesize long texts with one ``VoiceCloner``."""

    def __init__(self, cloner: VoiceCloner) -> None:
        self._cloner = cloner

    def apply(
        self,
        text: str,
        *,
        language: str,
        reference: SpeakerReference,
        speed: float = 1.0,
        pitch: float = 0.0,
        hook: ProgressHook | None = None,
    ) -> CloneResult:
        report = setup_hook(hook)
        sentences = split_sentences(text)
        pieces: list[np.ndarray] = []
        rate = 0
        report("synthesizing", completed=0, total=len(sentences))
        for index, sentence in enumerate(sentences, start=1):
            speech = self._cloner.synthesize(sentence, language=language, reference=reference, speed=speed, pitch=pitch)
            pieces.append(speech.samples)
            rate = speech.sample_rate
            report("synthesizing", completed=index, total=len(sentences))
        rate = rate or 16000
        joined = join_pieces(pieces, rate, pause=SENTENCE_PAUSE_SECONDS / speed)  # pauses keep the pace asked for
        return CloneResult(SynthesizedSpeech(joined, rate), len(sentences))
