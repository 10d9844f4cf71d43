"""The bundled segmentation network, run as ONNX: speech detection on real meeting audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from pyannote.core import Annotation, Segment, Timeline
from pyannote.metrics.detection import DetectionErrorRate

from app.engines.speaker.bundled import segmentation_onnx
from app.engines.speaker.segmentation import PyanNetSegmenter
from app.pipelines.audio import decode_audio, iter_decoded_chunks
from tests.speaker_data import read_rttm


def speech_regions(scores: np.ndarray, step: float, offset: float) -> Timeline:
    active = np.concatenate([[False], scores > 0.5, [False]])
    edges = np.flatnonzero(np.diff(active.astype(int)))
    return Timeline(
        [
            Segment(offset + a * step - step / 2, offset + b * step - step / 2)
            for a, b in zip(edges[::2], edges[1::2], strict=True)
        ]
    )


def test_converted_model_is_valid_onnx_and_cached(model_cache_dir: Path) -> None:
    path = segmentation_onnx(model_cache_dir)
    onnx.checker.check_model(str(path))
    assert segmentation_onnx(model_cache_dir) == path


def test_speech_detection_matches_pyannote_on_ami(segmenter: PyanNetSegmenter, testdata_dir: Path) -> None:
    """pyannote's own VAD with this checkpoint reaches 4.6 % detection error on ami_dev00 (no collar)."""
    reference = read_rttm(testdata_dir / "ami_dev00.rttm")
    scores = segmenter.score(iter_decoded_chunks(testdata_dir / "ami_dev00.wav", chunk_seconds=7.0))
    hypothesis = Annotation()
    for segment in speech_regions(scores.speech, scores.frame_step, scores.frame_offset):
        hypothesis[segment] = "speech"
    speech = Annotation()
    for segment in reference.get_timeline().support():
        speech[segment] = "speech"

    error = DetectionErrorRate()(speech, hypothesis, uem=Timeline([Segment(0, 30.0)]))

    assert error < 0.07, error
    assert scores.speech.size == int((30.0 * 16000 - 991) // 270 + 1)


def test_streamed_chunks_score_like_one_array(segmenter: PyanNetSegmenter, testdata_dir: Path) -> None:
    whole = segmenter.score([decode_audio(testdata_dir / "jfk.flac")])
    streamed = segmenter.score(iter_decoded_chunks(testdata_dir / "jfk.flac", chunk_seconds=1.3))
    np.testing.assert_allclose(streamed.speech, whole.speech, atol=1e-5)
    np.testing.assert_allclose(streamed.overlap, whole.overlap, atol=1e-5)
    assert whole.speech.mean() > 0.5  # JFK talks for most of the clip


def test_silence_and_tiny_inputs(segmenter: PyanNetSegmenter) -> None:
    silence = segmenter.score([np.zeros(16000 * 3, dtype=np.float32)])
    assert silence.speech.size > 0 and silence.speech.max() < 0.5
    assert segmenter.score([np.zeros(500, dtype=np.float32)]).speech.size == 0
    assert segmenter.score([]).speech.size == 0
