"""With XTTS_MODEL_DIR set, the API offers XTTS and cloning jobs run on it (tiny random-weight XTTS: its output is
noise, so the job's plumbing is checked, not how the speech sounds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.engines.voice.matching import NAME as VOICE_MATCHING
from app.main import create_app
from app.models.job import JobStatus
from app.models.voice import VoiceProfile
from app.workers.context import WorkerContext, build_worker_context
from tests.conftest import SettingsFactory
from tests.utils import assert_error
from tests.workers.test_voice_jobs import audio_of, clone, jfk_voice

__all__ = ["jfk_voice"]  # the fixture: a profile made from jfk.flac through the API


@pytest.fixture
def settings(make_settings: SettingsFactory, tiny_xtts_dir: Path) -> Settings:
    return make_settings(xtts_model_dir=tiny_xtts_dir)


@pytest.fixture
def ctx(settings: Settings) -> WorkerContext:
    return build_worker_context(settings)


def test_xtts_is_the_default_engine_and_clones_in_its_languages(
    client: TestClient, ctx: WorkerContext, jfk_voice: tuple[dict[str, str], int]
) -> None:
    engines = client.get("/api/v1/voice/engines").json()
    assert [(e["name"], e["default"]) for e in engines if e["kind"] != "stock voice"] == [
        ("xtts-v2", True),
        (VOICE_MATCHING, False),
    ]
    headers, voice_id = jfk_voice

    refused = client.post(
        "/api/v1/voice/clone/", headers=headers, json={"voice_id": voice_id, "input_text": "Hej.", "language": "sv"}
    )
    assert refused.status_code == 422
    assert_error(refused.json(), "UNSUPPORTED_LANGUAGE")
    assert "de" in refused.json()["details"]["supported"]  # German: XTTS speaks it, the bundled voices do not

    job = clone(client, ctx, headers, voice_id=voice_id, input_text="Guten Tag. Wie geht es?", language="de")
    assert job.status == JobStatus.COMPLETED, job.error_message
    assert job.result is not None
    assert job.result["engine"] == "xtts-v2" and job.result["engine_kind"] == "voice cloning"
    assert job.result["sample_rate"] == 24000 and job.result["sentences"] == 2
    assert audio_of(ctx, job, "speech.wav").size / 16000 == pytest.approx(job.result["duration"], abs=0.05)
    with ctx.session_factory() as session:
        profile = session.get(VoiceProfile, voice_id)
        assert profile is not None and set(profile.conditioning["xtts-v2"]) == {"de"}  # kept for the next job
    uses = client.get(f"/api/v1/voice/voices/{voice_id}/uses", headers=headers).json()
    assert [use["engine"] for use in uses] == ["xtts-v2"]


def test_an_incomplete_xtts_folder_is_a_clear_503(make_settings: SettingsFactory, tmp_path: Path) -> None:
    (tmp_path / "xtts").mkdir()
    (tmp_path / "xtts" / "config.json").write_text('{"languages": ["en"]}')
    with TestClient(create_app(make_settings(xtts_model_dir=tmp_path / "xtts"))) as client:
        response = client.get("/api/v1/voice/engines")
    assert response.status_code == 503
    assert_error(response.json(), "MODEL_NOT_AVAILABLE")
    assert response.json()["details"] == {"engine": "xtts-v2", "missing": ["model.pth", "vocab.json"]}
