"""Submitting speaker analysis jobs through the API, against real PostgreSQL, Redis (broker) and local storage.

No worker runs here: these tests stop at the queue. Processing is covered in tests/workers and tests/integration.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from fastapi.testclient import TestClient

from app.core.config import QUEUE_SPEAKER, Settings
from tests.api.test_translation import stored_files
from tests.utils import assert_error, auth_headers, create_voice

DIARIZE = "/api/v1/speaker/diarize"
EXTRACT = "/api/v1/speaker/extract"


def submit(client: TestClient, url: str, headers: dict[str, str], path: Path, **form: Any) -> Any:
    with path.open("rb") as file:
        return client.post(url, headers=headers, files={"file": (path.name, file)}, data=form)


def queued(settings: Settings) -> list[dict[str, Any]]:
    raw = cast(list[bytes], redis.Redis.from_url(settings.broker_url).lrange(QUEUE_SPEAKER, 0, -1))
    return [json.loads(message) for message in raw]


def test_diarization_job_is_queued_on_the_speaker_queue(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    response = submit(
        client, DIARIZE, headers, testdata_dir / "ami_dev00.wav", min_speakers=1, max_speakers=4, transcribe=True
    )

    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "diarization" and job["status"] == "pending"
    assert job["options"] == {
        "num_speakers": None,
        "min_speakers": 1,
        "max_speakers": 4,
        "transcribe": True,
        "language": None,
        "known_voices": [],
    }
    assert job["segments"] == [] and job["tracks"] == {} and job["rttm_url"] is None
    [message] = queued(settings)
    assert message["headers"]["task"] == "app.workers.speaker.diarize"
    assert json.loads(base64.b64decode(message["body"]))[0] == [job["id"]]

    fetched = client.get(f"/api/v1/speaker/jobs/{job['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.json()["id"] == job["id"]
    assert [j["id"] for j in client.get("/api/v1/speaker/jobs/", headers=headers).json()] == [job["id"]]
    rttm = client.get(f"/api/v1/speaker/jobs/{job['id']}/rttm", headers=headers, follow_redirects=False)
    assert rttm.status_code == 409
    assert_error(rttm.json(), "INVALID_JOB_STATE")


def test_extraction_job_takes_a_format(client: TestClient, settings: Settings, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    response = submit(client, EXTRACT, headers, testdata_dir / "jfk.flac", num_speakers=1, output_format="ogg")
    assert response.status_code == 202, response.text
    assert response.json()["kind"] == "speaker_extraction"
    assert response.json()["options"]["output_format"] == "ogg"
    assert queued(settings)[0]["headers"]["task"] == "app.workers.speaker.extract"


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"num_speakers": 0}, "VALIDATION_ERROR"),
        ({"num_speakers": 21}, "VALIDATION_ERROR"),
        ({"num_speakers": -3}, "VALIDATION_ERROR"),
        ({"min_speakers": 4, "max_speakers": 2}, "INVALID_INPUT"),
        ({"num_speakers": 5, "max_speakers": 3}, "INVALID_INPUT"),
        ({"num_speakers": "two"}, "VALIDATION_ERROR"),
        ({"transcribe": True, "language": "xx"}, "UNSUPPORTED_LANGUAGE"),
        ({"known_voices": "1;2"}, "VALIDATION_ERROR"),
        ({"known_voices": "one"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_stored(
    client: TestClient, settings: Settings, testdata_dir: Path, form: dict[str, Any], code: str
) -> None:
    response = submit(client, DIARIZE, auth_headers(client), testdata_dir / "jfk.flac", **form)
    assert response.status_code == 422, response.text
    assert_error(response.json(), code)
    assert stored_files(settings) == [] and queued(settings) == []


def test_corrupt_and_empty_files_are_invalid_audio(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    headers = auth_headers(client)
    for content in (b"definitely not audio" * 100, b""):
        path = tmp_path / "bad.wav"
        path.write_bytes(content)
        response = submit(client, DIARIZE, headers, path)
        assert response.status_code == 422, response.text
        assert_error(response.json(), "INVALID_AUDIO")
    assert stored_files(settings) == []


def test_another_users_speaker_job_is_not_found(client: TestClient, testdata_dir: Path) -> None:
    job = submit(client, DIARIZE, auth_headers(client), testdata_dir / "jfk.flac").json()
    intruder = auth_headers(client)
    for method, path in (
        ("get", f"/api/v1/speaker/jobs/{job['id']}"),
        ("get", f"/api/v1/speaker/jobs/{job['id']}/rttm"),
        ("post", f"/api/v1/speaker/jobs/{job['id']}/cancel"),
        ("post", f"/api/v1/speaker/jobs/{job['id']}/retry"),
    ):
        response = client.request(method, path, headers=intruder, follow_redirects=False)
        assert response.status_code == 404, (path, response.text)
        assert_error(response.json(), "NOT_FOUND")
    assert client.get("/api/v1/speaker/jobs/", headers=intruder).json() == []


def test_a_translation_job_is_not_a_speaker_job(client: TestClient, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    with (testdata_dir / "jfk.flac").open("rb") as file:
        job = client.post("/api/v1/translation/translate/", headers=headers, files={"file": ("jfk.flac", file)}).json()
    assert client.get(f"/api/v1/speaker/jobs/{job['id']}", headers=headers).status_code == 404


def test_cancel_then_retry(client: TestClient, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    job = submit(client, DIARIZE, headers, testdata_dir / "jfk.flac").json()
    cancelled = client.post(f"/api/v1/speaker/jobs/{job['id']}/cancel", headers=headers).json()
    assert cancelled["status"] == "cancelled"
    retried = client.post(f"/api/v1/speaker/jobs/{job['id']}/retry", headers=headers).json()
    assert retried["status"] == "pending" and retried["task_id"] != job["task_id"]


def test_known_voices_must_be_your_own(client: TestClient, settings: Settings, testdata_dir: Path) -> None:
    owner = auth_headers(client)
    voice = create_voice(client, owner, testdata_dir / "jfk.flac", name="JFK").json()
    response = submit(client, DIARIZE, auth_headers(client), testdata_dir / "jfk.flac", known_voices=str(voice["id"]))
    assert response.status_code == 404
    assert_error(response.json(), "NOT_FOUND")
    accepted = submit(client, DIARIZE, owner, testdata_dir / "jfk.flac", known_voices=f"{voice['id']}, {voice['id']}")
    assert accepted.status_code == 202 and accepted.json()["options"]["known_voices"] == [voice["id"]]


def test_a_deleted_voice_blocks_a_clone_retry_but_not_a_diarization_that_named_it(
    client: TestClient, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    voice = create_voice(client, headers, testdata_dir / "jfk.flac", name="JFK").json()
    diarization = submit(client, DIARIZE, headers, testdata_dir / "jfk.flac", known_voices=str(voice["id"])).json()
    clone = client.post("/api/v1/voice/clone/", headers=headers, json={"voice_id": voice["id"], "input_text": "Hi."})
    for cancel in (f"/api/v1/speaker/jobs/{diarization['id']}/cancel", f"/api/v1/jobs/{clone.json()['id']}/cancel"):
        assert client.post(cancel, headers=headers).status_code == 200
    assert client.delete(f"/api/v1/voice/voices/{voice['id']}", headers=headers).status_code == 204

    # Known voices only name speakers: the diarization runs with whichever remain.
    retried = client.post(f"/api/v1/speaker/jobs/{diarization['id']}/retry", headers=headers)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    refused = client.post(f"/api/v1/jobs/{clone.json()['id']}/retry", headers=headers)
    assert refused.status_code == 409
    assert_error(refused.json(), "JOB_INPUT_GONE")
    # A job in the wrong state is told so first, whatever became of its voice.
    assert_error(client.post(f"/api/v1/jobs/{diarization['id']}/retry", headers=headers).json(), "INVALID_JOB_STATE")
