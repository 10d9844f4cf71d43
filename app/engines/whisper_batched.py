"""Batched Whisper decoding that keeps each chunk's language and leaves no speech without words.

faster-whisper's ``BatchedInferencePipeline`` in multilingual mode detects each chunk's language from the encoder
output it has already computed (no extra encoder pass), but only uses it to prompt the decoder. Recording those
detections lets every segment carry its own language at no cost; detecting per segment afterwards would run the
encoder a second time for each one.

Each chunk is then checked against its speech regions (``app.engines.speech_chunks``): speech the chunk's words do
not cover is decoded again as clips of its own, each with its own language; a clip detected as another language
that still yields nothing confident gets one more try in the recording's language. Repetition loops and decoded
silence, which faster-whisper's sequential decoding would decode again at a higher temperature, are dropped first,
so the speech they stood for is decoded again too, as a clip of its own. Text that only compresses like a loop is
given that second try but not dropped: speech said again and again compresses just as well.

Batches are decoded on ``parallel`` threads at once (CTranslate2 runs that many model workers) and handed on in
order: a batch's decoder steps are too small to keep every core busy, and one batch's work in Python overlaps the
other's inference (see ``app.engines.device.decoder_layout`` for what it gained).
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment, Word

from app.engines.speech_chunks import Span, SpeechChunk, missed_speech, repair_clips

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
NO_SPEECH_THRESHOLD = 0.6
LOG_PROB_THRESHOLD = -1.0
COMPRESSION_RATIO_THRESHOLD = 2.4
"""faster-whisper's defaults for sequential decoding."""
LOOP_UNIT_WORDS = 3
LOOP_REPEATS = 4

Tagged = tuple[Any, str]
"""A faster-whisper segment and its language."""


class _DetectionRecorder:
    """Wraps the CTranslate2 model and remembers, per thread, the last ``detect_language`` answer."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._local = threading.local()

    @property
    def last(self) -> list[list[tuple[str, float]]]:
        answer: list[list[tuple[str, float]]] = getattr(self._local, "last", [])
        return answer

    @last.setter
    def last(self, answer: list[list[tuple[str, float]]]) -> None:
        self._local.last = answer

    def detect_language(self, *args: Any, **kwargs: Any) -> Any:
        self.last = self._inner.detect_language(*args, **kwargs)
        return self.last

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


Decoded = tuple[list[list[dict[str, Any]]], dict[int, tuple[str, float]]]
"""One batch's segments per chunk, and each chunk's detected language by its seek."""


class LanguageTaggingPipeline(BatchedInferencePipeline):  # type: ignore[misc]
    """``BatchedInferencePipeline`` that maps each chunk (by its ``seek``) to ``(language, probability)`` and
    decodes ``parallel`` batches at once.

    Args:
        model: the loaded model; it should run ``parallel`` workers (``WhisperModel(num_workers=...)``).
        parallel: batches in flight at once.
    """

    def __init__(self, model: WhisperModel, *, parallel: int = 1) -> None:
        self._local = threading.local()
        if not isinstance(model.model, _DetectionRecorder):
            model.model = _DetectionRecorder(model.model)
        super().__init__(model)
        self._recorder: _DetectionRecorder = model.model
        self._parallel = max(1, parallel)
        self.chunk_languages: dict[int, tuple[str, float]] = {}
        self.batch_segments: deque[int] = deque()
        """How many segments each batch decoded so far yields, oldest first: a batch's segments are yielded one
        for one right after it is handed on, so a reader knows a batch is complete without asking for the next
        segment, which would wait for the next batch first."""

    @property
    def last_speech_timestamp(self) -> float:
        """Where the previous speech ended, for the word alignment of the batch this thread decodes."""
        value: float = getattr(self._local, "last_speech", 0.0)
        return value

    @last_speech_timestamp.setter
    def last_speech_timestamp(self, value: float) -> None:
        self._local.last_speech = value

    def _decode(
        self, features: Any, tokenizer: Any, chunks_metadata: Any, options: Any, after: float | None
    ) -> tuple[Decoded, float]:
        """One batch, on a decoding thread, and where its speech ends.

        Word alignment trims an over-long first word after a pause, so it needs where the speech before the batch
        ended: ``after``, the previous batch's last word, when batches are decoded one by one (as faster-whisper
        does); with batches side by side that one may still be decoding, and the batch's first chunk start (never
        earlier: chunks follow each other on the packed timeline) stands in for it."""
        self._recorder.last = []
        self.last_speech_timestamp = float(chunks_metadata[0]["offset"]) if after is None else after
        outputs = self.forward(features, tokenizer, chunks_metadata, options)
        languages: dict[int, tuple[str, float]] = {}
        if options.multilingual:
            for metadata, ranked in zip(chunks_metadata, self._recorder.last, strict=True):
                token, probability = ranked[0]
                languages[int(metadata["offset"] * self.model.frames_per_second)] = (token.strip("<|>"), probability)
        return (outputs, languages), self.last_speech_timestamp

    def _batched_segments_generator(
        self,
        features: Any,
        tokenizer: Any,
        chunks_metadata: Any,
        batch_size: int,
        options: Any,
        log_progress: bool,
    ) -> Iterator[Segment]:
        """faster-whisper's generator of segments, batch by batch in order, with up to ``parallel`` batches
        decoding ahead of the one being read.

        A reader that stops early (a cancelled job) does not wait for the batches still decoding: those not started
        are dropped, and one already on the model finishes on its own, its result unread."""
        starts = iter(range(0, len(features), batch_size))
        index = 0
        ended: float | None = 0.0 if self._parallel == 1 else None
        pool = ThreadPoolExecutor(self._parallel, thread_name_prefix="whisper-batch")
        ahead: deque[Future[tuple[Decoded, float]]] = deque()

        def start_next() -> None:
            if (first := next(starts, None)) is not None:
                end = first + batch_size
                batch = (features[first:end], tokenizer, chunks_metadata[first:end], options, ended)
                ahead.append(pool.submit(self._decode, *batch))

        for _ in range(self._parallel):
            start_next()
        try:
            while ahead:
                (outputs, languages), speech_end = ahead.popleft().result()
                if self._parallel == 1:
                    ended = speech_end
                start_next()
                self.chunk_languages.update(languages)
                self.batch_segments.append(sum(len(result) for result in outputs))
                for result in outputs:
                    for segment in result:
                        index += 1
                        yield _segment(index, segment, options)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _segment(index: int, decoded: dict[str, Any], options: Any) -> Segment:
    """A faster-whisper ``Segment`` from one decoded sub-segment, as its own batched generator builds it."""
    return Segment(
        seek=decoded["seek"],
        id=index,
        text=decoded["text"],
        start=round(decoded["start"], 3),
        end=round(decoded["end"], 3),
        words=[Word(**word) for word in decoded["words"]] if options.word_timestamps else None,
        tokens=decoded["tokens"],
        avg_logprob=decoded["avg_logprob"],
        no_speech_prob=decoded["no_speech_prob"],
        compression_ratio=decoded["compression_ratio"],
        temperature=options.temperatures[0],
    )


def hallucinated(segment: Any) -> bool:
    """Decoded silence or a short phrase said over and over (too short for the compression-ratio test to see): never
    speech, on any try."""
    silence = segment.no_speech_prob > NO_SPEECH_THRESHOLD and segment.avg_logprob < LOG_PROB_THRESHOLD
    return bool(silence or looped(segment.text))


def worth_another_try(segment: Any) -> bool:
    """A first decoding that faster-whisper's sequential decoding would decode again: hallucinated, or text that
    compresses like a repetition loop.

    Speech said again and again (a refrain, a chant, a speaker repeating a sentence) compresses as well as a loop,
    so compression alone never drops text: as faster-whisper keeps its best try when every temperature still
    compresses, a second try that compresses as much is kept when it is confident."""
    return hallucinated(segment) or segment.compression_ratio > COMPRESSION_RATIO_THRESHOLD


def looped(text: str) -> bool:
    """Whether a unit of one to three words, said at least four times in a row, makes up most of ``text``."""
    words = [word.strip(".,;:!?\"'()").lower() for word in text.split()]
    for unit in range(1, LOOP_UNIT_WORDS + 1):
        run = 0
        for index in range(unit, len(words)):
            run = run + 1 if words[index] == words[index - unit] else 0
            if run >= (LOOP_REPEATS - 1) * unit and run + unit > len(words) / 2:
                return True
    return False


class CheckedDecoding:
    """One recording's batched segments, chunk by chunk, with the speech each chunk missed decoded again.

    Args:
        pipeline: the batched pipeline (its per-chunk languages are read and set aside around re-decoding).
        audio: the recording, 16 kHz mono.
        chunks: the speech chunks the segments were decoded from, in order.
        language: the recording's language (forced or detected).
        tag_languages: label segments with their chunk's detected language (else with ``language``).
        decoding: keyword arguments for ``pipeline.transcribe`` (task, beam size, word timestamps, multilingual, batch
            size).
    """

    def __init__(
        self,
        pipeline: LanguageTaggingPipeline,
        audio: np.ndarray,
        chunks: list[SpeechChunk],
        *,
        language: str,
        tag_languages: bool,
        decoding: dict[str, Any],
    ) -> None:
        self._pipeline = pipeline
        self._audio = audio
        self._chunks = chunks
        self._language = language
        self._tag_languages = tag_languages
        self._decoding = decoding

    def segments(self, decoded: Iterable[Any]) -> Iterator[Tagged]:
        """``decoded`` (on the recording's timeline, in chunk order) with languages, repairs merged in time order.

        Chunks are checked as faster-whisper decoded them, a batch at a time, and the speech a batch missed is
        decoded again in one batched call: clip by clip, a CPU paid 22 ms per token for a lone clip against 7 ms
        for each of eight batched. A batch's segments go out as soon as its last one is in, before the next batch
        is decoded, so progress (and a cancelled job's stop) follows the decoding.
        """
        starts = [chunk.packed_start for chunk in self._chunks]
        frames_per_second = self._pipeline.model.frames_per_second
        batch = max(1, int(self._decoding.get("batch_size", 1)))
        counts = self._pipeline.batch_segments
        first = 0  # the first chunk not yet checked
        pending: dict[int, list[Tagged]] = {}
        left = 0  # segments still to come from the batch being read
        for segment in decoded:
            if left == 0:  # the first segment of a batch; batches that decoded to nothing came before it
                while counts[0] == 0:
                    counts.popleft()
                left = counts.popleft()
            # A seek is the chunk's start in whole frames, rounded down: one frame of slack finds its chunk.
            index = bisect_right(starts, (segment.seek + 1) / frames_per_second) - 1
            pending.setdefault(index, []).append((segment, self._language_of(segment, self._pipeline.chunk_languages)))
            left -= 1
            if left == 0:
                # The end of the decoding batch that is complete (the last batch may hold fewer chunks).
                end = min((index // batch + 1) * batch, len(self._chunks))
                yield from self._completed(range(first, end), pending)
                first, pending = end, {}
        yield from self._completed(range(first, len(self._chunks)), pending)

    def _completed(self, chunks: range, found: dict[int, list[Tagged]]) -> list[Tagged]:
        """The segments of a run of chunks, checked and repaired (``found``: chunk index -> its segments; chunks
        missing from it decoded to nothing at all)."""
        if not self._decoding.get("word_timestamps"):  # without words nothing can be checked, so nothing is dropped
            return [pair for index in chunks for pair in found.get(index, [])]
        # Each chunk is checked against its own words: a neighbour's word near its edge must not hide speech it
        # missed.
        own = {
            index: [(segment, language) for segment, language in found.get(index, []) if not worth_another_try(segment)]
            for index in chunks
        }
        spans = {span: index for index in chunks for span in self._missed(self._chunks[index].regions, own[index])}
        kept = [pair for pairs in own.values() for pair in pairs]
        if spans:
            repaired, foreign = self._redecode(list(spans), detect=bool(self._decoding.get("multilingual")))
            kept += repaired
            # Clips detected as another language that still decoded to nothing get one try in the recording's.
            still: list[Span] = []
            for index in chunks:
                if mine := [span for span in foreign if spans[span] == index]:
                    still += self._missed(mine, own[index] + repaired)
            if still:
                kept += self._redecode(still, detect=False)[0]
        return sorted(kept, key=lambda pair: float(pair[0].start))

    @staticmethod
    def _missed(regions: list[Span], tagged: list[Tagged]) -> list[Span]:
        words = [(float(word.start), float(word.end)) for segment, _ in tagged for word in segment.words or ()]
        return repair_clips(missed_speech(regions, words), words)

    def _language_of(self, segment: Any, languages: dict[int, tuple[str, float]]) -> str:
        if not self._tag_languages:
            return self._language
        return languages.get(segment.seek, (self._recording_language(), 0.0))[0]

    def _recording_language(self) -> str:
        """The language most chunks so far were detected in (the file-level detection reads only its first 30 s),
        or the forced or file-level one."""
        if not self._tag_languages or not self._pipeline.chunk_languages:
            return self._language
        counts = Counter(language for language, _probability in self._pipeline.chunk_languages.values())
        return counts.most_common(1)[0][0]

    def _redecode(self, spans: list[Span], *, detect: bool) -> tuple[list[Tagged], list[Span]]:
        """Decode clips of the recording, with the main decoding's state set aside; detect each clip's language,
        or decode it in the recording's.

        Returns:
            The confident segments with their languages, and the clips detected as another language.
        """
        logger.info("decoding again %.1f s of speech left without words", sum(end - start for start, end in spans))
        pipeline = self._pipeline
        language = self._recording_language()
        languages, counts = pipeline.chunk_languages, pipeline.batch_segments
        pipeline.chunk_languages, pipeline.batch_segments = {}, deque()
        try:
            decoded, _info = pipeline.transcribe(
                self._audio,
                language=language,
                clip_timestamps=[{"start": start, "end": end} for start, end in spans],
                **{**self._decoding, "multilingual": detect},
            )
            # A second attempt at speech the first found hard: only confident text is kept.
            kept = [
                segment
                for segment in decoded
                if segment.text.strip() and segment.avg_logprob >= LOG_PROB_THRESHOLD and not hallucinated(segment)
            ]
            found = pipeline.chunk_languages
        finally:
            pipeline.chunk_languages, pipeline.batch_segments = languages, counts
        tagged = [(segment, found.get(segment.seek, (language, 0.0))[0] if detect else language) for segment in kept]
        foreign = [span for span in spans if found.get(self._seek(span[0]), (language, 0.0))[0] != language]
        return tagged, foreign

    def _seek(self, start: float) -> int:
        """The seek faster-whisper gives a clip starting at ``start`` s (its start in whole samples, then frames)."""
        return int(int(start * SAMPLE_RATE) / SAMPLE_RATE * self._pipeline.model.frames_per_second)
