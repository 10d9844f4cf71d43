"""Subtitle and text rendering from a serialized transcript."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.pipelines.formats import MEDIA_TYPES, TranscriptFormat, format_timestamp, render_rttm, render_transcript

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


def test_speaker_labels_in_every_text_format() -> None:
    document = {
        "segments": [
            {"id": 1, "start": 0.0, "end": 1.5, "text": "Hello.", "speaker": "SPEAKER_00"},
            {"id": 2, "start": 1.5, "end": 3.0, "text": "Hi there.", "speaker": "SPEAKER_01"},
        ]
    }
    assert render_transcript(document, "txt") == "[SPEAKER_00] Hello.\n[SPEAKER_01] Hi there.\n"
    assert "00:00:01,500 --> 00:00:03,000\nSPEAKER_01: Hi there.\n" in render_transcript(document, "srt")
    assert "00:00:00.000 --> 00:00:01.500\n<v SPEAKER_00>Hello.\n" in render_transcript(document, "vtt")


def test_vtt_cue_text_and_voice_names_are_escaped() -> None:
    document = {"segments": [{"id": 1, "start": 0.0, "end": 2.0, "text": "AT&T <b>rocks</b>, 1 < 2", "speaker": "A&B"}]}

    vtt = render_transcript(document, "vtt")

    assert "<v A&amp;B>AT&amp;T &lt;b>rocks&lt;/b>, 1 &lt; 2\n" in vtt
    assert "A&B: AT&T <b>rocks</b>, 1 < 2\n" in render_transcript(document, "srt")  # SRT text is plain


def test_no_arrow_survives_in_cue_text_or_speaker_names() -> None:
    """A line holding ``-->`` is a timing line to SubRip and WebVTT parsers: the cue would end there."""
    document = {"segments": [{"id": 1, "start": 0.0, "end": 2.0, "text": "wait ---> here -->", "speaker": "A-->B"}]}

    for fmt in ("srt", "vtt"):
        cue_lines = render_transcript(document, fmt).splitlines()
        assert sum("-->" in line for line in cue_lines) == 1, cue_lines  # the timing line alone
    assert "A->B: wait -> here ->\n" in render_transcript(document, "srt")
    assert "<v A-&gt;B>wait -> here ->\n" in render_transcript(document, "vtt")


def test_a_zero_length_cue_is_shown_briefly_without_running_into_the_next() -> None:
    document = {
        "segments": [
            {"id": 1, "start": 3.0, "end": 3.0, "text": "Yes."},
            {"id": 2, "start": 3.1, "end": 4.0, "text": "Go on."},
            {"id": 3, "start": 5.0, "end": 5.0, "text": "Right."},
        ]
    }
    vtt = render_transcript(document, "vtt")

    assert "00:00:03.000 --> 00:00:03.100\nYes.\n" in vtt  # until the next cue starts
    assert "00:00:03.100 --> 00:00:04.000\nGo on.\n" in vtt
    assert "00:00:05.000 --> 00:00:05.300\nRight.\n" in vtt  # the shortest display time


def test_rttm_lines() -> None:
    diarization = {
        "segments": [
            {"start": 0.5, "end": 2.25, "speaker": "SPEAKER_00"},
            {"start": 2.0, "end": 3.0, "speaker": "Ann Lee"},
        ]
    }
    assert render_rttm(diarization, "my meeting") == (
        "SPEAKER my_meeting 1 0.500 1.750 <NA> <NA> SPEAKER_00 <NA> <NA>\n"
        "SPEAKER my_meeting 1 2.000 1.000 <NA> <NA> Ann_Lee <NA> <NA>\n"
    )
    assert render_rttm({"segments": []}, "x") == ""
