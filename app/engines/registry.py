"""Engines of one process (a worker, or the API for voice-sample checks): built from settings on first use,
then kept for the life of the process.

Loading lazily (not in ``worker_process_init``) keeps worker start-up fast and avoids Celery killing a process
whose init handler blocks for seconds; the lock makes concurrent first calls load once.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from app.core.config import Settings
from app.core.metrics import MODEL_LOAD_SECONDS
from app.engines.bundled import resolve_whisper_model
from app.engines.device import decoder_layout, resolve_device
from app.engines.speaker import (
    Diarizer,
    DVectorEmbedder,
    PyanNetSegmenter,
    SpeakerEmbedder,
    bundled_embedder_model,
    segmentation_onnx,
)
from app.engines.speaker.pyannote import PyannoteDiarizer
from app.engines.speaker.separation import PyannoteSeparator
from app.engines.synthesis import SpeechSynthesizer, best_voice_for, load_bundled_synthesizer, no_voice_reason
from app.engines.transcriber import Transcriber
from app.engines.voice import EngineInfo, VoiceCloner, VoiceMatchingCloner
from app.engines.voice.xtts import XttsCloner, xtts_info
from app.engines.whisper import FasterWhisperTranscriber
from app.pipelines.diarization import BundledDiarizer
from app.pipelines.extraction import DiarizationGuidedExtractor, Separator
from app.pipelines.translation import DubbingVoice

logger = logging.getLogger(__name__)


class EngineRegistry:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._transcriber: Transcriber | None = None
        self._diarizer: Diarizer | None = None
        self._embedder: SpeakerEmbedder | None = None
        self._cloner: VoiceCloner | None = None
        self._separator: Separator | None = None
        self._cloner_info: EngineInfo | None = None
        self._synthesizers: dict[str, SpeechSynthesizer] = {}

    def voice_for(self, language: str) -> DubbingVoice:
        """The measured best bundled voice for ``language``, its engine loaded on first use."""
        choice = best_voice_for(language)
        if choice is None:
            return DubbingVoice(synthesizer=None, unavailable_reason=no_voice_reason(language))
        return DubbingVoice(synthesizer=self.synthesizer(choice.engine), voice=choice.voice)

    def synthesizer(self, engine: str, *, steady: bool = False) -> SpeechSynthesizer:
        """A bundled stock-voice engine (``piper`` or ``kokoro``), loaded on first use; ``steady`` gives the
        deterministic variant voice matching uses (see ``load_bundled_synthesizer``)."""
        key = f"{engine}:steady" if steady else engine
        with self._lock:
            if key not in self._synthesizers:
                started = time.perf_counter()
                synthesizer = load_bundled_synthesizer(
                    engine, self._settings.model_cache, cpu_threads=self._settings.cpu_threads, steady=steady
                )
                MODEL_LOAD_SECONDS.labels(synthesizer.name).observe(time.perf_counter() - started)
                self._synthesizers[key] = synthesizer
            return self._synthesizers[key]

    def embedder(self) -> SpeakerEmbedder:
        with self._lock:
            if self._embedder is None:
                self._embedder = DVectorEmbedder(bundled_embedder_model(), cpu_threads=self._settings.cpu_threads)
            return self._embedder

    def cloner_info(self) -> EngineInfo:
        """The configured cloning engine as ``/voice/engines`` lists it, without loading it.

        Raises:
            ModelNotAvailable: ``XTTS_MODEL_DIR`` is set but the folder is missing or incomplete.
        """
        if self._cloner_info is None:  # read once: every clone request asks, and the folder is configuration
            model_dir = self._settings.xtts_model_dir
            self._cloner_info = xtts_info(model_dir) if model_dir is not None else VoiceMatchingCloner.info
        return self._cloner_info

    def cloner(self) -> VoiceCloner:
        """XTTS v2 when ``XTTS_MODEL_DIR`` is set, else the bundled voice-matching engine."""
        settings = self._settings
        if settings.xtts_model_dir is not None:
            with self._lock:
                if self._cloner is None:
                    started = time.perf_counter()
                    device, _precision = resolve_device(settings.device_strategy)
                    self._cloner = XttsCloner(settings.xtts_model_dir, device=device, cpu_threads=settings.cpu_threads)
                    MODEL_LOAD_SECONDS.labels(self._cloner.info.name).observe(time.perf_counter() - started)
                    logger.info("loaded %s from %s on %s", self._cloner.info.name, settings.xtts_model_dir, device)
                return self._cloner
        embedder = self.embedder()
        with self._lock:
            if self._cloner is None:
                self._cloner = VoiceMatchingCloner(
                    lambda engine: self.synthesizer(engine, steady=True),
                    embedder,
                    cache_dir=settings.model_cache / "voice-matching",
                )
            return self._cloner

    def transcriber(self) -> Transcriber:
        with self._lock:
            if self._transcriber is None:
                self._transcriber = self._load_transcriber()
            return self._transcriber

    def diarizer(self) -> Diarizer:
        """The pyannote pipeline in ``PYANNOTE_DIARIZATION_DIR`` when set, else the bundled diarizer."""
        embedder = self.embedder()
        settings = self._settings
        with self._lock:
            if self._diarizer is None:
                started = time.perf_counter()
                if settings.pyannote_diarization_dir is not None:
                    device, _precision = resolve_device(settings.device_strategy)
                    self._diarizer = PyannoteDiarizer(
                        settings.pyannote_diarization_dir,
                        embedder,
                        device=device,
                        max_seconds=settings.max_media_duration_seconds,
                    )
                else:
                    threads = settings.cpu_threads
                    segmenter = PyanNetSegmenter(segmentation_onnx(settings.model_cache), cpu_threads=threads)
                    self._diarizer = BundledDiarizer(
                        segmenter, embedder, max_seconds=settings.max_media_duration_seconds
                    )
                MODEL_LOAD_SECONDS.labels(self._diarizer.name).observe(time.perf_counter() - started)
            return self._diarizer

    def separator(self) -> Separator:
        """The pyannote separation pipeline in ``PYANNOTE_SEPARATION_DIR`` when set, else diarization-guided
        masking."""
        settings = self._settings
        with self._lock:
            if self._separator is None:
                if settings.pyannote_separation_dir is not None:
                    started = time.perf_counter()
                    device, _precision = resolve_device(settings.device_strategy)
                    self._separator = PyannoteSeparator(settings.pyannote_separation_dir, device=device)
                    MODEL_LOAD_SECONDS.labels(self._separator.name).observe(time.perf_counter() - started)
                else:
                    self._separator = DiarizationGuidedExtractor()
            return self._separator

    def _load_transcriber(self) -> Transcriber:
        settings = self._settings
        started = time.perf_counter()
        model_path = resolve_whisper_model(settings.whisper_model, settings.model_cache)
        device, compute_type = resolve_device(settings.device_strategy)
        workers, threads = decoder_layout(device, settings.whisper_workers, settings.cpu_threads)
        transcriber = FasterWhisperTranscriber(
            model_path,
            device=device,
            compute_type=settings.whisper_compute_type or compute_type,
            cpu_threads=threads,
            num_workers=workers,
            model_name=Path(settings.whisper_model).name,
        )
        elapsed = time.perf_counter() - started
        MODEL_LOAD_SECONDS.labels(transcriber.name).observe(elapsed)
        logger.info(
            "loaded %s on %s (%s, %d workers x %s threads) in %.1f s",
            transcriber.name,
            device,
            compute_type,
            workers,
            threads or "the runtime's default",
            elapsed,
        )
        return transcriber
