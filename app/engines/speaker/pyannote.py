"""pyannote.audio diarization pipelines (speaker-diarization-3.1, community-1, ...) from a local folder.

For deployments that have pyannote's weights: ``PYANNOTE_DIARIZATION_DIR`` names the folder holding the pipeline's
``config.yaml`` and the models it refers to (``$model/segmentation``, ``$model/embedding``, ``$model/plda``). torch
and pyannote.audio come with the optional ``pyannote`` extra and are imported only when the engine loads. Nothing is
fetched from a model hub: loading goes through the folder alone, pyannote's telemetry is switched off before its
first import, and audio reaches the pipeline in memory (its own file decoding needs torchcodec's native libraries).

Speaker centroids, which name speakers after the caller's voice profiles, are computed with the service's own
embedder on each speaker's longest turns, so they live in the same space as the profiles' embeddings whichever
model diarized.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from app.engines.errors import MODEL_LOAD_ERRORS, ModelNotAvailable
from app.engines.speaker.base import Diarization, DiarizationOptions, SpeakerEmbedder, SpeakerTurn
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.hooks import ProgressHook, setup_hook

logger = logging.getLogger(__name__)

CENTROID_SECONDS = 30.0
"""Speech per speaker, longest turns first, that goes into that speaker's centroid."""
_STEPS = {"segmentation": "segmenting", "embeddings": "embedding"}
"""pyannote's progress steps -> the service's diarization steps (everything else counts as clustering)."""


def load_pipeline(folder: Path, *, engine: str, purpose: str, device: str) -> tuple[Any, Any]:
    """``(torch, pipeline)`` for the pyannote pipeline in ``folder``, moved to ``device``.

    Args:
        folder: holds the pipeline's ``config.yaml`` and the models it names.
        engine: the engine's name in error details.
        purpose: what the pipeline does, for messages (``diarization``, ``speech separation``).
        device: ``cpu`` or ``cuda``.

    Raises:
        ModelNotAvailable: no ``config.yaml``, the ``pyannote`` extra is missing, or the pipeline does not load.
    """
    if not (folder / "config.yaml").is_file():
        logger.error("the %s folder %s holds no config.yaml", purpose, folder)
        raise ModelNotAvailable(
            f"The {purpose} pipeline is not installed", details={"engine": engine, "missing": ["config.yaml"]}
        )
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"  # read by pyannote.audio when it is first imported
    try:
        import torch
        from pyannote.audio import Pipeline
    except ImportError as exc:
        logger.error("a %s folder is configured but the pyannote extra is not installed: %s", purpose, exc)
        raise ModelNotAvailable(
            f"The {purpose} engine is not installed", details={"engine": engine, "install": "audio-api[pyannote]"}
        ) from exc
    failed = ModelNotAvailable(f"The {purpose} pipeline could not be loaded", details={"engine": engine})
    try:
        pipeline = Pipeline.from_pretrained(folder)
    except MODEL_LOAD_ERRORS as exc:
        logger.error("could not load the pyannote %s pipeline in %s: %s", purpose, folder, exc)
        raise failed from exc
    if pipeline is None:
        raise failed
    pipeline.to(torch.device(device))
    return torch, pipeline


class PyannoteDiarizer:
    """A ``Diarizer`` running a pyannote.audio pipeline.

    Args:
        folder: the pipeline folder (its ``config.yaml`` and the models it names).
        embedder: the service's speaker embedder, for speaker centroids.
        device: ``cpu`` or ``cuda``.
        max_seconds: the most audio a file may hold, whatever its header declares (``None``: no limit).

    Raises:
        ModelNotAvailable: no ``config.yaml`` in ``folder``, the ``pyannote`` extra is missing, or the pipeline does
            not load.
    """

    def __init__(
        self, folder: Path, embedder: SpeakerEmbedder, *, device: str = "cpu", max_seconds: float | None = None
    ) -> None:
        self._torch, pipeline = load_pipeline(folder, engine="pyannote", purpose="diarization", device=device)
        self.name = f"pyannote ({folder.name})"
        self._pipeline: Any = pipeline  # called with per-file speaker counts, which its typing does not list
        self._embedder = embedder
        self._max_seconds = max_seconds
        self._lock = threading.Lock()

    def diarize(self, audio_path: Path, options: DiarizationOptions, hook: ProgressHook | None = None) -> Diarization:
        """Diarize one recording; the whole signal is held in memory, as pyannote pipelines need it.

        Raises:
            InvalidAudio: the file is not decodable audio.
            AudioLongerThanAllowed: the file holds more than ``max_seconds`` of audio.
        """
        report = setup_hook(hook)
        samples = decode_audio(audio_path, max_seconds=self._max_seconds)
        duration = samples.size / SAMPLE_RATE
        report("segmenting", completed=0.0, total=1.0)

        def progress(
            step: str, _artifact: Any, file: Any = None, total: int | None = None, completed: int | None = None
        ) -> None:
            if total:
                report(_STEPS.get(step, "clustering"), completed=float(completed or 0), total=float(total))

        waveform = self._torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).unsqueeze(0)
        counts = {
            "num_speakers": options.num_speakers,
            "min_speakers": options.min_speakers,
            "max_speakers": options.max_speakers,
        }
        with self._lock:
            output = self._pipeline(
                {"waveform": waveform, "sample_rate": SAMPLE_RATE},
                hook=progress,
                **{name: value for name, value in counts.items() if value is not None},
            )
        annotation = getattr(output, "speaker_diarization", output)
        turns = self._turns(annotation, duration)
        report("clustering", completed=1.0, total=1.0)
        return Diarization(duration=duration, engine=self.name, turns=turns, centroids=self._centroids(samples, turns))

    @staticmethod
    def _turns(annotation: Any, duration: float) -> list[SpeakerTurn]:
        """Turns in time order, speakers renamed SPEAKER_00, SPEAKER_01, ... by first appearance."""
        raw = sorted(
            (max(0.0, float(segment.start)), min(duration, float(segment.end)), str(label))
            for segment, _track, label in annotation.itertracks(yield_label=True)
        )
        names: dict[str, str] = {}
        for _start, _end, label in raw:
            names.setdefault(label, f"SPEAKER_{len(names):02d}")
        return [SpeakerTurn(start, end, names[label]) for start, end, label in raw if end > start]

    def _centroids(self, samples: np.ndarray, turns: list[SpeakerTurn]) -> dict[str, np.ndarray]:
        centroids: dict[str, np.ndarray] = {}
        for speaker in sorted({turn.speaker for turn in turns}):
            pieces, total = [], 0.0
            for turn in sorted((t for t in turns if t.speaker == speaker), key=lambda t: -t.duration):
                if total >= CENTROID_SECONDS:
                    break
                pieces.append(samples[int(turn.start * SAMPLE_RATE) : int(turn.end * SAMPLE_RATE)])
                total += turn.duration
            speech = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)
            if speech.size:
                centroids[speaker] = self._embedder.embed(speech)
        return centroids
