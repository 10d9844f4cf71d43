"""With PYANNOTE_DIARIZATION_DIR set, speaker jobs diarize with that pipeline (tiny random-weight pyannote: its
labels mean nothing, so the job's plumbing is checked, not its accuracy)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.models.job import JobKind, JobStatus
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from app.pipelines.encode import encode_audio
from app.workers.context import WorkerContext, build_worker_context
from tests.conftest import SettingsFactory
from tests.workers.test_speaker_jobs import COUNTS, owner_id, run, stored_input
from tests.workers.test_translation_jobs import create, text_of

__all__ = ["owner_id"]  # the fixture, shared with the bundled diarizer's job tests


@pytest.fixture
def ctx(make_settings: SettingsFactory, tiny_pyannote_dir: Path) -> WorkerContext:
    return build_worker_context(make_settings(pyannote_diarization_dir=tiny_pyannote_dir))


def test_a_diarization_job_runs_on_the_configured_pipeline(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path, tmp_path: Path, tiny_pyannote_dir: Path
) -> None:
    clip = tmp_path / "meeting.ogg"
    encode_audio(decode_audio(testdata_dir / "ami_dev00.wav")[: 10 * SAMPLE_RATE], SAMPLE_RATE, "ogg", clip)
    key = stored_input(ctx, owner_id, clip)
    job = create(ctx, owner_id, JobKind.DIARIZATION, {**COUNTS, "num_speakers": 2, "transcribe": False}, key)

    done, steps = run(ctx, job)

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    result = done.result or {}
    assert result["engine"] == f"pyannote ({tiny_pyannote_dir.name})"
    assert result["num_speakers"] == 2 and result["options"]["num_speakers"] == 2
    assert {"segmenting", "embedding", "clustering"} <= set(steps)
    assert len(text_of(ctx, done, "diarization.rttm").splitlines()) == len(result["segments"])


def test_an_extraction_job_unmixes_with_the_configured_separation_pipeline(
    make_settings: SettingsFactory, owner_id: int, testdata_dir: Path, tmp_path: Path, tiny_separation_dir: Path
) -> None:
    ctx = build_worker_context(make_settings(pyannote_separation_dir=tiny_separation_dir))
    clip = tmp_path / "meeting.ogg"
    encode_audio(decode_audio(testdata_dir / "ami_dev00.wav")[: 10 * SAMPLE_RATE], SAMPLE_RATE, "ogg", clip)
    key = stored_input(ctx, owner_id, clip)
    job = create(ctx, owner_id, JobKind.SPEAKER_EXTRACTION, {**COUNTS, "output_format": "wav"}, key)

    done, steps = run(ctx, job)

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    result = done.result or {}
    extraction = result["extraction"]
    assert extraction["method"] == f"pyannote speech separation ({tiny_separation_dir.name})"
    assert result["engine"].startswith("audio-api diarizer")  # the bundled diarizer still says who spoke when
    tracks = sorted(name for name in done.artifacts if name.startswith("track-"))
    assert tracks == [f"track-{s['speaker']}.wav" for s in result["speakers"]] and "extracting" in steps
