"""Batched decoding with the bundled Whisper on real recordings: no speech comes back without words."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel

from app.engines.bundled import bundled_whisper_base
from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber
from app.engines.whisper_batched import LanguageTaggingPipeline, looped
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.transcription import TranscriptionPipeline

GERMAN_FROM = 30.0
"""Where German begins in multilingual_en_de.mp3."""


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def test_a_language_switch_inside_a_chunk_loses_no_speech(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path
) -> None:
    """JFK, then the English-then-German recording: the switch falls 41 s in, inside the second 30 s chunk of
    speech, which batched decoding takes for German as a whole. The German half of that chunk came back without a
    word ("Jeden, der diese Software und die dazugehörigen Dokumentationsdateien erhält ..."); decoded again on its
    own, it is transcribed and labelled German."""
    jfk = decode_audio(testdata_dir / "jfk.flac")
    audio = np.concatenate([jfk, decode_audio(testdata_dir / "multilingual_en_de.mp3")])
    german_from = jfk.size / SAMPLE_RATE + GERMAN_FROM

    stream, _info = whisper_base.transcribe(audio, TranscriptionOptions(batch_size=8))
    segments = list(stream)

    german = [s for s in segments if s.start >= german_from]
    seen = [(s.start, s.end, s.language, s.text) for s in segments]
    assert "dokumentationsdateien" in normalise(" ".join(s.text for s in german)), seen
    assert Counter(s.language for s in german).most_common(1)[0][0] == "de", seen
    assert "ask not what your country can do for you" in normalise(segments[0].text), seen
    assert [s.start for s in segments] == sorted(s.start for s in segments)
    assert [s.id for s in segments] == list(range(1, len(segments) + 1))


def test_batches_decoded_side_by_side_give_the_same_transcript(
    whisper_base: FasterWhisperTranscriber, model_cache_dir: Path, testdata_dir: Path
) -> None:
    """Two model workers decoding batches at once hand on what one worker decodes, in the same order: words, each
    chunk's language and the speech decoded again (the language switch inside a chunk). Only where a batch begins
    may a first word's timing differ a little: its alignment starts from the batch's first chunk, not from the
    previous batch's last word, which the other worker may still be decoding."""
    side_by_side = FasterWhisperTranscriber(
        bundled_whisper_base(model_cache_dir), device="cpu", compute_type="int8", cpu_threads=1, num_workers=2
    )
    jfk = decode_audio(testdata_dir / "jfk.flac")
    audio = np.concatenate([jfk, decode_audio(testdata_dir / "multilingual_en_de.mp3"), jfk])
    options = TranscriptionOptions(batch_size=2)

    def decoded(transcriber: FasterWhisperTranscriber) -> tuple[list[tuple[object, ...]], list[tuple[float, float]]]:
        stream, _info = transcriber.transcribe(audio, options)
        segments = list(stream)
        text: list[tuple[object, ...]] = [(s.id, s.language, s.text, [w.word for w in s.words]) for s in segments]
        return text, [(w.start, w.end) for s in segments for w in s.words]

    one, one_timings = decoded(whisper_base)
    assert len(one) > 4 and {segment[1] for segment in one} == {"en", "de"}
    two, two_timings = decoded(side_by_side)
    assert two == one
    moved = [(a, b) for a, b in zip(one_timings, two_timings, strict=True) if a != b]
    assert len(moved) <= 2 and all(abs(a[0] - b[0]) < 1.0 and a[1] == b[1] for a, b in moved), moved


def test_batches_decoded_one_by_one_match_faster_whispers_own_pipeline(
    model_cache_dir: Path, testdata_dir: Path
) -> None:
    """With one batch at a time (a GPU, or ``WHISPER_WORKERS=1``) the pipeline decodes exactly as faster-whisper's
    ``BatchedInferencePipeline``, word timings included: each batch's alignment starts where the last one's speech
    ended. Two minutes of speech, a chunk to a batch: four batches."""
    jfk = decode_audio(testdata_dir / "jfk.flac")
    audio = np.concatenate([jfk, decode_audio(testdata_dir / "multilingual_en_de.mp3"), jfk, jfk])
    model = WhisperModel(str(bundled_whisper_base(model_cache_dir)), device="cpu", compute_type="int8", cpu_threads=2)
    arguments: dict[str, Any] = {"language": "en", "batch_size": 1, "word_timestamps": True, "beam_size": 1}

    def decoded(pipeline: BatchedInferencePipeline) -> list[tuple[object, ...]]:
        stream, _info = pipeline.transcribe(audio, **arguments)
        return [(s.start, s.end, s.text, [(w.start, w.end, w.word) for w in s.words or []]) for s in stream]

    stock = decoded(BatchedInferencePipeline(model))
    assert len(stock) >= 4
    assert decoded(LanguageTaggingPipeline(model, parallel=1)) == stock


def test_a_repetition_loop_is_dropped_and_its_speech_decoded_again(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path
) -> None:
    """In this far-field meeting excerpt with heavy overlap, one chunk is taken for Welsh and decodes to
    "Mae'n gweithio." over and over. The loop is dropped as faster-whisper's sequential decoding would drop it, and
    its speech decoded again as a clip of its own, which detection takes for English."""
    transcript = TranscriptionPipeline(whisper_base).apply(
        testdata_dir / "ami_train" / "trn08.wav", TranscriptionOptions(batch_size=8)
    )
    segments = transcript.segments

    seen = [(s.start, s.end, s.language, s.text) for s in segments]
    assert segments and all(s.language == "en" for s in segments), seen
    assert not any(looped(s.text) for s in segments), seen
    assert "gweithio" not in normalise(transcript.text), seen
    assert "smile for the camera" in normalise(transcript.text), seen
    # Detection on the file's first 30 s says Welsh; the transcript's language is the one its words are in.
    assert transcript.language == "en"


def test_speech_said_again_and_again_is_kept(whisper_base: FasterWhisperTranscriber, testdata_dir: Path) -> None:
    """JFK's sentence six times over: each 30 s chunk's text compresses like a repetition loop (ratio above 3),
    and dropping it for that alone once left two fragments of a minute of speech. It gets a second try, which is
    confident and kept: every repetition is in the transcript, with its words."""
    times = 6
    audio = np.tile(decode_audio(testdata_dir / "jfk.flac"), times)

    stream, _info = whisper_base.transcribe(audio, TranscriptionOptions(batch_size=8))
    segments = list(stream)

    seen = [(s.start, s.end, s.text) for s in segments]
    text = normalise(" ".join(s.text for s in segments))
    assert text.count("ask not what your country can do for you") == times, seen
    assert all(s.words for s in segments), seen
    assert segments[0].start < 1.0 and segments[-1].end > audio.size / SAMPLE_RATE - 3.0, seen


def test_a_last_batch_with_fewer_chunks_is_decoded_too(
    whisper_base: FasterWhisperTranscriber, testdata_dir: Path
) -> None:
    """Two minutes of speech pack into five chunks, decoded in batches of two: the last batch holds one chunk
    (checking it once looked past the end of the chunk list and failed the job)."""
    names = ["jfk.flac", "multilingual_en_de.mp3", "ami_dev00.wav", "ami_train/trn03.wav"]
    audio = np.concatenate([decode_audio(testdata_dir / name) for name in names])

    stream, _info = whisper_base.transcribe(audio, TranscriptionOptions(batch_size=8))
    segments = list(stream)

    assert "ask not what your country can do for you" in normalise(segments[0].text)
    assert segments[-1].end > audio.size / SAMPLE_RATE - 30  # the last chunk (trn03) was decoded
    assert [s.start for s in segments] == sorted(s.start for s in segments)
