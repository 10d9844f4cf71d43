"""The whole service as users run it: real processes, real broker, real model, no mocks.

- production shape: API server + Celery worker process on PostgreSQL, the Redis broker and pub/sub, and S3 (a
  real S3-compatible server);
- embedded shape: ``audio-api run`` exactly as ``make run`` starts it (SQLite, SQLite-backed broker, local files).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.s3 import ACCESS_KEY, REGION, SECRET_KEY, free_port, make_s3_client
from tests.integration.flow import (
    PHRASE,
    clone_over_the_api,
    diarize_over_the_api,
    transcribe_over_the_api,
    translate_url_over_the_api,
)
from tests.integration.processes import service_process, wait_for_api

pytestmark = pytest.mark.integration


def assert_progress_story(events: list[dict[str, Any]]) -> None:
    statuses = [event["status"] for event in events]
    assert statuses[-1] == "completed", statuses
    assert "processing" in statuses
    processing = [event for event in events if event["status"] == "processing"]
    assert any(event["details"]["step"] == "transcribing" for event in processing)
    assert all(set(event) >= {"job_id", "status", "progress", "details"} for event in events)
    assert all(set(event["details"]) >= {"step", "time_remaining"} for event in events)
    progress = [float(event["progress"]) for event in events]
    assert progress == sorted(progress) and progress[-1] == 100.0


def test_production_shape_postgres_redis_s3(
    tmp_path: Path,
    media_server: str,
    clean_postgres: str,
    clean_redis: str,
    s3_server: str,
    s3_bucket: str,
    model_cache_dir: Path,
    testdata_dir: Path,
) -> None:
    make_s3_client(s3_server).create_bucket(Bucket=s3_bucket)
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        "DATABASE_URL": clean_postgres,
        "REDIS_HOST": "127.0.0.1",
        "REDIS_DB": clean_redis.rsplit("/", 1)[1],
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": s3_bucket,
        "S3_ENDPOINT_URL": s3_server,
        "S3_ACCESS_KEY": ACCESS_KEY,
        "S3_SECRET_KEY": SECRET_KEY,
        "S3_REGION": REGION,
        "DATA_DIR": str(tmp_path / "data"),
        "MODEL_CACHE_DIR": str(model_cache_dir),
        "API_PORT": str(port),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "URL_FETCH_ALLOWED_NETWORKS": '["127.0.0.1/32"]',  # the test's media server is on loopback
        "RATE_LIMIT_AUTH": "20/minute",  # three journeys, each registering and logging in a user
    }
    logs = [tmp_path / "worker.log", tmp_path / "api.log"]
    base_url = f"http://127.0.0.1:{port}"
    with (
        service_process(["worker", "--queues", "translation-queue,speaker-queue"], env, logs[0]) as worker,
        service_process(["serve"], env, logs[1]) as api,
    ):
        wait_for_api(base_url, [worker, api], logs)
        health = httpx.get(f"{base_url}/api/v1/health").json()
        assert health["status"] == "healthy" and set(health["checks"]) == {"database", "broker", "storage"}

        job, events, transcript = transcribe_over_the_api(base_url, testdata_dir / "jfk.flac")

        assert PHRASE in transcript.lower()
        assert job["status"] == "completed" and job["detected_language"] == "en"
        assert job["transcript_url"].startswith(s3_server)  # a presigned S3 URL, not the API's download route
        assert set(job["transcript_urls"]) == {"txt", "srt", "vtt", "json"}
        assert_progress_story(events)

        metrics = httpx.get(f"{base_url}/metrics").text
        assert re.search(
            r'audio_api_job_processing_seconds_count\{kind="transcription",status="completed"\} 1', metrics
        )
        assert 'audio_api_model_inference_seconds_count{engine="faster-whisper:base"' in metrics
        assert 'audio_api_queue_jobs{queue="translation-queue",status="pending"} 0.0' in metrics
        assert "audio_api_http_request_duration_seconds_bucket" in metrics
        assert "audio_api_host_cpu_percent" in metrics

        translated = translate_url_over_the_api(base_url, f"{media_server}/jfk.flac", target_language="pt")
        assert translated["status"] == "completed" and translated["kind"] == "translation"
        assert translated["source_url"].endswith("/jfk.flac") and translated["input_filename"] == "jfk.flac"
        portuguese = httpx.get(translated["translation_url"]).text.lower()
        assert "país" in portuguese and "country" not in portuguese

        diarized, speaker_events, rttm = diarize_over_the_api(base_url, testdata_dir / "ami_dev00.wav")
        assert diarized["status"] == "completed" and diarized["num_speakers"] == 2
        assert {event["details"]["step"] for event in speaker_events if event["status"] == "processing"} >= {
            "segmenting",
            "embedding",
        }
        assert len(rttm.splitlines()) == len(diarized["segments"]) > 2
        assert diarized["rttm_url"].startswith(s3_server)


def test_embedded_mode_as_make_run_starts_it(tmp_path: Path, model_cache_dir: Path, testdata_dir: Path) -> None:
    port = free_port()
    env = {"DATA_DIR": str(tmp_path / "data"), "API_PORT": str(port), "MODEL_CACHE_DIR": str(model_cache_dir)}
    log = tmp_path / "run.log"
    base_url = f"http://127.0.0.1:{port}"
    with service_process(["run"], env, log) as service:
        wait_for_api(base_url, [service], [log])
        job, events, transcript = transcribe_over_the_api(base_url, testdata_dir / "jfk.flac")

        assert PHRASE in transcript.lower()
        assert job["transcript_url"].startswith("/api/v1/files/")  # the signed local download route
        assert_progress_story(events)
        metrics = httpx.get(f"{base_url}/metrics").text
        assert re.search(
            r'audio_api_job_processing_seconds_count\{kind="transcription",status="completed"\} 1', metrics
        )
        cloned, audio = clone_over_the_api(base_url, testdata_dir / "jfk.flac", "Ask what you can do.")
        assert cloned["task_status"]["state"] == "SUCCESS" and cloned["result"]["engine_kind"] == "voice matching"
        assert audio[:4] == b"RIFF" and len(audio) > 16000
    assert (tmp_path / "data" / "audio_api.db").is_file() and (tmp_path / "data" / "broker.db").is_file()
