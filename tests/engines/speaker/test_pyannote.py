"""The pyannote engine's real code path on a tiny random-weight pipeline (pyannote's weights cannot be had here).

Random weights give meaningless labels, so these tests check what the engine does with the pipeline - loading from a
folder only, audio in memory, speaker-count constraints, turns and centroids in the service's shape, errors - never
diarization quality (the bundled diarizer's DER is tested on real recordings elsewhere).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.engines.errors import ModelNotAvailable
from app.engines.speaker import DiarizationOptions, DVectorEmbedder, bundled_embedder_model
from app.engines.speaker.pyannote import PyannoteDiarizer
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.encode import encode_audio


@pytest.fixture(scope="module")
def embedder() -> DVectorEmbedder:
    return DVectorEmbedder(bundled_embedder_model())


@pytest.fixture(scope="module")
def diarizer(tiny_pyannote_dir: Path, embedder: DVectorEmbedder) -> PyannoteDiarizer:
    return PyannoteDiarizer(tiny_pyannote_dir, embedder)


@pytest.fixture(scope="module")
def meeting_clip(testdata_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 12 s of ami_dev00 (two speakers), as an MP3: the engine decodes it itself."""
    path = tmp_path_factory.mktemp("clip") / "meeting.mp3"
    encode_audio(decode_audio(testdata_dir / "ami_dev00.wav")[: 12 * SAMPLE_RATE], SAMPLE_RATE, "mp3", path)
    return path


def test_loads_offline_with_telemetry_off(diarizer: PyannoteDiarizer, tiny_pyannote_dir: Path) -> None:
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "0"
    assert diarizer.name == f"pyannote ({tiny_pyannote_dir.name})"


def test_diarizes_into_the_services_shape_and_honours_the_count(diarizer: PyannoteDiarizer, meeting_clip: Path) -> None:
    steps: list[str] = []

    def hook(step: str, *, completed: float | None = None, total: float | None = None) -> None:
        steps.append(step)

    diarization = diarizer.diarize(meeting_clip, DiarizationOptions(num_speakers=2), hook)
    assert diarization.engine == diarizer.name
    assert diarization.duration == pytest.approx(12.0, abs=0.1)
    assert diarization.speakers == ["SPEAKER_00", "SPEAKER_01"]
    assert all(0 <= turn.start < turn.end <= diarization.duration for turn in diarization.turns)
    assert [turn.start for turn in diarization.turns] == sorted(turn.start for turn in diarization.turns)
    assert set(diarization.centroids) == set(diarization.speakers)
    for centroid in diarization.centroids.values():  # the profiles' embedding space, for naming known voices
        assert centroid.shape == (256,) and np.linalg.norm(centroid) == pytest.approx(1.0, abs=1e-4)
    assert {"segmenting", "embedding", "clustering"} <= set(steps)
    one = diarizer.diarize(meeting_clip, DiarizationOptions(max_speakers=1))
    assert one.speakers == ["SPEAKER_00"]


def test_a_folder_without_a_pipeline_or_with_broken_weights_is_refused(
    tiny_pyannote_dir: Path, embedder: DVectorEmbedder, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotAvailable) as info:
        PyannoteDiarizer(tmp_path, embedder)
    assert info.value.details == {"engine": "pyannote", "missing": ["config.yaml"]}
    broken = tmp_path / "broken"
    shutil.copytree(tiny_pyannote_dir, broken)
    (broken / "segmentation" / "pytorch_model.bin").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelNotAvailable, match="could not be loaded"):
        PyannoteDiarizer(broken, embedder)
