"""Submitting transcription jobs through the API, against real PostgreSQL, Redis (broker) and local storage.

No worker runs here: these tests stop at the queue. Processing is covered in tests/workers and tests/integration.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import cast

import pytest
import redis
from fastapi.testclient import TestClient

from app.core.config import QUEUE_TRANSLATION, Settings
from app.main import create_app
from tests.conftest import SettingsFactory
from tests.media import write_video
from tests.utils import assert_error, auth_headers

URL = "/api/v1/translation/translate/"


def stored_files(settings: Settings) -> list[Path]:
    root = settings.storage_root
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def queued_messages(redis_url: str) -> list[dict[str, object]]:
    client = redis.Redis.from_url(redis_url)
    raw_messages = cast(list[bytes], client.lrange(QUEUE_TRANSLATION, 0, -1))
    return [json.loads(raw) for raw in raw_messages]


def upload(client: TestClient, headers: dict[str, str], path: Path, **form: str) -> dict[str, object]:
    with path.open("rb") as file:
        response = client.post(URL, headers=headers, files={"file": (path.name, file, "audio/flac")}, data=form)
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


def test_upload_creates_a_pending_job_and_enqueues_it_after_commit(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    job = upload(client, headers, testdata_dir / "jfk.flac")
    assert job["status"] == "pending" and job["source_language"] is None and job["target_language"] is None
    assert job["input_filename"] == "jfk.flac" and job["duration"] == pytest.approx(11.0, abs=0.1)

    [message] = queued_messages(settings.broker_url)
    assert message["headers"]["task"] == "app.workers.translation.transcribe"  # type: ignore[index]
    assert message["headers"]["id"] == job["task_id"]  # type: ignore[index]
    assert json.loads(base64.b64decode(message["body"]))[0] == [job["id"]]  # type: ignore[arg-type]

    [stored] = stored_files(settings)
    assert stored.read_bytes() == (testdata_dir / "jfk.flac").read_bytes()

    fetched = client.get(f"/api/v1/translation/translations/{job['id']}", headers=headers)
    assert fetched.status_code == 200 and fetched.json()["status"] == "pending"


def test_another_users_job_is_not_found(client: TestClient, testdata_dir: Path) -> None:
    owner, other = auth_headers(client), auth_headers(client)
    job = upload(client, owner, testdata_dir / "jfk.flac")
    for method, path in (
        ("GET", f"/api/v1/translation/translations/{job['id']}"),
        ("POST", f"/api/v1/translation/translations/{job['id']}/cancel"),
        ("POST", f"/api/v1/translation/translations/{job['id']}/retry"),
        ("GET", f"/api/v1/translation/translations/{job['id']}/transcript"),
        ("GET", f"/api/v1/jobs/{job['id']}"),
    ):
        response = client.request(method, path, headers=other)
        assert response.status_code == 404, (method, path)
        assert_error(response.json(), "NOT_FOUND")
    assert client.get("/api/v1/jobs/", headers=other).json() == {"data": [], "count": 0}
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=owner).json()["status"] == "pending"


@pytest.mark.parametrize(
    ("content", "error_code", "status"),
    [
        (b"", "INVALID_AUDIO", 422),
        (b"this is not audio at all, just text pretending" * 50, "INVALID_AUDIO", 422),
        (b"fLaC\x00\x00\x00\x22" + bytes(range(256)) * 40, "INVALID_AUDIO", 422),
    ],
    ids=["empty", "text", "corrupt-flac"],
)
def test_undecodable_uploads_are_refused_and_nothing_is_stored(
    client: TestClient, settings: Settings, content: bytes, error_code: str, status: int
) -> None:
    headers = auth_headers(client)
    response = client.post(URL, headers=headers, files={"file": ("clip.flac", content, "audio/flac")})
    assert response.status_code == status, response.text
    assert_error(response.json(), error_code)
    assert stored_files(settings) == []
    assert queued_messages(settings.broker_url) == []
    assert client.get("/api/v1/jobs/", headers=headers).json()["count"] == 0


def test_truncated_real_audio_is_refused(client: TestClient, settings: Settings, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    head = (testdata_dir / "jfk.flac").read_bytes()[:600]
    response = client.post(URL, headers=headers, files={"file": ("jfk.flac", head, "audio/flac")})
    assert response.status_code == 422
    assert_error(response.json(), "INVALID_AUDIO")
    assert stored_files(settings) == []


def test_oversize_upload_is_413_and_leaves_nothing(make_settings: SettingsFactory, testdata_dir: Path) -> None:
    settings = make_settings(max_upload_bytes=200_000)
    with TestClient(create_app(settings)) as client:
        headers = auth_headers(client)
        with (testdata_dir / "jfk.flac").open("rb") as file:  # 1.1 MB, well over the cap
            response = client.post(URL, headers=headers, files={"file": ("jfk.flac", file, "audio/flac")})
        assert response.status_code == 413
        assert_error(response.json(), "PAYLOAD_TOO_LARGE")
        assert client.get("/api/v1/jobs/", headers=headers).json()["count"] == 0
    assert stored_files(settings) == []


def test_file_just_over_the_cap_within_the_form_allowance_is_still_refused(
    make_settings: SettingsFactory, testdata_dir: Path
) -> None:
    size = (testdata_dir / "jfk.flac").stat().st_size
    settings = make_settings(max_upload_bytes=size - 1000)  # the body passes the middleware; storage enforces
    with TestClient(create_app(settings)) as client:
        headers = auth_headers(client)
        with (testdata_dir / "jfk.flac").open("rb") as file:
            response = client.post(URL, headers=headers, files={"file": ("jfk.flac", file, "audio/flac")})
        assert response.status_code == 413
        assert_error(response.json(), "PAYLOAD_TOO_LARGE")
    assert stored_files(settings) == []


def test_language_validation(client: TestClient, settings: Settings, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    with (testdata_dir / "jfk.flac").open("rb") as file:
        bad_source = client.post(URL, headers=headers, files={"file": file}, data={"source_language": "xx"})
    assert bad_source.status_code == 422
    assert_error(bad_source.json(), "UNSUPPORTED_LANGUAGE")
    with (testdata_dir / "jfk.flac").open("rb") as file:
        target = client.post(URL, headers=headers, files={"file": file}, data={"target_language": "es"})
    assert target.status_code == 422
    assert_error(target.json(), "UNSUPPORTED_LANGUAGE_PAIR")
    assert stored_files(settings) == []

    job = upload(client, headers, testdata_dir / "jfk.flac", source_language="EN")
    assert job["source_language"] == "en"


def test_missing_file_and_wrong_content_type_are_validation_errors(client: TestClient) -> None:
    headers = auth_headers(client)
    response = client.post(URL, headers=headers, json={"source_language": "en"})
    assert response.status_code == 422
    assert_error(response.json(), "VALIDATION_ERROR")


def test_cancel_and_retry_rules(client: TestClient, settings: Settings, testdata_dir: Path) -> None:
    headers = auth_headers(client)
    job = upload(client, headers, testdata_dir / "jfk.flac")
    base = f"/api/v1/translation/translations/{job['id']}"

    premature = client.post(f"{base}/retry", headers=headers)
    assert premature.status_code == 409
    assert_error(premature.json(), "INVALID_JOB_STATE")

    cancelled = client.post(f"{base}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"{base}/cancel", headers=headers).json()["status"] == "cancelled"  # idempotent

    retried = client.post(f"{base}/retry", headers=headers)
    assert retried.status_code == 200
    assert retried.json()["status"] == "pending" and retried.json()["task_id"] != job["task_id"]
    assert [m["headers"]["id"] for m in queued_messages(settings.broker_url)] == [  # type: ignore[index]
        retried.json()["task_id"],
        job["task_id"],
    ]

    transcript = client.get(f"{base}/transcript", headers=headers)
    assert transcript.status_code == 409
    assert_error(transcript.json(), "INVALID_JOB_STATE")


def test_unknown_route_and_wrong_method_use_the_error_format(client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert_error(missing.json(), "NOT_FOUND")
    wrong = client.delete("/api/v1/auth/token")
    assert wrong.status_code == 405
    assert_error(wrong.json(), "METHOD_NOT_ALLOWED")
    bad_id = client.get("/api/v1/jobs/abc", headers=auth_headers(client))
    assert bad_id.status_code == 422
    assert_error(bad_id.json(), "VALIDATION_ERROR")


def test_video_without_an_audio_track_is_unsupported_media(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    video = tmp_path / "silent.mp4"
    write_video(video, speech=None)
    response = client.post(URL, headers=auth_headers(client), files={"file": ("silent.mp4", video.read_bytes())})
    assert response.status_code == 415
    assert_error(response.json(), "UNSUPPORTED_MEDIA_TYPE")
    assert stored_files(settings) == []


def test_long_client_file_names_are_kept_within_bounds(client: TestClient, testdata_dir: Path) -> None:
    name = "a" * 400 + ".flac"
    response = client.post(
        URL, headers=auth_headers(client), files={"file": (name, (testdata_dir / "jfk.flac").read_bytes())}
    )
    assert response.status_code == 202
    assert response.json()["input_filename"] == name[:255]


def test_control_characters_in_client_file_names_are_dropped(client: TestClient, testdata_dir: Path) -> None:
    # Built by hand: HTTP clients percent-encode a NUL in a file name, but nothing stops a raw one arriving.
    boundary = "audio-api-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="jfk\x00\x1b.flac"\r\n'
            "Content-Type: audio/flac\r\n\r\n"
        ).encode()
        + (testdata_dir / "jfk.flac").read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {**auth_headers(client), "Content-Type": f"multipart/form-data; boundary={boundary}"}
    response = client.post(URL, headers=headers, content=body)
    assert response.status_code == 202, response.text
    assert response.json()["input_filename"] == "jfk.flac"


def test_out_of_range_ids_are_validation_errors(client: TestClient) -> None:
    headers = auth_headers(client)
    for path in (f"/api/v1/jobs/{2**63}", "/api/v1/translation/translations/0", "/api/v1/jobs/?offset=99999999999"):
        response = client.get(path, headers=headers)
        assert response.status_code == 422, path
        assert_error(response.json(), "VALIDATION_ERROR")
