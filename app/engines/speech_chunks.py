"""Speech chunks for batched Whisper decoding, and the speech a decoding left without words.

Batched decoding packs a recording's voice-activity regions into chunks of up to 30 s of speech and decodes each
chunk once, in one language. When a chunk mixes languages, or the decoder stops early, whole stretches of speech
come back without a word. On the test recordings played one after another (English, then German, then English
meetings; 11.4 minutes, 470 s of speech) the bundled model left 56 s without words: the German half of a chunk it
took for German as a whole, the first 28 s of a meeting decoded as German, and more. Comparing each chunk's speech
regions with the spans its words cover finds those stretches, so they can be decoded again on their own, each in
its own language; 1.3 s is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_CHUNK_SECONDS = 30.0
"""Whisper's window: the most speech one chunk holds."""
WORD_MARGIN_SECONDS = 1.0
"""Word timings are approximate (batched alignment most of all): speech this close to a word counts as covered, so
a word is never decoded twice."""
MIN_MISSED_SECONDS = 1.0
"""Shorter uncovered stretches are breaths, laughs and the edges of words, not lost speech."""
MAX_JOINED_GAP_SECONDS = 5.0
"""Missed stretches further apart are decoded as separate clips: a long clip of little speech risks holding two
languages again, or music. Closer ones are joined, since Whisper decodes better with the words around (split at
every pause, one meeting excerpt lost a whole sentence)."""

Span = tuple[float, float]
"""(start, end) in seconds."""


@dataclass(frozen=True)
class SpeechChunk:
    """Speech regions decoded together.

    Attributes:
        regions: the voice-activity regions, on the recording's timeline.
        packed_start: where the chunk starts in the speech-only audio (the regions placed end to end).
        packed_end: where it ends there.
    """

    regions: list[Span]
    packed_start: float
    packed_end: float


def pack_speech(regions: Sequence[Span], max_seconds: float = MAX_CHUNK_SECONDS) -> list[SpeechChunk]:
    """Consecutive regions grouped into chunks of at most ``max_seconds`` of speech (a longer region is alone)."""
    chunks: list[SpeechChunk] = []
    current: list[Span] = []
    length = packed = 0.0
    for start, end in regions:
        if current and length + (end - start) > max_seconds:
            chunks.append(SpeechChunk(current, packed, packed + length))
            packed, current, length = packed + length, [], 0.0
        current.append((start, end))
        length += end - start
    if current:
        chunks.append(SpeechChunk(current, packed, packed + length))
    return chunks


def missed_speech(
    regions: Sequence[Span],
    words: Sequence[Span],
    *,
    margin: float = WORD_MARGIN_SECONDS,
    min_missed: float = MIN_MISSED_SECONDS,
) -> list[Span]:
    """The parts of ``regions`` at least ``min_missed`` long that no word (widened by ``margin``) covers."""
    covered = sorted((start - margin, end + margin) for start, end in words)
    missed: list[Span] = []
    for start, end in regions:
        cursor = start
        for word_start, word_end in covered:
            if word_end <= cursor:
                continue
            if word_start >= end:
                break
            if word_start > cursor:
                missed.append((cursor, word_start))
            cursor = word_end
            if cursor >= end:
                break
        if cursor < end:
            missed.append((cursor, end))
    return [(start, end) for start, end in missed if end - start >= min_missed]


def repair_clips(
    missed: Sequence[Span],
    words: Sequence[Span],
    *,
    max_seconds: float = MAX_CHUNK_SECONDS,
    max_gap: float = MAX_JOINED_GAP_SECONDS,
) -> list[Span]:
    """Clips to decode again: neighbouring missed stretches joined when at most ``max_gap`` apart with no word
    between them (a clip that spanned a decoded word would transcribe it twice), each clip within ``max_seconds``."""
    clips: list[Span] = []
    for start, end in missed:
        if clips:
            first, last = clips[-1]
            between = any(word_start < start and word_end > last for word_start, word_end in words)
            if not between and start - last <= max_gap and end - first <= max_seconds:
                clips[-1] = (first, end)
                continue
        while end - start > max_seconds:
            clips.append((start, start + max_seconds))
            start += max_seconds
        clips.append((start, end))
    return clips
