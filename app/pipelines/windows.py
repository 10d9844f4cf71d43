"""Long recordings as a stream of speech windows, so memory stays bounded whatever the file's length.

The file is decoded chunk by chunk; whenever about ``window_seconds`` of audio are buffered, the window is cut in the
longest pause found near its end (voice activity detection), never inside a word, and the rest carries over into the
next window. Each window knows its offset in the file, so timestamps stay absolute.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from app.pipelines.audio import SAMPLE_RATE, iter_decoded_chunks

DECODE_CHUNK_SECONDS = 30.0
PAUSE_SEARCH_SECONDS = 30.0
"""How far back from a window's end to look for a pause to cut at."""
QUIET_FRAME_SECONDS = 0.05
_PAUSE_VAD = VadOptions(threshold=0.5, min_silence_duration_ms=300, speech_pad_ms=100)


@dataclass(frozen=True)
class AudioWindow:
    offset: float
    """Start of the window in the file, in seconds."""
    samples: np.ndarray
    """16 kHz mono float32."""


def iter_speech_windows(
    path: Path, *, window_seconds: float, max_seconds: float | None = None
) -> Iterator[AudioWindow]:
    """Stream-decode ``path`` into consecutive windows of at most about ``window_seconds`` plus one decode chunk.

    Raises:
        InvalidAudio: the file is not decodable audio.
        AudioLongerThanAllowed: the file holds more than ``max_seconds`` of audio.
        UnsupportedMediaType: the container has no audio stream.
    """
    target = int(window_seconds * SAMPLE_RATE)
    pending: list[np.ndarray] = []
    buffered = 0
    offset = 0
    for chunk in iter_decoded_chunks(
        path, sample_rate=SAMPLE_RATE, chunk_seconds=DECODE_CHUNK_SECONDS, max_seconds=max_seconds
    ):
        pending.append(chunk)
        buffered += chunk.size
        if buffered < target:
            continue
        window = np.concatenate(pending)
        cut = pause_cut(window, search_from=max(0, window.size - int(PAUSE_SEARCH_SECONDS * SAMPLE_RATE)))
        yield AudioWindow(offset=offset / SAMPLE_RATE, samples=window[:cut])
        offset += cut
        rest = window[cut:]
        pending, buffered = [rest], rest.size
    if buffered:
        yield AudioWindow(offset=offset / SAMPLE_RATE, samples=np.concatenate(pending))


def pause_cut(samples: np.ndarray, *, search_from: int) -> int:
    """The sample index in the middle of the longest pause after ``search_from``; where the speech runs on without
    one (a fast talker, speech over music), the middle of its quietest ``QUIET_FRAME_SECONDS``, a gap between
    syllables rather than the middle of a word; the end if all of it is silence."""
    tail = samples[search_from:]
    speech = get_speech_timestamps(tail, _PAUSE_VAD)
    if not speech:
        return samples.size  # all silence: any cut is clean
    gaps = [(speech[0]["start"], 0, speech[0]["start"])]
    gaps += [(b["start"] - a["end"], a["end"], b["start"]) for a, b in pairwise(speech)]
    gaps.append((tail.size - speech[-1]["end"], speech[-1]["end"], tail.size))
    length, start, end = max(gaps)
    cut = search_from + int(start + end) // 2
    if length > 0 and 0 < cut < samples.size:
        return cut
    return search_from + quietest_frame(tail)


def quietest_frame(samples: np.ndarray) -> int:
    """The middle of the ``QUIET_FRAME_SECONDS`` frame with the least energy (frames overlap by half)."""
    frame = int(QUIET_FRAME_SECONDS * SAMPLE_RATE)
    hop = frame // 2
    if samples.size <= frame:
        return samples.size // 2
    starts = np.arange(0, samples.size - frame + 1, hop)
    energy = np.concatenate([[0.0], np.cumsum(np.square(samples, dtype=np.float64))])
    return int(starts[int(np.argmin(energy[starts + frame] - energy[starts]))]) + hop
