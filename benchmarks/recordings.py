"""Long benchmark inputs built from the real test recordings (no synthetic speech)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from app.pipelines.audio import SAMPLE_RATE, decode_audio

SPEECH_FILES = (
    "jfk.flac",
    "multilingual_en_de.mp3",
    "ami_dev00.wav",
    *(f"ami_train/trn0{i}.wav" for i in range(2, 10)),
)


def concatenated_speech(testdata: Path, min_seconds: float) -> np.ndarray:
    """Every test recording in turn, repeated until at least ``min_seconds`` long (16 kHz mono float32)."""
    pieces = [decode_audio(testdata / name) for name in SPEECH_FILES if (testdata / name).is_file()]
    once = np.concatenate(pieces)
    repeats = int(np.ceil(min_seconds * SAMPLE_RATE / once.size))
    return np.tile(once, repeats)


def write_flac(audio: np.ndarray, target: Path, sample_rate: int = SAMPLE_RATE) -> float:
    """Write mono float audio as 16-bit FLAC; returns its duration in seconds."""
    with av.open(str(target), "w", format="flac") as container:
        stream = container.add_stream("flac", rate=sample_rate, layout="mono")
        pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return audio.size / sample_rate
