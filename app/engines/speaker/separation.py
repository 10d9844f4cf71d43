"""pyannote.audio speech separation (speech-separation-ami-1.0 and alike) from a local folder: speaker extraction
that unmixes overlapped speech instead of masking it.

``PYANNOTE_SEPARATION_DIR`` names the pipeline folder (``config.yaml`` of a ``SpeechSeparation`` pipeline and the
ToTaToNet and embedding models it names); it needs the ``pyannote`` extra plus asteroid. The real
speech-separation-ami-1.0 model also loads WavLM-large through transformers, which must then be in the local Hugging
Face cache (``HF_HUB_OFFLINE=1``): nothing is downloaded.

The job's diarization stays the one the service reported; the model's own speakers are matched to it by how much
their turns overlap (Hungarian assignment), and each track is that source brought to the recording's level during
its speaker's turns. A speaker the model found no source for keeps the diarization-guided (masked) track, and the
result says so. Separation works at 16 kHz on the whole recording in memory.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.speaker.base import Diarization
from app.engines.speaker.pyannote import load_pipeline
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.encode import AudioEncoder, AudioFormat, encoded_rate
from app.pipelines.extraction import FADE_SECONDS, ExtractionResult, SpeakerTrack, merged_spans, speaker_gain
from app.pipelines.hooks import ProgressHook, setup_hook

OVERLAP_POLICY = "separated by the model: each track holds only its own speaker, overlaps included"
PEAK = 0.99


class PyannoteSeparator:
    """A ``Separator`` running a pyannote.audio ``SpeechSeparation`` pipeline.

    Args:
        folder: the pipeline folder.
        device: ``cpu`` or ``cuda``.

    Raises:
        ModelNotAvailable: no ``config.yaml``, the extras are missing, or the pipeline does not load.
    """

    def __init__(self, folder: Path, *, device: str = "cpu") -> None:
        self._torch, pipeline = load_pipeline(
            folder, engine="pyannote-separation", purpose="speech separation", device=device
        )
        self.name = f"pyannote speech separation ({folder.name})"
        self._pipeline: Any = pipeline
        self._lock = threading.Lock()

    def extract(
        self,
        audio_path: Path,
        diarization: Diarization,
        output_dir: Path,
        fmt: AudioFormat,
        hook: ProgressHook | None = None,
    ) -> ExtractionResult:
        report = setup_hook(hook)
        mixture = decode_audio(audio_path)
        speakers = diarization.speakers
        report("extracting", completed=0.0, total=1.0)
        sources: dict[str, np.ndarray] = {}
        if speakers and mixture.size:

            def progress(
                step: str, _artifact: Any, file: Any = None, total: int | None = None, completed: int | None = None
            ) -> None:
                if total:
                    report("extracting", completed=0.9 * float(completed or 0) / total, total=1.0)

            waveform = self._torch.from_numpy(np.ascontiguousarray(mixture, dtype=np.float32)).unsqueeze(0)
            with self._lock:
                found, separated = self._pipeline(
                    {"waveform": waveform, "sample_rate": SAMPLE_RATE}, num_speakers=len(speakers), hook=progress
                )[:2]
            sources = _matched_sources(found, np.asarray(separated.data, dtype=np.float32), diarization, mixture.size)
        paths = {speaker: output_dir / f"{speaker}.{fmt.value}" for speaker in speakers}
        times = np.arange(mixture.size) / SAMPLE_RATE
        masked = []
        with ExitStack() as stack:
            for speaker in speakers:
                spans = merged_spans([t for t in diarization.turns if t.speaker == speaker], FADE_SECONDS / 2)
                own = speaker_gain(times, *spans)
                if speaker in sources:
                    track = _levelled(sources[speaker], mixture, own > 0)
                else:
                    masked.append(speaker)
                    track = mixture * own
                encoder = stack.enter_context(AudioEncoder(paths[speaker], SAMPLE_RATE, fmt))
                encoder.write(track)
        report("extracting", completed=1.0, total=1.0)
        spoken = diarization.speaking_time()
        policy = OVERLAP_POLICY
        if masked:
            policy += f"; no source was found for {', '.join(masked)}, whose tracks are masked instead"
        return ExtractionResult(
            tracks=[SpeakerTrack(speaker, paths[speaker], spoken[speaker]) for speaker in speakers],
            sample_rate=encoded_rate(fmt, SAMPLE_RATE),
            overlaps=diarization.overlaps(),
            method=self.name,
            overlap_policy=policy,
        )


def _matched_sources(found: Any, separated: np.ndarray, diarization: Diarization, length: int) -> dict[str, np.ndarray]:
    """Our speaker -> the model's source whose speaker overlaps our speaker's turns most (one-to-one)."""
    from scipy.optimize import linear_sum_assignment

    labels = list(found.labels())
    speakers = diarization.speakers
    overlap = np.zeros((len(speakers), len(labels)))
    for i, speaker in enumerate(speakers):
        for turn in (t for t in diarization.turns if t.speaker == speaker):
            for segment, _track, label in found.itertracks(yield_label=True):
                shared = min(turn.end, segment.end) - max(turn.start, segment.start)
                if shared > 0:
                    overlap[i, labels.index(label)] += shared
    rows, columns = linear_sum_assignment(-overlap)
    matched = {}
    for row, column in zip(rows, columns, strict=True):
        if overlap[row, column] > 0 and column < separated.shape[1]:
            source = np.zeros(length, dtype=np.float32)
            count = min(length, separated.shape[0])
            source[:count] = separated[:count, column]
            matched[speakers[row]] = source
    return matched


def _levelled(source: np.ndarray, mixture: np.ndarray, own: np.ndarray) -> np.ndarray:
    """The source scaled (least squares) to the mixture over its speaker's turns, kept below full scale."""
    energy = float(np.dot(source[own], source[own])) if own.any() else 0.0
    gain = float(np.dot(source[own], mixture[own])) / energy if energy > 0 else 1.0
    track = source * abs(gain)
    peak = float(np.max(np.abs(track))) if track.size else 0.0
    return track * (PEAK / peak) if peak > PEAK else track
