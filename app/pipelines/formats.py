"""Rendering a serialized transcript as plain text, SubRip, WebVTT or JSON.

Everything works from the dict that ``Transcript.serialize`` returns, so a stored JSON result renders without the
engine or the pipeline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any


class TranscriptFormat(StrEnum):
    TXT = "txt"
    SRT = "srt"
    VTT = "vtt"
    JSON = "json"


MEDIA_TYPES: dict[TranscriptFormat, str] = {
    TranscriptFormat.TXT: "text/plain; charset=utf-8",
    TranscriptFormat.SRT: "application/x-subrip",
    TranscriptFormat.VTT: "text/vtt",
    TranscriptFormat.JSON: "application/json",
}


MIN_CUE_SECONDS = 0.3
"""A cue shorter than this (a one-word segment Whisper timed at zero length) is shown this long, or until the next
cue starts: WebVTT requires a cue to end after it starts, and players skip cues that do not."""
_ARROW = re.compile(r"-{2,}>")


def milliseconds(seconds: float) -> int:
    """Whole milliseconds in ``seconds``, rounding halves up as written (59.9995 → 60000); negatives become 0.

    Args:
        seconds: a time in seconds.

    Returns:
        The time in milliseconds.
    """
    exact = Decimal(repr(float(seconds))) * 1000
    return max(0, int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def format_timestamp(seconds: float, *, separator: str) -> str:
    """``HH:MM:SS<separator>mmm``; hours keep counting past 99.

    Args:
        seconds: a time in seconds.
        separator: ``,`` for SubRip, ``.`` for WebVTT.

    Returns:
        The formatted timestamp.
    """
    return _clock(milliseconds(seconds), separator)


def _clock(total: int, separator: str) -> str:
    hours, rest = divmod(total, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def render_transcript(transcript: Mapping[str, Any], fmt: TranscriptFormat | str) -> str:
    """Render a serialized transcript.

    Args:
        transcript: the dict from ``Transcript.serialize`` (or the same shape read back from storage).
        fmt: one of ``TranscriptFormat``.

    Returns:
        The document; every non-empty document ends with a newline.

    Raises:
        ValueError: ``fmt`` is not a known format.
    """
    fmt = TranscriptFormat(fmt)
    if fmt is TranscriptFormat.JSON:
        return json.dumps(transcript, ensure_ascii=False, indent=2) + "\n"
    # Segments without text get no line and no cue (an empty cue would end the cue block early).
    spoken = [segment for segment in transcript.get("segments", []) if _cue_text(segment)]
    if fmt is TranscriptFormat.TXT:
        return "".join(f"{_speaker_prefix(segment)}{_cue_text(segment)}\n" for segment in spoken)
    separator = "," if fmt is TranscriptFormat.SRT else "."
    cues = []
    for number, segment in enumerate(spoken, start=1):
        start = milliseconds(segment["start"])
        following = milliseconds(spoken[number]["start"]) if number < len(spoken) else None
        end = max(milliseconds(segment["end"]), _shortest_end(start, following))
        timing = f"{_clock(start, separator)} --> {_clock(end, separator)}"
        text, speaker = _cue_text(segment), _one_line(str(segment.get("speaker") or ""))
        if fmt is TranscriptFormat.VTT:  # cue text is markup there: a bare "<" or "&" would hide what follows
            text, speaker = _vtt_escaped(text), _vtt_escaped(speaker).replace(">", "&gt;")
        if speaker:
            text = f"<v {speaker}>{text}" if fmt is TranscriptFormat.VTT else f"{speaker}: {text}"
        cue = f"{timing}\n{text}\n"
        cues.append(f"{number}\n{cue}" if fmt is TranscriptFormat.SRT else cue)
    header = "WEBVTT\n\n" if fmt is TranscriptFormat.VTT else ""
    return header + "\n".join(cues)


def _shortest_end(start: int, following: int | None) -> int:
    """The earliest a cue starting at ``start`` ms may end: ``MIN_CUE_SECONDS`` later, or when the next cue starts,
    and in any case a millisecond after its start."""
    shortest = start + round(MIN_CUE_SECONDS * 1000)
    if following is not None:
        shortest = min(shortest, following)
    return max(shortest, start + 1)


def _vtt_escaped(text: str) -> str:
    """WebVTT cue text with the two characters it requires escaped (``-->`` is already gone); a speaker name, inside
    a voice tag, needs ``>`` escaped too."""
    return text.replace("&", "&amp;").replace("<", "&lt;")


def _speaker_prefix(segment: Mapping[str, Any]) -> str:
    """``[SPEAKER_00] `` before a line of a transcript with speakers; nothing otherwise."""
    return f"[{segment['speaker']}] " if segment.get("speaker") else ""


def _cue_text(segment: Mapping[str, Any]) -> str:
    return _one_line(str(segment.get("text", "")))


def _one_line(text: str) -> str:
    """``text`` on one line, without an arrow (``-->``, ``--->`` ...) that a subtitle parser takes for a timing
    line."""
    return _ARROW.sub("->", " ".join(text.split()))


def render_rttm(diarization: Mapping[str, Any], uri: str) -> str:
    """A serialized diarization (``Diarization.serialize``) as RTTM, the format diarization scorers read.

    Args:
        diarization: the dict with ``segments`` of ``start``, ``end`` and ``speaker``.
        uri: the recording's name in the file (whitespace is replaced, as RTTM fields are space-separated).

    Returns:
        One ``SPEAKER`` line per segment.
    """
    name = "_".join(uri.split()) or "recording"
    return "".join(
        f"SPEAKER {name} 1 {segment['start']:.3f} {segment['end'] - segment['start']:.3f} <NA> <NA> "
        f"{'_'.join(str(segment['speaker']).split())} <NA> <NA>\n"
        for segment in diarization.get("segments", [])
    )
