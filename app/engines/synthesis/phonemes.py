"""Text → IPA with espeak-ng, the pronunciation front-end for synthesis engines that are driven by phonemes, and
the packing of IPA sentences into chunks such a model accepts.

The espeak-ng used here is the one ``piper-tts`` bundles (its ``espeakbridge`` extension and ``espeak-ng-data``
folder). It was chosen over ``espeakng-loader`` + ``phonemizer`` because it is already installed for the Piper
engine, works offline with the data inside the wheel, and adds no second copy of libespeak-ng: espeak-ng keeps one
global state per process (the selected voice), so every caller must share one lock, and sharing Piper's own lock is
only possible with Piper's own copy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from app.engines.synthesis.base import VoiceNotAvailable

ESPEAK_VOICES: Mapping[str, str] = MappingProxyType(
    {"en": "en-us", "es": "es", "pt": "pt-br", "de": "de", "fr": "fr", "it": "it"}
)
"""The espeak-ng voice that pronounces each language (Portuguese as spoken in Brazil, English as in the US)."""

_LANGUAGE_FLAG = re.compile(r"\([^)]*\)")
_SOFT_TERMINATORS = frozenset(",:;")


class Phonemizer(Protocol):
    """Turns text into IPA, one string per sentence."""

    languages: frozenset[str]

    def sentences(self, text: str, *, language: str) -> list[str]:
        """IPA for each sentence of ``text``, punctuation kept (it carries the prosody)."""
        ...


class EspeakPhonemizer:
    """IPA from the espeak-ng that ``piper-tts`` bundles.

    Args:
        data_dir: an ``espeak-ng-data`` folder; defaults to the one inside the ``piper`` package.
        voices: language code → espeak-ng voice name.
    """

    def __init__(self, data_dir: Path | None = None, *, voices: Mapping[str, str] = ESPEAK_VOICES) -> None:
        from piper import espeakbridge
        from piper.phonemize_espeak import ESPEAK_DATA_DIR
        from piper.voice import _ESPEAK_PHONEMIZER_LOCK

        self._bridge = espeakbridge
        # espeak-ng is one global per process that Piper's own phonemizer also drives: share its lock.
        self._lock = _ESPEAK_PHONEMIZER_LOCK
        self._voices = dict(voices)
        self.languages = frozenset(self._voices)
        with self._lock:
            espeakbridge.initialize(str(data_dir or ESPEAK_DATA_DIR))

    def sentences(self, text: str, *, language: str) -> list[str]:
        """IPA for each sentence of ``text``.

        Clauses keep their terminator (``,`` ``.`` ``?`` …) so a model can pause and intonate; words espeak-ng
        reads in another language lose their ``(en)`` switch flags; accents are decomposed (NFD) so a nasal vowel
        is a vowel plus a combining tilde.

        Args:
            text: plain text in ``language``.
            language: ISO 639-1 code; one of ``languages``.

        Returns:
            One IPA string per sentence; empty when the text has nothing to pronounce.

        Raises:
            VoiceNotAvailable: espeak-ng has no voice configured for ``language``.
        """
        espeak_voice = self._voices.get(language)
        if espeak_voice is None:
            raise VoiceNotAvailable(
                f"No pronunciation rules for language {language!r}",
                details={"language": language, "available_languages": sorted(self.languages)},
            )
        with self._lock:
            self._bridge.set_voice(espeak_voice)
            clauses = self._bridge.get_phonemes(text)
        sentences: list[str] = []
        current = ""
        for phonemes, terminator, end_of_sentence in clauses:
            current += _LANGUAGE_FLAG.sub("", phonemes).strip() + terminator
            current += " " if terminator in _SOFT_TERMINATORS else ""
            if end_of_sentence:
                sentences.append(current.strip())
                current = ""
        sentences.append(current.strip())
        return [unicodedata.normalize("NFD", s) for s in sentences if s.strip(" ,.;:!?")]


def pack_chunks(sentences: Collection[str], limit: int) -> Iterator[str]:
    """Group whole sentences into chunks of at most ``limit`` symbols.

    Phoneme-driven models have a fixed context. A sentence longer than ``limit`` is split at clause punctuation,
    and a clause still too long at spaces, so no chunk exceeds ``limit`` and no word is cut in half (only a single
    word longer than ``limit`` would be).
    """
    current = ""
    for sentence in sentences:
        for piece in _fitting(sentence, limit):
            if current and len(current) + 1 + len(piece) > limit:
                yield current
                current = ""
            current = f"{current} {piece}" if current else piece
    if current:
        yield current


def _fitting(text: str, limit: int) -> Iterator[str]:
    if len(text) <= limit:
        yield text
        return
    for separator in (r"(?<=[,;:])\s+", r"\s+"):
        parts = re.split(separator, text)
        if len(parts) > 1:
            yield from pack_chunks(parts, limit)
            return
    yield from (text[i : i + limit] for i in range(0, len(text), limit))
