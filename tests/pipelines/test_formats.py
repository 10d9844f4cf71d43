"""Subtitle and text rendering from a serialized transcript."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.pipelines.formats import MEDIA_TYPES, TranscriptFormat, format_timestamp, render_transcript

TRANSCRIPT: dict[str, Any] = {
    "language": "en",
    "duration": 3725.0,
    "segments": [
        {"id": 1, "start": 0.0, "end": 2.5, "text": "And so my fellow Americans,"},
        {"id": 2, "start": 2.5, "end": 2.6, "text": "   "},
        {"id": 3, "start": 59.9995, "end": 3723.4567, "text": " ask not --> what\nyour country"},
    ],
}


@pytest.mark.parametrize(
    ("seconds", "srt", "vtt"),
    [
        (0.0, "00:00:00,000", "00:00:00.000"),
        (0.0004, "00:00:00,000", "00:00:00.000"),
        (0.0005, "00:00:00,001", "00:00:00.001"),
        (59.9994, "00:00:59,999", "00:00:59.999"),
        (59.9995, "00:01:00,000", "00:01:00.000"),
        (3599.9999, "01:00:00,000", "01:00:00.000"),
        (3723.4567, "01:02:03,457", "01:02:03.457"),
        (360000.0, "100:00:00,000", "100:00:00.000"),
        (-0.2, "00:00:00,000", "00:00:00.000"),
    ],
)
def test_timestamps(seconds: float, srt: str, vtt: str) -> None:
    assert format_timestamp(seconds, separator=",") == srt
    assert format_timestamp(seconds, separator=".") == vtt


def test_srt_numbers_cues_from_one_and_skips_empty_text() -> None:
    assert render_transcript(TRANSCRIPT, TranscriptFormat.SRT) == (
        "1\n00:00:00,000 --> 00:00:02,500\nAnd so my fellow Americans,\n"
        "\n"
        "2\n00:01:00,000 --> 01:02:03,457\nask not -> what your country\n"
    )


def test_vtt_has_header_and_dotted_milliseconds() -> None:
    assert render_transcript(TRANSCRIPT, "vtt") == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:02.500\nAnd so my fellow Americans,\n"
        "\n"
        "00:01:00.000 --> 01:02:03.457\nask not -> what your country\n"
    )


def test_txt_is_one_line_per_spoken_segment() -> None:
    assert render_transcript(TRANSCRIPT, "txt") == "And so my fellow Americans,\nask not -> what your country\n"


def test_json_round_trips() -> None:
    assert json.loads(render_transcript(TRANSCRIPT, TranscriptFormat.JSON)) == TRANSCRIPT


def test_no_segments() -> None:
    empty: dict[str, Any] = {"segments": []}

    assert render_transcript(empty, "srt") == ""
    assert render_transcript(empty, "vtt") == "WEBVTT\n\n"
    assert render_transcript(empty, "txt") == ""


def test_every_format_has_a_media_type() -> None:
    assert set(MEDIA_TYPES) == set(TranscriptFormat)
    assert MEDIA_TYPES[TranscriptFormat.SRT] == "application/x-subrip"
    assert MEDIA_TYPES[TranscriptFormat.VTT] == "text/vtt"


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="docx"):
        render_transcript(TRANSCRIPT, "docx")
