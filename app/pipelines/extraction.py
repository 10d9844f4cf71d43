"""Speaker extraction guided by diarization: one track per speaker, holding that speaker's turns only.

No separation model ships with the install, so this method cannot unmix two voices that talk at the same time.
Each track keeps the recording during its speaker's turns and silences everything else, with 20 ms raised-cosine
fades at every edge (no clicks). Overlapped speech is kept in the tracks of every speaker diarization found there:
cutting it out would cut those speakers' words, so their tracks let the other voice through for those moments, and
the result lists the regions. The recording is streamed: memory holds one decoded chunk, whatever the length.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.engines.speaker.base import Diarization, SpeakerTurn
from app.pipelines.audio import iter_decoded_chunks, probe_audio
from app.pipelines.encode import AudioEncoder, AudioFormat, encoded_rate
from app.pipelines.hooks import ProgressHook, setup_hook

METHOD = "diarization-guided masking"
OVERLAP_POLICY = "kept in every overlapping speaker's track"
FADE_SECONDS = 0.02
MAX_SAMPLE_RATE = 48000
CHUNK_SECONDS = 30.0


@dataclass(frozen=True)
class SpeakerTrack:
    speaker: str
    path: Path
    speaking_time: float


@dataclass
class ExtractionResult:
    """The per-speaker tracks, and how they were made."""

    tracks: list[SpeakerTrack]
    sample_rate: int
    overlaps: list[tuple[float, float]]
    method: str = METHOD
    overlap_policy: str = OVERLAP_POLICY

    def serialize(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "overlap_policy": self.overlap_policy,
            "sample_rate": self.sample_rate,
            "tracks": [{"speaker": t.speaker, "speaking_time": t.speaking_time} for t in self.tracks],
            "overlaps": [{"start": round(start, 3), "end": round(end, 3)} for start, end in self.overlaps],
        }


class Separator(Protocol):
    """One audio track per diarized speaker: by masking (bundled) or by a separation model (where installed)."""

    name: str

    def extract(
        self,
        audio_path: Path,
        diarization: Diarization,
        output_dir: Path,
        fmt: AudioFormat,
        hook: ProgressHook | None = None,
    ) -> ExtractionResult:
        """Write ``output_dir/<speaker>.<fmt>`` for every speaker of ``diarization``.

        Raises:
            InvalidAudio: the file is not decodable audio.
        """
        ...


def merged_spans(turns: Sequence[SpeakerTurn], pad: float) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (start, end) arrays covering ``turns``, each widened by ``pad`` on both sides."""
    spans = sorted((turn.start - pad, turn.end + pad) for turn in turns)
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    array = np.array(merged, dtype=np.float64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def speaker_gain(times: np.ndarray, starts: np.ndarray, ends: np.ndarray, fade: float = FADE_SECONDS) -> np.ndarray:
    """The gain (0..1) at each time: 1 inside the spans, 0 outside, raised-cosine ramps of ``fade`` at their edges.

    ``starts``/``ends`` are disjoint spans already widened by half a fade, so the ramps centre on the turn edges.
    """
    index = np.searchsorted(starts, times, side="right") - 1
    valid = index >= 0
    clipped = np.clip(index, 0, max(starts.size - 1, 0))
    if starts.size == 0:
        return np.zeros(times.size, dtype=np.float32)
    rise = np.clip((times - starts[clipped]) / fade, 0.0, 1.0)
    fall = np.clip((ends[clipped] - times) / fade, 0.0, 1.0)
    ramp = np.minimum(rise, fall)
    gain = np.where(valid & (times < ends[clipped]), 0.5 - 0.5 * np.cos(np.pi * ramp), 0.0)
    return gain.astype(np.float32)


class DiarizationGuidedExtractor:
    """Writes one track per diarized speaker (a ``Separator`` for installations without a separation model)."""

    name = METHOD

    def extract(
        self,
        audio_path: Path,
        diarization: Diarization,
        output_dir: Path,
        fmt: AudioFormat,
        hook: ProgressHook | None = None,
    ) -> ExtractionResult:
        """Write ``output_dir/<speaker>.<fmt>`` for every speaker, at the recording's own rate (up to 48 kHz).

        Raises:
            InvalidAudio: the file is not decodable audio.
        """
        report = setup_hook(hook)
        info = probe_audio(audio_path)
        rate = min(info.sample_rate, MAX_SAMPLE_RATE)
        speakers = diarization.speakers
        spans = {
            speaker: merged_spans([t for t in diarization.turns if t.speaker == speaker], FADE_SECONDS / 2)
            for speaker in speakers
        }
        paths = {speaker: output_dir / f"{speaker}.{fmt.value}" for speaker in speakers}
        with ExitStack() as stack:
            encoders = {s: stack.enter_context(AudioEncoder(paths[s], rate, fmt)) for s in speakers}
            offset = 0
            for chunk in iter_decoded_chunks(audio_path, sample_rate=rate, chunk_seconds=CHUNK_SECONDS):
                times = (offset + np.arange(chunk.size)) / rate
                for speaker, encoder in encoders.items():
                    encoder.write(chunk * speaker_gain(times, *spans[speaker]))
                offset += chunk.size
                report("extracting", completed=offset / rate, total=max(info.duration, offset / rate))
        times_spoken = diarization.speaking_time()
        tracks = [SpeakerTrack(speaker, paths[speaker], times_spoken[speaker]) for speaker in speakers]
        return ExtractionResult(tracks=tracks, sample_rate=encoded_rate(fmt, rate), overlaps=diarization.overlaps())
