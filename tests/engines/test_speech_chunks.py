"""Packing speech into chunks, and finding the speech a decoding left without words."""

from __future__ import annotations

import pytest

from app.engines.speech_chunks import SpeechChunk, missed_speech, pack_speech, repair_clips
from app.engines.whisper_batched import looped


def test_regions_are_packed_up_to_the_chunk_length_on_the_speech_only_timeline() -> None:
    regions = [(0.0, 10.0), (12.0, 22.0), (30.0, 45.0), (50.0, 52.0)]

    chunks = pack_speech(regions, max_seconds=30.0)

    assert chunks == [
        SpeechChunk([(0.0, 10.0), (12.0, 22.0)], 0.0, 20.0),
        SpeechChunk([(30.0, 45.0), (50.0, 52.0)], 20.0, 37.0),
    ]


def test_a_region_longer_than_a_chunk_stands_alone() -> None:
    chunks = pack_speech([(0.0, 5.0), (6.0, 40.0), (41.0, 42.0)], max_seconds=30.0)

    assert [chunk.regions for chunk in chunks] == [[(0.0, 5.0)], [(6.0, 40.0)], [(41.0, 42.0)]]


def test_speech_covered_by_words_is_not_missed() -> None:
    words = [(0.2, 0.6), (0.7, 1.5), (2.4, 3.0)]  # gaps under a second once widened by the margin

    assert missed_speech([(0.0, 3.2)], words, margin=0.5, min_missed=1.0) == []


def test_the_uncovered_tail_and_a_wordless_region_are_missed() -> None:
    regions = [(0.0, 10.0), (12.0, 15.0)]
    words = [(0.0, 0.5), (0.5, 4.0)]

    missed = missed_speech(regions, words, margin=0.5, min_missed=1.0)

    assert missed == [(4.5, 10.0), (12.0, 15.0)]


def test_short_uncovered_stretches_are_breaths_not_lost_speech() -> None:
    assert missed_speech([(0.0, 5.0)], [(0.0, 2.0), (3.2, 5.0)], margin=0.1, min_missed=1.0) == [(2.1, 3.1)]
    assert missed_speech([(0.0, 5.0)], [(0.0, 2.0), (3.0, 5.0)], margin=0.1, min_missed=1.0) == []


def test_neighbouring_missed_stretches_join_unless_a_word_lies_between() -> None:
    missed = [(4.5, 10.0), (12.0, 15.0), (20.0, 22.0)]
    words = [(16.0, 18.0)]

    assert repair_clips(missed, words, max_seconds=30.0) == [(4.5, 15.0), (20.0, 22.0)]


def test_stretches_far_apart_are_separate_clips() -> None:
    assert repair_clips([(0.0, 5.0), (10.0, 12.0)], [], max_gap=2.0) == [(0.0, 5.0), (10.0, 12.0)]


def test_clips_stay_within_the_chunk_length() -> None:
    assert repair_clips([(0.0, 20.0), (21.0, 35.0)], [], max_seconds=30.0) == [(0.0, 20.0), (21.0, 35.0)]
    assert repair_clips([(0.0, 70.0)], [], max_seconds=30.0) == [(0.0, 30.0), (30.0, 60.0), (60.0, 70.0)]


@pytest.mark.parametrize(
    ("text", "loop"),
    [
        ("i'w i'w i'w i'w i'w", True),
        ("zu tun, zu tun, zu tun, zu tun,", True),
        ("no no no, I said", False),
        ("No, no, no, no, I really did say that to her this morning, before the meeting.", False),
        ("Ask not what your country can do for you, ask what you can do for your country.", False),
    ],
)
def test_a_phrase_said_four_times_over_is_a_loop(text: str, loop: bool) -> None:
    assert looped(text) is loop
