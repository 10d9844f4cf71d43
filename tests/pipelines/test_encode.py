"""Float audio is encoded to WAV, MP3 and Ogg Opus files that decode back to the same length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.pipelines.audio import decode_audio, probe_audio
from app.pipelines.encode import AudioFormat, encode_audio, encoded_rate


def speech_like(seconds: float, rate: int) -> np.ndarray:
    """A test signal (not speech): a 220 Hz tone with a syllable-rate envelope."""
    t = np.arange(round(seconds * rate)) / rate
    return (0.6 * np.sin(2 * np.pi * 220 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


@pytest.mark.parametrize(
    ("fmt", "rate", "codec", "coded_rate"),
    [
        ("wav", 24000, "pcm_s16le", 24000),
        ("mp3", 24000, "mp3float", 24000),
        ("mp3", 11000, "mp3float", 11025),  # the next rate MP3 (MPEG-2.5) has
        ("mp3", 8000, "mp3float", 8000),  # telephone audio keeps its rate
        ("ogg", 22050, "opus", 24000),  # the next rate Opus has
        ("ogg", 24000, "opus", 24000),
    ],
)
def test_round_trip_keeps_the_duration(tmp_path: Path, fmt: str, rate: int, codec: str, coded_rate: int) -> None:
    target = tmp_path / f"dub.{fmt}"

    encode_audio(speech_like(3.5, rate), rate, fmt, target)

    info = probe_audio(target)
    assert encoded_rate(fmt, rate) == coded_rate
    assert (info.codec, info.channels) == (codec, 1)
    assert info.sample_rate in (coded_rate, 48000)  # Opus always reports 48 kHz decoding
    assert info.duration == pytest.approx(3.5, abs=0.1)
    decoded = decode_audio(target)
    assert decoded.size / 16000 == pytest.approx(3.5, abs=0.1)
    assert 0.3 < np.abs(decoded).max() <= 1.0


def test_wav_is_sample_exact_at_16_bits(tmp_path: Path) -> None:
    signal = speech_like(1.0, 16000)

    encode_audio(signal, 16000, AudioFormat.WAV, tmp_path / "exact.wav")

    np.testing.assert_allclose(decode_audio(tmp_path / "exact.wav"), signal, atol=1.0 / 32767)


def test_out_of_range_samples_are_clipped_not_wrapped(tmp_path: Path) -> None:
    encode_audio(np.full(16000, 1.7, dtype=np.float32), 16000, "wav", tmp_path / "loud.wav")

    assert decode_audio(tmp_path / "loud.wav").min() > 0.99


def test_media_types() -> None:
    assert {f.value: f.media_type for f in AudioFormat} == {
        "wav": "audio/wav",
        "mp3": "audio/mpeg",
        "ogg": "audio/ogg",
    }


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="flac"):
        encode_audio(speech_like(0.5, 16000), 16000, "flac", tmp_path / "x.flac")


@pytest.mark.parametrize("fmt", list(AudioFormat))
def test_empty_audio_still_makes_a_valid_file(tmp_path: Path, fmt: AudioFormat) -> None:
    target = tmp_path / f"empty.{fmt}"

    encode_audio(np.zeros(0, dtype=np.float32), 24000, fmt, target)

    assert probe_audio(target).duration < 0.1
