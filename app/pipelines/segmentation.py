"""Subtitle-sized segments from word timestamps.

Batched decoding returns one segment per speech chunk (up to 30 s): too long for a subtitle cue, and too coarse to
translate and dub line by line. Segments are split again at sentence ends, at long pauses, and — for a sentence
that still runs too long — at its widest pause or comma.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from app.engines.transcriber import Segment, Word

# CJK scripts use full-width punctuation: written as escapes so the intent is unmistakable.
SENTENCE_END = (".", "?", "!", "\u3002", "\uff1f", "\uff01", "\u2026")
CLAUSE_END = (",", ";", ":", "\u3001", "\uff0c")
TITLES = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "mt"})
"""Abbreviations that come before what they belong to, so their full stop never ends a sentence."""
PAUSE_SECONDS = 1.0
"""A silence this long between two words starts a new segment even mid-sentence."""
MAX_SEGMENT_SECONDS = 12.0


def split_segments(segments: Sequence[Segment]) -> Iterator[Segment]:
    """Each segment in turn, split where its words show a sentence end or a long pause; ids renumbered from 1.

    Segments without word timestamps pass through unchanged.
    """
    index = 0
    for segment in segments:
        for words in _groups(segment.words) if segment.words else [[]]:
            index += 1
            if not words:
                yield replace(segment, id=index)
                continue
            yield replace(
                segment,
                id=index,
                start=words[0].start,
                end=words[-1].end,
                text="".join(word.word for word in words).strip(),
                words=list(words),
            )


def _groups(words: Sequence[Word]) -> Iterator[list[Word]]:
    current: list[Word] = []
    for index, word in enumerate(words):
        if current and word.start - current[-1].end >= PAUSE_SECONDS:
            yield from _bounded(current)
            current = []
        current.append(word)
        following = words[index + 1].word if index + 1 < len(words) else None
        if ends_sentence(word.word, following, previous=words[index - 1].word if index else None):
            yield from _bounded(current)
            current = []
    if current:
        yield from _bounded(current)


def ends_sentence(word: str, following: str | None, *, previous: str | None = None) -> bool:
    """Whether ``word`` ends a sentence: it ends in a sentence mark, and a full stop is not that of a title
    ("Dr. Smith"), an initial between names ("John F. Kennedy", not "plan B. Then") or an abbreviation followed by
    more of the sentence ("at 9 a.m. with")."""
    word = word.strip()
    if not word.endswith(SENTENCE_END):
        return False
    if not word.endswith(".") or following is None:
        return True
    stem = word.rstrip(".").lstrip("\"'(").lower()
    next_letter = _first_letter(following)
    initial = len(stem) == 1 and stem.isalpha() and _first_letter(previous or "").isupper() and next_letter.isupper()
    if stem in TITLES or initial:
        return False
    return not next_letter.islower()


def _first_letter(text: str) -> str:
    return next((char for char in text if char.isalpha()), "")


def _bounded(words: list[Word]) -> Iterator[list[Word]]:
    """Halve a group that runs past ``MAX_SEGMENT_SECONDS`` at its best break: a clause end, else the widest pause."""
    if len(words) < 2 or words[-1].end - words[0].start <= MAX_SEGMENT_SECONDS:
        yield words
        return

    def score(i: int) -> tuple[bool, float]:
        gap = words[i + 1].start - words[i].end
        return words[i].word.strip().endswith(CLAUSE_END), gap

    middle = range(max(0, len(words) // 4), max(1, 3 * len(words) // 4))
    cut = max(middle, key=score) + 1
    yield from _bounded(words[:cut])
    yield from _bounded(words[cut:])
