"""Probing and decoding real media, and refusing what is not audio."""

from __future__ import annotations

import io
import struct
import tempfile
import wave
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from app.core.errors import AppError, InvalidAudio, UnsupportedMediaType
from app.pipelines.audio import decode_audio, iter_decoded_chunks, probe_audio


def write_speech_wav(source: Path, target: Path, *, start: float, end: float) -> np.ndarray:
    """Cut real speech out of ``source`` into a 16 kHz mono 16-bit WAV; returns the samples written."""
    speech: np.ndarray = decode_audio(source)[int(start * 16000) : int(end * 16000)]
    pcm = (np.clip(speech, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(pcm.tobytes())
    written: np.ndarray = pcm.astype(np.float32) / 32767
    return written


def write_video(target: Path, *, speech: np.ndarray | None) -> None:
    """An MP4 with a few grey video frames, plus an AAC track of ``speech`` when given."""
    with av.open(str(target), mode="w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        audio = container.add_stream("aac", rate=16000) if speech is not None else None
        for index in range(10):
            picture = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 128, dtype=np.uint8), format="rgb24")
            picture.pts = index
            container.mux(video.encode(picture))
        container.mux(video.encode(None))
        if audio is not None and speech is not None:
            sound = av.AudioFrame.from_ndarray(speech.reshape(1, -1), format="flt", layout="mono")
            sound.sample_rate, sound.pts, sound.time_base = 16000, 0, Fraction(1, 16000)
            container.mux(audio.encode(sound))
            container.mux(audio.encode(None))


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")


def test_probe_flac(testdata_dir: Path) -> None:
    info = probe_audio(testdata_dir / "jfk.flac")

    assert info.duration == pytest.approx(11.0, abs=0.05)
    assert (info.sample_rate, info.channels, info.codec, info.container_format) == (44100, 2, "flac", "flac")


def test_probe_mp3(testdata_dir: Path) -> None:
    info = probe_audio(testdata_dir / "multilingual_en_de.mp3")

    assert info.duration == pytest.approx(59.9, abs=0.2)
    assert info.codec.startswith("mp3")
    assert info.container_format == "mp3"


def test_probe_file_like_leaves_position_at_zero(testdata_dir: Path) -> None:
    with tempfile.SpooledTemporaryFile(max_size=1 << 20) as upload:
        upload.write((testdata_dir / "jfk.flac").read_bytes())
        upload.seek(0)

        info = probe_audio(upload)

        assert info.duration == pytest.approx(11.0, abs=0.05)
        assert upload.tell() == 0


def test_probe_wav_of_real_speech(testdata_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "cut.wav"
    written = write_speech_wav(testdata_dir / "jfk.flac", target, start=1.0, end=4.0)

    info = probe_audio(target)
    decoded = decode_audio(target)

    assert (info.sample_rate, info.channels, info.codec, info.container_format) == (16000, 1, "pcm_s16le", "wav")
    assert info.duration == pytest.approx(3.0, abs=1e-3)
    assert decoded.size == written.size
    assert np.abs(decoded - written).max() < 1e-3


@pytest.mark.parametrize("payload", [b"", np.random.default_rng(7).bytes(4096), b"not audio at all\n" * 100])
def test_undecodable_bytes_are_invalid_audio(payload: bytes) -> None:
    upload = io.BytesIO(payload)

    with pytest.raises(InvalidAudio) as caught:
        probe_audio(upload)

    assert isinstance(caught.value.details, dict) and caught.value.details["reason"]
    assert upload.tell() == 0


def test_empty_and_truncated_files_are_invalid_audio(testdata_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes((testdata_dir / "jfk.flac").read_bytes()[:5000])

    with pytest.raises(InvalidAudio, match="not decodable"):
        probe_audio(empty)
    with pytest.raises(InvalidAudio):
        probe_audio(truncated)
    with pytest.raises(InvalidAudio):
        decode_audio(truncated)


def test_image_has_no_audio_stream() -> None:
    with pytest.raises(AppError) as caught:
        probe_audio(io.BytesIO(png_bytes()))

    assert isinstance(caught.value, UnsupportedMediaType | InvalidAudio)
    assert 400 <= caught.value.status_code < 500


def test_video_without_audio_is_unsupported(tmp_path: Path) -> None:
    target = tmp_path / "silent.mp4"
    write_video(target, speech=None)

    with pytest.raises(UnsupportedMediaType, match="no audio stream"):
        probe_audio(target)
    with pytest.raises(UnsupportedMediaType):
        decode_audio(target)


def test_video_with_audio_decodes_its_audio_track(testdata_dir: Path, tmp_path: Path) -> None:
    speech = decode_audio(testdata_dir / "jfk.flac")[: 3 * 16000]
    target = tmp_path / "talk.mp4"
    write_video(target, speech=speech)

    info = probe_audio(target)
    decoded = decode_audio(target)

    assert info.codec == "aac"
    assert decoded.size == pytest.approx(speech.size, abs=2048)


def test_decode_length_and_range(testdata_dir: Path) -> None:
    audio = decode_audio(testdata_dir / "jfk.flac")

    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == pytest.approx(11.0 * 16000, abs=16)
    assert 0.1 < np.abs(audio).max() < 1.5, "full scale, give or take resampling overshoot"


def test_chunks_stream_the_same_signal(testdata_dir: Path) -> None:
    path = testdata_dir / "jfk.flac"
    chunks = list(iter_decoded_chunks(path, chunk_seconds=4.0))

    assert [chunk.size for chunk in chunks[:-1]] == [4 * 16000] * (len(chunks) - 1)
    assert 0 < chunks[-1].size <= 4 * 16000
    np.testing.assert_array_equal(np.concatenate(chunks), decode_audio(path))
