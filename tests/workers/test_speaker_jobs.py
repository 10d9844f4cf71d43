"""Speaker analysis jobs run by the worker's runner with the real bundled models (no broker here)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.presenters import speaker_public
from app.engines.speaker.base import Diarization, SpeakerTurn
from app.models.job import Job, JobKind, JobStatus
from app.models.voice import VoiceProfile
from app.pipelines.audio import decode_audio
from app.pipelines.encode import encode_audio
from app.services.speaker import speaker_service
from app.workers.context import WorkerContext, build_worker_context
from app.workers.runner import run_job
from app.workers.speaker import _process
from tests.conftest import SettingsFactory
from tests.media import write_understated_jfk
from tests.speaker_data import der, read_rttm
from tests.utils import auth_headers, create_voice
from tests.workers.test_runner import reload
from tests.workers.test_translation_jobs import create, text_of

COUNTS = {"num_speakers": None, "min_speakers": None, "max_speakers": None}


@pytest.fixture
def ctx(make_settings: SettingsFactory) -> WorkerContext:
    return build_worker_context(make_settings())


@pytest.fixture
def owner_id(client: TestClient) -> int:
    response = client.post(
        "/api/v1/auth/register", json={"email": f"{uuid.uuid4().hex}@example.com", "password": "x" * 12}
    )
    return int(response.json()["id"])


def reload_voice_owner(ctx: WorkerContext, voice_id: int) -> int:
    with ctx.session_factory() as session:
        profile = session.get(VoiceProfile, voice_id)
        assert profile is not None
        return profile.owner_id


def stored_input(ctx: WorkerContext, owner_id: int, path: Path) -> str:
    key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/{path.name}"
    ctx.storage.save(key, [path.read_bytes()])
    return key


def run(ctx: WorkerContext, job: Job) -> tuple[Job, list[str]]:
    steps: list[str] = []

    def process(j: Job, hook: Any) -> Any:
        def recording(step: str, **amounts: Any) -> None:
            steps.append(step)
            hook(step, **amounts)

        return _process(ctx, j, recording)

    run_job(ctx, job_id=job.id, task_id=str(job.task_id), step_weights=speaker_service.step_weights, process=process)
    return reload(ctx, job.id), steps


def test_diarization_with_transcript(ctx: WorkerContext, owner_id: int, testdata_dir: Path) -> None:
    key = stored_input(ctx, owner_id, testdata_dir / "ami_dev00.wav")
    job = create(ctx, owner_id, JobKind.DIARIZATION, {**COUNTS, "transcribe": True, "language": None}, key)

    done, steps = run(ctx, job)

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    result = done.result or {}
    assert result["num_speakers"] == 2 and len(result["speakers"]) == 2
    assert {"segments", "overlaps", "engine", "duration", "transcript"} <= set(result)
    assert {"segmenting", "embedding", "clustering", "transcribing"} <= set(steps)
    rttm = text_of(ctx, done, "diarization.rttm")
    assert rttm.startswith("SPEAKER input 1 ") and len(rttm.splitlines()) == len(result["segments"])
    restored = Diarization(
        result["duration"], "", [SpeakerTurn(s["start"], s["end"], s["speaker"]) for s in result["segments"]]
    )
    assert der(read_rttm(testdata_dir / "ami_dev00.rttm"), restored) <= 0.20

    transcript = json.loads(text_of(ctx, done, "transcript.json"))
    words = [word for segment in transcript["segments"] for word in segment["words"]]
    assert len(words) > 30
    assert all(word["speaker"] in transcript["speakers"] for word in words)
    assert all(segment["speaker"] in transcript["speakers"] for segment in transcript["segments"])
    assert len({segment["speaker"] for segment in transcript["segments"]}) == 2
    assert text_of(ctx, done, "transcript.vtt").count("<v SPEAKER_0") == len(transcript["segments"])


def test_extraction_writes_a_track_per_speaker(ctx: WorkerContext, owner_id: int, testdata_dir: Path) -> None:
    key = stored_input(ctx, owner_id, testdata_dir / "ami_dev00.wav")
    done, steps = run(ctx, create(ctx, owner_id, JobKind.SPEAKER_EXTRACTION, {**COUNTS, "output_format": "mp3"}, key))

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    extraction = (done.result or {})["extraction"]
    assert extraction["method"] == "diarization-guided masking" and extraction["format"] == "mp3"
    names = sorted(name for name in done.artifacts if name.startswith("track-"))
    assert names == ["track-SPEAKER_00.mp3", "track-SPEAKER_01.mp3"]
    public = speaker_public(done, ctx.storage, 60)
    assert sorted(public.tracks) == ["SPEAKER_00", "SPEAKER_01"] and public.rttm_url
    with ctx.storage.open_local(done.artifacts[names[0]]) as path:
        track = decode_audio(path)
    assert abs(track.size / 16000 - 30.0) < 0.2
    assert "extracting" in steps


def test_silence_completes_with_no_speakers(ctx: WorkerContext, owner_id: int, tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    encode_audio(np.zeros(16000 * 6, dtype=np.float32), 16000, "wav", path)
    key = stored_input(ctx, owner_id, path)
    done, _ = run(ctx, create(ctx, owner_id, JobKind.SPEAKER_EXTRACTION, {**COUNTS, "output_format": "wav"}, key))

    assert done.status == JobStatus.COMPLETED
    assert (done.result or {})["num_speakers"] == 0 and (done.result or {})["segments"] == []
    assert not any(name.startswith("track-") for name in done.artifacts)
    assert text_of(ctx, done, "diarization.rttm") == ""


def test_a_known_voice_names_its_speaker(
    client: TestClient, ctx: WorkerContext, owner_id: int, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    voice = create_voice(client, headers, testdata_dir / "jfk.flac", name="John F. Kennedy").json()
    voice_owner = reload_voice_owner(ctx, voice["id"])
    key = stored_input(ctx, voice_owner, testdata_dir / "jfk.flac")
    params = {**COUNTS, "transcribe": False, "language": None, "known_voices": [voice["id"]]}
    done, _ = run(ctx, create(ctx, voice_owner, JobKind.DIARIZATION, params, key))

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    result = done.result or {}
    assert [s["speaker"] for s in result["speakers"]] == ["John F. Kennedy"]
    [named] = result["known_voices"]
    assert named["voice_id"] == voice["id"] and named["similarity"] >= 0.7
    assert "John_F._Kennedy" in text_of(ctx, done, "diarization.rttm")


def test_a_file_holding_more_than_its_header_declares_is_not_diarized_past_the_cap(
    make_settings: SettingsFactory, owner_id: int, testdata_dir: Path, tmp_path: Path
) -> None:
    ctx = build_worker_context(make_settings(max_media_duration_seconds=20.0))
    forged = write_understated_jfk(testdata_dir, tmp_path / "forged.mkv")
    done, steps = run(ctx, create(ctx, owner_id, JobKind.DIARIZATION, {**COUNTS}, stored_input(ctx, owner_id, forged)))

    assert done.status == JobStatus.FAILED and done.error_code == "MEDIA_TOO_LONG"
    assert "embedding" not in steps, "refused in the first pass over the file"
    assert done.artifacts == {}
