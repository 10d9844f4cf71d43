"""Encode a float signal to a downloadable audio file (WAV, MP3 or Ogg Opus) with PyAV.

The codecs are the ones PyAV's bundled FFmpeg carries: PCM for WAV, LAME for MP3 and libopus for Ogg (its
``libvorbis`` is absent, and Opus is the better speech codec anyway). Each codec gets the sample rate it accepts
nearest to the input's, and PyAV's resampler converts the sample format.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Literal

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
    AudioFormat.MP3: _Codec("libmp3lame", "audio/mpeg", (44100, 48000, 32000, 24000, 22050, 16000), 128_000),
    AudioFormat.OGG: _Codec("libopus", "audio/ogg", (48000, 24000, 16000), 64_000),
}


def encode_audio(samples: np.ndarray, sample_rate: int, fmt: AudioFormat | str, target: Path) -> None:
    """Write mono float audio to ``target`` in ``fmt``.

    Args:
        samples: mono float32 signal in [-1, 1] (values outside are clipped); may be empty.
        sample_rate: its rate in Hz.
        fmt: ``wav`` (16-bit PCM), ``mp3`` (128 kbit/s) or ``ogg`` (Opus, 64 kbit/s).
        target: the file to write (overwritten).

    Raises:
        ValueError: ``fmt`` is not an ``AudioFormat``.
    """
    audio_format = AudioFormat(fmt)
    codec = _CODECS[audio_format]
    rate = _codec_rate(codec, sample_rate)
    signal = np.clip(np.asarray(samples, dtype=np.float32).reshape(-1), -1.0, 1.0)
    if signal.size == 0:
        # FFmpeg writes no file at all for a stream without packets; one silent sample makes a valid empty file.
        signal = np.zeros(1, dtype=np.float32)
    with av.open(str(target), mode="w", format=audio_format.value) as container:
        stream = container.add_stream(codec.name, rate=rate, layout="mono")
        if codec.bit_rate:
            stream.codec_context.bit_rate = codec.bit_rate
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
        step = max(1, round(_FRAME_SECONDS * sample_rate))
        for start in range(0, signal.size, step):
            frame = av.AudioFrame.from_ndarray(signal[start : start + step].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = sample_rate
            for converted in resampler.resample(frame):
                container.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            container.mux(stream.encode(converted))
        container.mux(stream.encode(None))


def _codec_rate(codec: _Codec, sample_rate: int) -> int:
    """The input rate if the encoder accepts it, else the lowest accepted rate above it (else the highest)."""
    if codec.rates is None or sample_rate in codec.rates:
        return sample_rate
    higher = [rate for rate in codec.rates if rate > sample_rate]
    return min(higher) if higher else max(codec.rates)
