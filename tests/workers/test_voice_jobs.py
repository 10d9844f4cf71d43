"""Cloning jobs run by the worker's runner with the real bundled engines (no broker here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import pytest
import soxr
from fastapi.testclient import TestClient

from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber
from app.models.job import Job, JobStatus
from app.models.voice import VoiceProfile
from app.pipelines.audio import decode_audio
from app.services.voice import voice_service
from app.workers.context import WorkerContext, build_worker_context
from app.workers.runner import run_job
from app.workers.voice import _process
from tests.conftest import SettingsFactory
from tests.utils import assert_error, auth_headers, create_voice
from tests.workers.test_runner import reload

FOX = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def ctx(make_settings: SettingsFactory) -> WorkerContext:
    return build_worker_context(make_settings())


@pytest.fixture
def jfk_voice(client: TestClient, testdata_dir: Path) -> tuple[dict[str, str], int]:
    headers = auth_headers(client)
    response = create_voice(client, headers, testdata_dir / "jfk.flac", name="JFK", language="en")
    assert response.status_code == 201, response.text
    return headers, int(response.json()["id"])


def clone(client: TestClient, ctx: WorkerContext, headers: dict[str, str], **body: Any) -> Job:
    response = client.post("/api/v1/voice/clone/", headers=headers, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job = reload(ctx, job_id)
    run_job(
        ctx,
        job_id=job_id,
        task_id=str(job.task_id),
        step_weights=voice_service.step_weights,
        process=lambda j, hook: _process(ctx, j, hook),
    )
    return reload(ctx, job_id)


def audio_of(ctx: WorkerContext, job: Job, name: str) -> np.ndarray:
    with ctx.storage.open_local(job.artifacts[name]) as path:
        return decode_audio(path)


def normalised(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def test_clone_is_intelligible_and_closer_than_the_stock_voice(
    client: TestClient,
    ctx: WorkerContext,
    jfk_voice: tuple[dict[str, str], int],
    whisper_base: FasterWhisperTranscriber,
) -> None:
    headers, voice_id = jfk_voice
    done = clone(client, ctx, headers, voice_id=voice_id, input_text=FOX)

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    result = done.result or {}
    assert result["engine_kind"] == "voice matching" and result["sentences"] == 1
    speech = audio_of(ctx, done, "speech.wav")
    assert abs(speech.size / 16000 - result["duration"]) < 0.05 and speech.size > 16000
    segments, _ = whisper_base.transcribe(speech, TranscriptionOptions(language="en"))
    heard = " ".join(segment.text for segment in segments)
    assert jiwer.wer(normalised(FOX), normalised(heard)) <= 0.10, heard

    # Faster speech stays intelligible (over two sentences, so that one misheard word is not 11 % of them).
    text = f"{FOX} Please send the report to the committee before the end of the week."
    paces = [clone(client, ctx, headers, voice_id=voice_id, input_text=text, speed=speed) for speed in (1.0, 1.5)]
    natural, fast = (audio_of(ctx, job, "speech.wav") for job in paces)
    assert fast.size * 1.5 == pytest.approx(natural.size, rel=0.03)
    segments, _ = whisper_base.transcribe(fast, TranscriptionOptions(language="en"))
    heard = " ".join(segment.text for segment in segments)
    assert jiwer.wer(normalised(text), normalised(heard)) <= 0.10, heard

    with ctx.session_factory() as session:
        profile = session.get(VoiceProfile, voice_id)
        assert profile is not None
        embedding = np.asarray(profile.embedding, dtype=np.float32)
        assert result["stock_voice"] == profile.conditioning[result["engine"]]["en"]["stock_voice"]
    engine, voice = result["stock_voice"].split(":")
    stock = ctx.engines.synthesizer(engine).synthesize(FOX, language="en", voice=voice)
    stock_16k = np.asarray(soxr.resample(stock.samples, stock.sample_rate, 16000), dtype=np.float32)
    stock_similarity = float(ctx.engines.embedder().embed(stock_16k) @ embedding)
    assert result["speaker_similarity"] > stock_similarity + 0.05, (result["speaker_similarity"], stock_similarity)


def test_formats_speed_and_long_texts(
    client: TestClient, ctx: WorkerContext, jfk_voice: tuple[dict[str, str], int]
) -> None:
    """Three sentences at the natural pace as MP3, and faster and higher as OGG (WAV is every other test's)."""
    headers, voice_id = jfk_voice
    text = "First sentence is here. Second one follows! And a third, to be sure?"
    normal = clone(client, ctx, headers, voice_id=voice_id, input_text=text, output_format="mp3")
    fast = clone(client, ctx, headers, voice_id=voice_id, input_text=text, output_format="ogg", speed=1.5, pitch=3)

    for job, fmt in ((normal, "mp3"), (fast, "ogg")):
        assert job.status == JobStatus.COMPLETED, (job.error_code, job.error_message)
        assert (job.result or {})["sentences"] == 3
        decoded = audio_of(ctx, job, f"speech.{fmt}")
        assert abs(decoded.size / 16000 - (job.result or {})["duration"]) < 0.1
    # Speech and pauses alike are replayed at the pace asked for, so the length follows it closely.
    assert (fast.result or {})["duration"] * 1.5 == pytest.approx((normal.result or {})["duration"], rel=0.03)
    status = client.get(f"/api/v1/voice/clone/{normal.id}/status", headers=headers).json()
    assert status["task_status"]["state"] == "SUCCESS" and status["task_status"]["progress"] == 100.0
    assert status["output_url"] and status["result"]["speaker_similarity"] > 0


def test_a_deleted_voice_fails_the_job_clearly(
    client: TestClient, ctx: WorkerContext, jfk_voice: tuple[dict[str, str], int]
) -> None:
    headers, voice_id = jfk_voice
    response = client.post("/api/v1/voice/clone/", headers=headers, json={"voice_id": voice_id, "input_text": FOX})
    job_id = response.json()["id"]
    assert client.delete(f"/api/v1/voice/voices/{voice_id}", headers=headers).status_code == 204
    job = reload(ctx, job_id)
    run_job(
        ctx,
        job_id=job_id,
        task_id=str(job.task_id),
        step_weights=voice_service.step_weights,
        process=lambda j, hook: _process(ctx, j, hook),
    )
    failed = reload(ctx, job_id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "NOT_FOUND"
    for retry in (f"/api/v1/voice/clone/{job_id}/retry", f"/api/v1/jobs/{job_id}/retry"):
        refused = client.post(retry, headers=headers)
        assert refused.status_code == 409
        assert_error(refused.json(), "JOB_INPUT_GONE")
        assert refused.json()["details"]["voice_ids"] == [voice_id]
    assert reload(ctx, job_id).status == JobStatus.FAILED
