"""Encode a float signal to a downloadable audio file (WAV, MP3 or Ogg Opus) with PyAV.

The codecs are the ones PyAV's bundled FFmpeg carries: PCM for WAV, LAME for MP3 and libopus for Ogg (its
``libvorbis`` is absent, and Opus is the better speech codec anyway). Each codec gets the sample rate it accepts
nearest to the input's, and PyAV's resampler converts the sample format.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np

_FRAME_SECONDS = 1.0


class AudioFormat(StrEnum):
    """A file format the service produces audio in."""

    WAV = "wav"
    MP3 = "mp3"
    OGG = "ogg"

    @property
    def media_type(self) -> str:
        return _CODECS[self].media_type


@dataclass(frozen=True)
class _Codec:
    name: Literal["pcm_s16le", "libmp3lame", "libopus"]
    media_type: str
    rates: tuple[int, ...] | None
    """The rates the encoder accepts, best first; ``None`` when any rate is fine."""
    bit_rate: int | None


_CODECS = {
    AudioFormat.WAV: _Codec("pcm_s16le", "audio/wav", None, None),
    AudioFormat.MP3: _Codec(
        "libmp3lame", "audio/mpeg", (44100, 48000, 32000, 24000, 22050, 16000, 12000, 11025, 8000), 128_000
    ),
    AudioFormat.OGG: _Codec("libopus", "audio/ogg", (48000, 24000, 16000), 64_000),
}


class AudioEncoder:
    """Writes mono float audio to a file piece by piece, so a long track never has to be in memory at once.

    Use as a context manager; the file is complete when the block exits.

    Args:
        target: the file to write (overwritten).
        sample_rate: the rate of the samples passed to ``write``, in Hz.
        fmt: ``wav`` (16-bit PCM), ``mp3`` (128 kbit/s) or ``ogg`` (Opus, 64 kbit/s).

    Raises:
        ValueError: ``fmt`` is not an ``AudioFormat``.
    """

    def __init__(self, target: Path, sample_rate: int, fmt: AudioFormat | str) -> None:
        self._format = AudioFormat(fmt)
        self._codec = _CODECS[self._format]
        self._target = target
        self._sample_rate = sample_rate
        self._written = 0

    def __enter__(self) -> AudioEncoder:
        rate = encoded_rate(self._format, self._sample_rate)
        self._container: Any = av.open(str(self._target), mode="w", format=self._format.value)
        self._stream: Any = self._container.add_stream(self._codec.name, rate=rate, layout="mono")
        if self._codec.bit_rate:
            self._stream.codec_context.bit_rate = self._codec.bit_rate
        self._resampler = av.AudioResampler(format=self._stream.codec_context.format.name, layout="mono", rate=rate)
        return self

    def write(self, samples: np.ndarray) -> None:
        """Append samples (mono float32 in [-1, 1]; values outside are clipped)."""
        signal = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
        step = max(1, round(_FRAME_SECONDS * self._sample_rate))
        for start in range(0, signal.size, step):
            piece = np.ascontiguousarray(signal[start : start + step]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(piece, format="flt", layout="mono")
            frame.sample_rate = self._sample_rate
            for converted in self._resampler.resample(frame):
                self._container.mux(self._stream.encode(converted))
        self._written += signal.size

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                if self._written == 0:
                    # FFmpeg writes no file for a stream without packets; one silent sample makes a valid empty file.
                    self.write(np.zeros(1, dtype=np.float32))
                for converted in self._resampler.resample(None):
                    self._container.mux(self._stream.encode(converted))
                self._container.mux(self._stream.encode(None))
        finally:
            self._container.close()


def encode_audio(samples: np.ndarray, sample_rate: int, fmt: AudioFormat | str, target: Path) -> None:
    """Write mono float audio to ``target`` in ``fmt`` (see ``AudioEncoder``).

    Args:
        samples: mono float32 signal in [-1, 1] (values outside are clipped); may be empty.
        sample_rate: its rate in Hz.
        fmt: ``wav`` (16-bit PCM), ``mp3`` (128 kbit/s) or ``ogg`` (Opus, 64 kbit/s).
        target: the file to write (overwritten).

    Raises:
        ValueError: ``fmt`` is not an ``AudioFormat``.
    """
    with AudioEncoder(target, sample_rate, fmt) as encoder:
        encoder.write(samples)


def encoded_rate(fmt: AudioFormat | str, sample_rate: int) -> int:
    """The rate a file in ``fmt`` is written at for input at ``sample_rate``: the input rate if the encoder accepts
    it, else the lowest accepted rate above it (else the highest). Results report this, the file's own rate."""
    codec = _CODECS[AudioFormat(fmt)]
    if codec.rates is None or sample_rate in codec.rates:
        return sample_rate
    higher = [rate for rate in codec.rates if rate > sample_rate]
    return min(higher) if higher else max(codec.rates)
