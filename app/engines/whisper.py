"""Speech recognition with faster-whisper (CTranslate2)."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from app.engines.whisper_batched import LanguageTaggingPipeline

from app.engines.errors import ModelNotAvailable
from app.engines.speech_chunks import MAX_CHUNK_SECONDS, pack_speech
from app.engines.transcriber import Segment, TranscriptionInfo, TranscriptionOptions, Word

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
MIN_SEGMENT_SECONDS_FOR_LANGUAGE = 1.0
"""Shorter segments take the file's language: detection on a fraction of a second is unreliable."""
MIN_BATCHES = 4
"""Batches a recording's chunks are spread over at the least. Segments (and with them progress reports and the
chance to stop a cancelled job) come out batch by batch, so a 4-minute file in one batch of eight chunks showed
0 % until it was done. On a CPU the batch size hardly matters (200 s of speech: 35.6 s in batches of 2 or 4,
36.0 s in batches of 8); on a GPU long recordings still get the full ``batch_size``."""


class FasterWhisperTranscriber:
    """A ``Transcriber`` backed by one faster-whisper ``WhisperModel``, loaded once.

    Args:
        model_path: a local CTranslate2 Whisper model folder (never a hub name).
        device: ``cpu`` or ``cuda``.
        compute_type: CTranslate2 compute type, e.g. ``int8`` or ``float16``.
        cpu_threads: threads of each model worker on CPU; 0 lets the runtime choose.
        num_workers: model workers: batched decoding keeps this many batches in flight at once.
        model_name: the name used in ``name`` and metrics; defaults to the folder name.

    Raises:
        ModelNotAvailable: the folder does not hold a loadable model.
    """

    def __init__(
        self,
        model_path: Path,
        *,
        device: str,
        compute_type: str,
        cpu_threads: int = 0,
        num_workers: int = 1,
        model_name: str | None = None,
    ) -> None:
        from faster_whisper import WhisperModel

        self.model_name = model_name or model_path.name
        self.device = device
        self.compute_type = compute_type
        self.name = f"faster-whisper:{self.model_name}"
        try:
            self._model: Any = WhisperModel(
                str(model_path),
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                num_workers=num_workers,
                local_files_only=True,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            # The folder is the operator's business; users only learn that the model is unavailable.
            logger.error("could not load the Whisper model from %s: %s", model_path, exc)
            raise ModelNotAvailable("The speech recognition model could not be loaded") from exc
        self._workers = num_workers
        self._lock = threading.Lock()
        self._batched: LanguageTaggingPipeline | None = None

    def transcribe(
        self, audio: np.ndarray, options: TranscriptionOptions
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Transcribe 16 kHz mono float32 audio.

        Voice activity detection and the file's language detection run before this returns; segments are decoded
        only as the returned iterator is consumed.

        Args:
            audio: the signal.
            options: how to transcribe. ``multilingual`` is ignored when a language is forced.

        Returns:
            A lazy iterator of segments and the file-level info.
        """
        multilingual = options.multilingual and options.language is None
        if options.batch_size > 1:
            return self._transcribe_batched(audio, options, multilingual)
        segments, info = self._model.transcribe(
            audio,
            language=options.language,
            task=options.task,
            beam_size=options.beam_size,
            word_timestamps=options.word_timestamps,
            vad_filter=options.vad_filter,
            multilingual=multilingual,
            condition_on_previous_text=not multilingual,
        )
        result = _info(info)
        per_segment = options.language is None and options.detect_segment_language
        fallback = options.language or info.language
        return self._segments(segments, audio, fallback, per_segment), result

    def _transcribe_batched(
        self, audio: np.ndarray, options: TranscriptionOptions, multilingual: bool
    ) -> tuple[Iterator[Segment], TranscriptionInfo]:
        """Decode the speech in chunks of up to 30 s, batched, then decode again on its own any speech a chunk left
        without words (see ``app.engines.speech_chunks``)."""
        from faster_whisper.transcribe import restore_speech_timestamps
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        from app.engines.whisper_batched import CheckedDecoding, LanguageTaggingPipeline

        with self._lock:
            if self._batched is None:
                self._batched = LanguageTaggingPipeline(self._model, parallel=self._workers)
            pipeline = self._batched
        pipeline.chunk_languages, pipeline.batch_segments = {}, deque()
        # faster-whisper's own voice-activity settings for batching: batching needs speech chunks.
        vad = get_speech_timestamps(
            audio, VadOptions(max_speech_duration_s=MAX_CHUNK_SECONDS, min_silence_duration_ms=160)
        )
        if not vad:  # nothing to decode, and no speech to tell the language by
            language = options.language or "en"
            duration = audio.size / SAMPLE_RATE
            return iter(()), TranscriptionInfo(
                language=language, language_probability=0.0, duration=duration, duration_after_vad=0.0
            )
        chunks = pack_speech([(region["start"] / SAMPLE_RATE, region["end"] / SAMPLE_RATE) for region in vad])
        decoding: dict[str, Any] = {
            "task": options.task,
            "beam_size": options.beam_size,
            "word_timestamps": options.word_timestamps,
            "multilingual": multilingual,
            "batch_size": min(options.batch_size, -(-len(chunks) // MIN_BATCHES)),
        }
        packed = np.concatenate([audio[region["start"] : region["end"]] for region in vad])
        clips = [{"start": chunk.packed_start, "end": chunk.packed_end} for chunk in chunks]
        segments, info = pipeline.transcribe(packed, language=options.language, clip_timestamps=clips, **decoding)
        result = replace(_info(info), duration=audio.size / SAMPLE_RATE)  # the packed audio's is speech only
        checked = CheckedDecoding(
            pipeline,
            audio,
            chunks,
            language=options.language or info.language,
            tag_languages=multilingual and options.detect_segment_language,
            decoding=decoding,
        )
        tagged = checked.segments(restore_speech_timestamps(segments, vad, SAMPLE_RATE))
        return (_to_segment(index, s, language) for index, (s, language) in enumerate(tagged, start=1)), result

    def _segments(
        self, segments: Iterable[Any], audio: np.ndarray, fallback: str, per_segment: bool
    ) -> Iterator[Segment]:
        for index, segment in enumerate(segments, start=1):
            language = fallback
            if per_segment and segment.end - segment.start >= MIN_SEGMENT_SECONDS_FOR_LANGUAGE:
                language = self._detect_language(audio, segment.start, segment.end) or fallback
            yield _to_segment(index, segment, language)

    def _detect_language(self, audio: np.ndarray, start: float, end: float) -> str | None:
        clip = audio[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
        if clip.size == 0:
            return None
        language, _probability, _all = self._model.detect_language(audio=clip)
        return str(language)


def _info(info: Any) -> TranscriptionInfo:
    return TranscriptionInfo(
        language=info.language,
        language_probability=float(info.language_probability),
        duration=float(info.duration),
        duration_after_vad=float(info.duration_after_vad),
    )


def _to_segment(index: int, segment: Any, language: str) -> Segment:
    return Segment(
        id=index,
        start=float(segment.start),
        end=float(segment.end),
        text=segment.text,
        words=[
            Word(start=float(w.start), end=float(w.end), word=w.word, probability=float(w.probability))
            for w in segment.words or ()
        ],
        avg_logprob=float(segment.avg_logprob),
        no_speech_prob=float(segment.no_speech_prob),
        language=language,
    )
