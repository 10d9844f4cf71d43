"""Audio probing and decoding with PyAV (FFmpeg), as pure functions.

Every FFmpeg failure becomes an ``AppError``: ``InvalidAudio`` when the bytes are not decodable audio,
``UnsupportedMediaType`` when the container holds no audio stream. Video files are accepted: their first audio
stream is used.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import av
import av.error
import numpy as np
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer

from app.core.errors import InvalidAudio, UnsupportedMediaType

SAMPLE_RATE = 16000
ONLY_THE_GIVEN_BYTES = {"protocol_whitelist": "pipe"}
"""FFmpeg options that keep a demuxer from opening any file or URL a media file names (see ``_opened``)."""
AudioSource = Path | IO[bytes]


@dataclass(frozen=True)
class AudioInfo:
    """What a probe learned about a media file.

    Attributes:
        duration: length in seconds (from the container or stream, else by decoding everything).
        sample_rate: the audio stream's native sample rate in Hz.
        channels: the audio stream's channel count.
        codec: FFmpeg's decoder name, e.g. ``flac`` or ``mp3float``.
        container_format: FFmpeg's demuxer name, e.g. ``flac`` or ``mov,mp4,m4a,3gp,3g2,mj2``.
        stream_duration: the length the audio stream itself declares, if it does (a video's container duration
            may be its longest stream's, so only this one says how much audio there should be).
    """

    duration: float
    sample_rate: int
    channels: int
    codec: str
    container_format: str
    stream_duration: float | None = None


def probe_audio(source: AudioSource, *, decode_seconds: float = 2.0) -> AudioInfo:
    """Read a file's audio properties and prove it is audio by decoding its first ``decode_seconds``.

    Args:
        source: a path, or a seekable binary file object (left positioned at 0).
        decode_seconds: how much audio must decode (less if the file is shorter).

    Returns:
        The audio properties.

    Raises:
        InvalidAudio: the input is empty or not decodable.
        UnsupportedMediaType: the container has no audio stream.
    """
    with _opened(source) as container:
        stream = _audio_stream(container)
        rate = stream.codec_context.sample_rate or stream.rate
        declared = _declared_duration(container, stream)
        wanted = int(decode_seconds * rate) if declared is not None else None
        decoded = 0
        for frame in _decoded_frames(container, stream):
            decoded += frame.samples
            if wanted is not None and decoded >= wanted:
                break
        return AudioInfo(
            duration=declared if declared is not None else decoded / rate,
            sample_rate=rate,
            channels=stream.codec_context.channels,
            codec=stream.codec_context.name,
            container_format=container.format.name,
            stream_duration=_stream_duration(stream),
        )


class AudioLongerThanAllowed(InvalidAudio):
    """More audio decoded than the caller allows, whatever the container declared (headers can be forged); the
    same code as an upload whose declared length is over the cap."""

    error_code = "MEDIA_TOO_LONG"

    def __init__(self, max_seconds: float) -> None:
        super().__init__(
            f"The audio runs longer than {max_seconds:g} s", details={"reason": "too long", "max_seconds": max_seconds}
        )
        self.max_seconds = max_seconds


def decode_audio(path: Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float | None = None) -> np.ndarray:
    """Decode a file's first audio stream to a mono float32 signal.

    Args:
        path: the media file.
        sample_rate: the output rate in Hz.
        max_seconds: stop, and fail, once more than this much audio has decoded: bounds the memory a file whose
            header understates its length can take.

    Returns:
        A 1-D float32 array, nominally in [-1, 1] (resampling and downmixing may overshoot a little).

    Raises:
        InvalidAudio: the file is not decodable audio.
        AudioLongerThanAllowed: more than ``max_seconds`` of audio decoded.
        UnsupportedMediaType: the container has no audio stream.
    """
    pieces = list(_capped(_resampled(path, sample_rate), sample_rate, max_seconds))
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.float32)


def iter_decoded_chunks(
    path: Path, *, sample_rate: int = SAMPLE_RATE, chunk_seconds: float, max_seconds: float | None = None
) -> Iterator[np.ndarray]:
    """Stream-decode a file in mono float32 chunks, holding at most about one chunk in memory.

    Args:
        path: the media file.
        sample_rate: the output rate in Hz.
        chunk_seconds: length of every chunk but the last, which may be shorter.
        max_seconds: fail once more than this much audio has decoded: a header that understates the length passes
            the upload's duration check, and would otherwise keep a worker busy for as long as the file runs.

    Yields:
        1-D float32 arrays of ``chunk_seconds * sample_rate`` samples.

    Raises:
        InvalidAudio: the file is not decodable audio.
        AudioLongerThanAllowed: more than ``max_seconds`` of audio decoded.
        UnsupportedMediaType: the container has no audio stream.
    """
    size = max(1, int(chunk_seconds * sample_rate))
    buffered: list[np.ndarray] = []
    count = 0
    for piece in _capped(_resampled(path, sample_rate), sample_rate, max_seconds):
        buffered.append(piece)
        count += piece.size
        if count >= size:
            joined = np.concatenate(buffered)
            full = (joined.size // size) * size
            yield from (joined[start : start + size] for start in range(0, full, size))
            buffered, count = [joined[full:]], joined.size - full
    if count:
        yield np.concatenate(buffered)


def _capped(pieces: Iterator[np.ndarray], sample_rate: int, max_seconds: float | None) -> Iterator[np.ndarray]:
    """``pieces`` until more than ``max_seconds`` of them have passed, then ``AudioLongerThanAllowed``."""
    if max_seconds is None:
        yield from pieces
        return
    count = 0
    for piece in pieces:
        count += piece.size
        if count > max_seconds * sample_rate:
            raise AudioLongerThanAllowed(max_seconds)
        yield piece


def _resampled(path: Path, sample_rate: int) -> Iterator[np.ndarray]:
    with _opened(path) as container:
        stream = _audio_stream(container)
        resampler = _mono_resampler(sample_rate)
        for frame in _decoded_frames(container, stream):
            try:
                converted = resampler.resample(frame)
            except ValueError:
                # The stream changed its sample rate or layout mid-way: drain and start a fresh resampler.
                yield from (out.to_ndarray().reshape(-1) for out in resampler.resample(None))
                resampler = _mono_resampler(sample_rate)
                converted = resampler.resample(frame)
            yield from (out.to_ndarray().reshape(-1) for out in converted)
        yield from (out.to_ndarray().reshape(-1) for out in resampler.resample(None))


def _mono_resampler(sample_rate: int) -> AudioResampler:
    return AudioResampler(format="flt", layout="mono", rate=sample_rate)


@contextmanager
def _opened(source: AudioSource) -> Iterator[InputContainer]:
    """Open ``source`` for reading, mapping every FFmpeg error raised inside the block to ``InvalidAudio``.

    The bytes are handed to FFmpeg through a Python file object, and FFmpeg may open nothing else (``pipe`` is
    the only protocol allowed): a media file is the user's, and some formats name other files. An HLS playlist or
    an ffconcat script naming a path on this host would otherwise be read as its "segments", which let a user
    transcribe another user's stored output or any audio file the service can read.
    """
    with _file_of(source) as file:
        empty = file.seek(0, io.SEEK_END) == 0
        file.seek(0)
        if empty:
            raise InvalidAudio(details={"reason": "the file is empty"})
        try:
            with av.open(file, mode="r", metadata_errors="ignore", options=ONLY_THE_GIVEN_BYTES) as container:
                yield container
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise InvalidAudio(details={"reason": _reason(exc)}) from exc
        finally:
            file.seek(0)


@contextmanager
def _file_of(source: AudioSource) -> Iterator[IO[bytes]]:
    if not isinstance(source, Path):
        yield source
        return
    try:
        file = source.open("rb")
    except OSError as exc:
        raise InvalidAudio(details={"reason": _reason(exc)}) from exc
    with file:
        yield file


def _audio_stream(container: InputContainer) -> AudioStream:
    if not container.streams.audio:
        raise UnsupportedMediaType(
            "The file has no audio stream",
            details={
                "reason": "no audio stream",
                "container_format": container.format.name,
                "streams": [stream.type for stream in container.streams],
            },
        )
    return container.streams.audio[0]


def _decoded_frames(container: InputContainer, stream: AudioStream) -> Iterator[av.AudioFrame]:
    """Decode the stream, skipping packets FFmpeg rejects; fail only if nothing decodes at all."""
    decoded_any = False
    last_error: av.error.FFmpegError | None = None
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as exc:
            last_error = exc
            continue
        for frame in frames:
            decoded_any = True
            yield frame
    if not decoded_any:
        reason = _reason(last_error) if last_error else "no audio samples could be decoded"
        raise InvalidAudio(details={"reason": reason})


def _stream_duration(stream: AudioStream) -> float | None:
    return float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None


def _declared_duration(container: InputContainer, stream: AudioStream) -> float | None:
    if (duration := _stream_duration(stream)) is not None:
        return duration
    if container.duration:
        return container.duration / av.time_base
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.FFmpegError | OSError):  # never the path: it is the server's
        return str(exc.strerror or exc)
    return str(exc)
