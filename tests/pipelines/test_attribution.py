"""Speakers on every word and segment of a transcript."""

from __future__ import annotations

from typing import Any

from app.engines.speaker.base import SpeakerTurn
from app.pipelines.attribution import attribute_speakers

TURNS = [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(1.8, 4.0, "B"), SpeakerTurn(5.0, 6.0, "A")]


def word(start: float, end: float, text: str) -> dict[str, Any]:
    return {"start": start, "end": end, "word": f" {text}", "probability": 0.9}


def test_words_get_speakers_and_segments_split_at_changes() -> None:
    transcript = {
        "language": "en",
        "segments": [
            {
                "id": 1,
                "start": 0.0,
                "end": 4.6,
                "text": "hello there yes quite hm",
                "words": [
                    word(0.1, 0.5, "hello"),
                    word(0.6, 1.0, "there"),
                    word(1.9, 2.1, "yes"),  # A and B both talk here; B covers more of it
                    word(2.5, 3.0, "quite"),
                    word(4.3, 4.6, "hm"),  # in the gap, nearer B's turn
                ],
            },
            {"id": 2, "start": 5.2, "end": 5.8, "text": "bye", "words": []},
        ],
    }

    document = attribute_speakers(transcript, TURNS)

    segments = document["segments"]
    assert [(s["speaker"], s["text"]) for s in segments] == [("A", "hello there"), ("B", "yes quite hm"), ("A", "bye")]
    assert [s["id"] for s in segments] == [1, 2, 3]
    sources = [(w["word"].strip(), w["speaker"], w["speaker_source"]) for s in segments for w in s.get("words", [])]
    assert sources == [
        ("hello", "A", "turn"),
        ("there", "A", "turn"),
        ("yes", "B", "overlap"),
        ("quite", "B", "turn"),
        ("hm", "B", "nearest"),
    ]
    assert segments[1]["speaker_source"] == "overlap"
    assert document["speakers"] == ["A", "B"]


def test_no_speakers_still_sets_the_key() -> None:
    transcript = {"segments": [{"id": 1, "start": 0.0, "end": 1.0, "text": "uh", "words": [word(0.1, 0.4, "uh")]}]}
    segment = attribute_speakers(transcript, [])["segments"][0]
    assert segment["speaker"] is None and segment["words"][0]["speaker_source"] == "none"


def test_a_word_without_length_is_placed_by_the_turns_it_lies_in() -> None:
    transcript = {
        "segments": [
            {
                "id": 1,
                "start": 0.5,
                "end": 3.0,
                "text": "so um right",
                "words": [word(0.5, 0.5, "so"), word(1.9, 1.9, "um"), word(3.0, 3.0, "right")],
            }
        ]
    }

    words = [w for s in attribute_speakers(transcript, TURNS)["segments"] for w in s["words"]]

    # Inside A's turn; where A and B overlap; inside B's turn: never "nearest".
    assert [(w["speaker"], w["speaker_source"]) for w in words] == [("A", "turn"), ("A", "overlap"), ("B", "turn")]
