"""The bundled d-vector embedder: same speaker close, different speakers apart, level does not matter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.engines.speaker.embedding import DVectorEmbedder
from app.engines.speaker.features import log_mel, mel_filterbank
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from tests.speaker_data import longest_solo_stretch, read_rttm


def test_mel_filterbank_has_slaney_shape() -> None:
    bank = mel_filterbank()
    assert bank.shape == (40, 257)
    assert (bank >= 0).all() and (bank.max(axis=1) > 0).all()
    peaks = bank.argmax(axis=1)
    assert (np.diff(peaks) >= 0).all()  # filters climb the spectrum in order
    assert log_mel(np.zeros(16000, dtype=np.float32)).shape == (1 + (16000 - 512) // 160, 40)


def test_speakers_are_told_apart(embedder: DVectorEmbedder, testdata_dir: Path) -> None:
    jfk = decode_audio(testdata_dir / "jfk.flac")
    reference = read_rttm(testdata_dir / "ami_dev00.rttm")
    meeting = decode_audio(testdata_dir / "ami_dev00.wav")
    start, end = longest_solo_stretch(reference, "MEE009")
    other = meeting[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

    first, second = embedder.embed(jfk[: jfk.size // 2]), embedder.embed(jfk[jfk.size // 2 :])
    stranger = embedder.embed(other)

    assert abs(float(np.linalg.norm(first)) - 1.0) < 1e-4
    assert float(first @ second) > 0.75
    assert float(first @ stranger) < float(first @ second) - 0.15


def test_level_is_normalised(embedder: DVectorEmbedder, testdata_dir: Path) -> None:
    jfk = decode_audio(testdata_dir / "jfk.flac")
    assert float(embedder.embed(jfk) @ embedder.embed(jfk * 0.05)) > 0.99
