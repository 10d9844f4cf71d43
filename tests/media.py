"""Media made by tests from the real recordings (never synthetic stand-ins for speech)."""

from __future__ import annotations

import struct
import wave
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from app.pipelines.audio import decode_audio


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


def write_understated_matroska(target: Path, speech: np.ndarray, *, declared_seconds: float) -> None:
    """FLAC in Matroska whose header claims ``declared_seconds``, however much ``speech`` it holds (a forged
    header: FFmpeg reports the declared duration and decodes everything)."""
    with av.open(str(target), mode="w", format="matroska") as container:
        stream = container.add_stream("flac", rate=16000, layout="mono")
        pcm = (np.clip(speech, -1.0, 1.0) * 32767).astype(np.int16).reshape(1, -1)
        for start in range(0, pcm.shape[1], 16000):
            frame = av.AudioFrame.from_ndarray(pcm[:, start : start + 16000], format="s16", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 16000, start, Fraction(1, 16000)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data = bytearray(target.read_bytes())
    duration = data.find(b"\x44\x89\x88")  # the Segment Info Duration element: an 8-byte float, in milliseconds
    assert duration > 0, "no Duration element to rewrite"
    data[duration + 3 : duration + 11] = struct.pack(">d", declared_seconds * 1000)
    target.write_bytes(bytes(data))


def write_understated_jfk(testdata_dir: Path, target: Path) -> Path:
    """jfk.flac three times over (33 s) in a file whose header says 2 s."""
    write_understated_matroska(target, np.tile(decode_audio(testdata_dir / "jfk.flac"), 3), declared_seconds=2.0)
    return target
