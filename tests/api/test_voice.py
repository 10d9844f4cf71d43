"""Voice profiles and cloning submissions through the API, against real PostgreSQL, Redis and local storage.

Profiles are checked and cleaned in the API process with the real bundled models; cloning stops at the queue here
(tests/workers runs the jobs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.deps import get_storage
from app.core.config import Settings
from app.engines.synthesis import VOICE_CATALOGUE
from app.pipelines.audio import decode_audio
from app.pipelines.encode import encode_audio
from app.storage.base import StorageUnavailable
from tests.api.test_translation import stored_files
from tests.utils import assert_error, auth_headers, create_voice

VOICES = "/api/v1/voice/voices/"
CLONE = "/api/v1/voice/clone/"


@pytest.fixture
def jfk_voice(client: TestClient, testdata_dir: Path) -> tuple[dict[str, str], dict[str, Any]]:
    headers = auth_headers(client)
    response = create_voice(client, headers, testdata_dir / "jfk.flac")
    assert response.status_code == 201, response.text
    return headers, response.json()


def test_profile_lifecycle(
    client: TestClient, settings: Settings, jfk_voice: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, voice = jfk_voice
    assert voice["name"] == "John's Voice" and voice["language"] == "en" and voice["consent"] is True
    assert voice["file_path"].endswith("/reference.wav") and 8.0 < voice["speech_seconds"] <= 11.0
    assert voice["quality"]["speakers_found"] == 1
    reference = client.get(voice["reference_url"])
    assert reference.status_code == 200 and reference.content[:4] == b"RIFF"

    assert [v["id"] for v in client.get(VOICES, headers=headers).json()] == [voice["id"]]
    patched = client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"name": "JFK", "language": "es"})
    assert patched.status_code == 200 and patched.json()["name"] == "JFK" and patched.json()["language"] == "es"
    assert client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"language": "xx"}).status_code == 422
    cleared = client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"description": None})
    assert cleared.status_code == 200 and cleared.json()["description"] is None
    for required in ("name", "language"):
        refused = client.patch(f"{VOICES}{voice['id']}", headers=headers, json={required: None})
        assert_error(refused.json(), "INVALID_INPUT")
        assert refused.status_code == 422 and refused.json()["details"] == {"field": required}
    assert client.get(f"{VOICES}{voice['id']}", headers=headers).json()["name"] == "JFK"

    assert client.delete(f"{VOICES}{voice['id']}", headers=headers).status_code == 204
    assert client.get(f"{VOICES}{voice['id']}", headers=headers).status_code == 404
    assert stored_files(settings) == []  # original and cleaned reference are gone


def test_a_storage_outage_during_deletion_keeps_the_profile_to_delete_again(
    client: TestClient, settings: Settings, jfk_voice: tuple[dict[str, str], dict[str, Any]]
) -> None:
    """Its audio must never outlive the profile: were the row deleted first, nothing could delete the audio later."""
    headers, voice = jfk_voice
    stored = stored_files(settings)
    app = cast(FastAPI, client.app)

    class Outage:  # a fake: a storage backend that is down, which a test cannot bring about for real
        def __getattr__(self, name: str) -> Any:
            raise StorageUnavailable()

    app.dependency_overrides[get_storage] = Outage
    try:
        refused = client.delete(f"{VOICES}{voice['id']}", headers=headers)
    finally:
        app.dependency_overrides.clear()

    assert refused.status_code == 503 and refused.json()["error_code"] == "STORAGE_UNAVAILABLE"
    assert client.get(f"{VOICES}{voice['id']}", headers=headers).status_code == 200
    assert stored_files(settings) == stored
    assert client.delete(f"{VOICES}{voice['id']}", headers=headers).status_code == 204
    assert stored_files(settings) == []


def test_cloning_job_is_queued_and_audited(
    client: TestClient, jfk_voice: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, voice = jfk_voice
    body = {"voice_id": voice["id"], "input_text": "Hello, this is a test of voice cloning.", "speed": 1.2, "pitch": -2}
    response = client.post(CLONE, headers=headers, json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["status"] == "pending" and job["voice_id"] == voice["id"] and job["task_id"]
    assert job["input_text"] == body["input_text"] and job["language"] == "en"

    status = client.get(f"/api/v1/voice/clone/{job['id']}/status", headers=headers).json()
    assert status["job_id"] == job["id"] and status["task_status"]["state"] == "PENDING"
    assert status["output_url"] is None

    [use] = client.get(f"{VOICES}{voice['id']}/uses", headers=headers).json()
    assert use["job_id"] == job["id"] and use["text_chars"] == len(body["input_text"]) and len(use["text_sha256"]) == 64

    batch = client.post(
        "/api/v1/voice/clone/batch/", headers=headers, json={"voice_ids": [voice["id"]], "texts": ["One.", "Two."]}
    )
    assert batch.status_code == 202, batch.text
    assert len(batch.json()["jobs"]) == 2 and len({j["batch_id"] for j in batch.json()["jobs"]}) == 1
    followed = client.get(f"/api/v1/voice/clone/batch/{batch.json()['batch_id']}", headers=headers).json()
    assert [j["id"] for j in followed["jobs"]] == [j["id"] for j in batch.json()["jobs"]]
    assert followed["status"] == "pending" and followed["counts"] == {"pending": 2} and followed["progress"] == 0
    trail = client.get(f"{VOICES}{voice['id']}/uses", headers=headers).json()
    page = client.get(f"{VOICES}{voice['id']}/uses", headers=headers, params={"limit": 2, "offset": 1})
    assert len(trail) == 3 and [use["job_id"] for use in page.json()] == [use["job_id"] for use in trail[1:3]]
    assert page.headers["X-Total-Count"] == "3"
    stranger = client.get(f"/api/v1/voice/clone/batch/{batch.json()['batch_id']}", headers=auth_headers(client))
    assert stranger.status_code == 404
    for malformed in ("abc%00def", "not-a-batch", batch.json()["batch_id"].upper()):
        assert client.get(f"/api/v1/voice/clone/batch/{malformed}", headers=headers).status_code == 422

    # A retry speaks the text again: the trail records it as a use of its own.
    assert client.post(f"{CLONE}{job['id']}/cancel", headers=headers).status_code == 200
    assert client.post(f"{CLONE}{job['id']}/retry", headers=headers).status_code == 200
    trail = client.get(f"{VOICES}{voice['id']}/uses", headers=headers).json()
    assert [use["job_id"] for use in trail].count(job["id"]) == 2 and len(trail) == 4


def test_no_consent_and_bad_samples_store_nothing(
    client: TestClient, settings: Settings, testdata_dir: Path, tmp_path: Path
) -> None:
    headers = auth_headers(client)
    refused = create_voice(client, headers, testdata_dir / "jfk.flac", consent="false")
    assert refused.status_code == 422
    assert_error(refused.json(), "CONSENT_REQUIRED")

    not_audio = tmp_path / "notes.wav"
    not_audio.write_bytes(b"this is not audio at all" * 50)
    assert_error(create_voice(client, headers, not_audio).json(), "INVALID_AUDIO")

    short = tmp_path / "short.wav"
    encode_audio(decode_audio(testdata_dir / "jfk.flac")[32000:40000], 16000, "wav", short)
    response = create_voice(client, headers, short)
    assert response.status_code == 422
    assert_error(response.json(), "INVALID_VOICE_SAMPLE")
    assert response.json()["details"]["problem"] == "too_short"

    unsupported = create_voice(client, headers, testdata_dir / "jfk.flac", language="de")
    assert unsupported.status_code == 422
    assert_error(unsupported.json(), "UNSUPPORTED_LANGUAGE")
    assert stored_files(settings) == []
    assert client.get(VOICES, headers=headers).json() == []


BAD_CLONE_REQUESTS: list[tuple[dict[str, Any], str]] = [
    ({"input_text": ""}, "VALIDATION_ERROR"),
    ({"input_text": "   "}, "VALIDATION_ERROR"),
    ({"input_text": "... ?!"}, "VALIDATION_ERROR"),
    ({"input_text": "x" * 5001}, "VALIDATION_ERROR"),
    ({"speed": 0.4}, "VALIDATION_ERROR"),
    ({"speed": 2.5}, "VALIDATION_ERROR"),
    ({"pitch": 13}, "VALIDATION_ERROR"),
    ({"language": "de"}, "UNSUPPORTED_LANGUAGE"),
    ({"output_format": "flac"}, "VALIDATION_ERROR"),
    ({"input_text": "Hello\x00 world."}, "VALIDATION_ERROR"),
    ({"input_text": "Bell\x07."}, "VALIDATION_ERROR"),
]


def test_bad_clone_requests(client: TestClient, jfk_voice: tuple[dict[str, str], dict[str, Any]]) -> None:
    """Every bad request against one profile (making a profile per case costs seconds each)."""
    headers, voice = jfk_voice
    for change, code in BAD_CLONE_REQUESTS:
        body = {"voice_id": voice["id"], "input_text": "Fine.", **change}
        response = client.post(CLONE, headers=headers, json=body)
        assert response.status_code == 422, (change, response.text)
        assert_error(response.json(), code)
    assert client.get(f"{VOICES}{voice['id']}/uses", headers=headers).json() == []


def test_blank_names_and_control_characters_are_refused_before_anything_is_stored(
    client: TestClient, settings: Settings, testdata_dir: Path, jfk_voice: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, voice = jfk_voice
    for form in ({"name": "John\x00"}, {"description": "line\x1bone"}):
        assert_error(create_voice(client, headers, testdata_dir / "jfk.flac", **form).json(), "VALIDATION_ERROR")
    blank = create_voice(client, headers, testdata_dir / "jfk.flac", name="   ").json()
    assert_error(blank, "VALIDATION_ERROR")
    assert blank["details"]["type"] == "string_too_short"  # as the JSON routes word it
    next_line = create_voice(client, headers, testdata_dir / "jfk.flac", name="Next\x85line").json()
    assert_error(next_line, "VALIDATION_ERROR")
    for name in ("A\x00B", "  "):
        patched = client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"name": name})
        assert patched.status_code == 422
        assert_error(patched.json(), "VALIDATION_ERROR")
    for body in (
        {"voice_ids": [voice["id"]], "texts": ["Fine.", "\x00"]},
        {"voice_ids": [voice["id"]], "texts": ["Fine.", "   "]},
        {"voice_ids": [voice["id"]] * 2, "texts": ["A."]},
        {"voice_ids": [voice["id"], 2**63], "texts": ["A."]},  # no such id can exist, nor be looked up
        {"voice_ids": [0], "texts": ["A."]},
    ):
        batch = client.post("/api/v1/voice/clone/batch/", headers=headers, json=body)
        assert batch.status_code == 422
        assert_error(batch.json(), "VALIDATION_ERROR")
    # A name is shown as one line (speaker labels in subtitles): its line breaks become spaces.
    one_line = client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"name": "Ann\n\n  Lee"})
    assert one_line.status_code == 200 and one_line.json()["name"] == "Ann Lee"
    client.patch(f"{VOICES}{voice['id']}", headers=headers, json={"name": "John's Voice"})
    # Line breaks and tabs are ordinary text.
    fine = client.post(CLONE, headers=headers, json={"voice_id": voice["id"], "input_text": "One.\n\tTwo.\r\n"})
    assert fine.status_code == 202, fine.text
    assert [v["name"] for v in client.get(VOICES, headers=headers).json()] == ["John's Voice"]


def test_other_users_voice_and_jobs_are_not_found(
    client: TestClient, jfk_voice: tuple[dict[str, str], dict[str, Any]]
) -> None:
    headers, voice = jfk_voice
    job = client.post(CLONE, headers=headers, json={"voice_id": voice["id"], "input_text": "Mine."}).json()
    intruder = auth_headers(client)
    for method, path, body in (
        ("get", f"{VOICES}{voice['id']}", None),
        ("patch", f"{VOICES}{voice['id']}", {"name": "stolen"}),
        ("delete", f"{VOICES}{voice['id']}", None),
        ("get", f"{VOICES}{voice['id']}/uses", None),
        ("post", CLONE, {"voice_id": voice["id"], "input_text": "Not yours."}),
        ("get", f"/api/v1/voice/clone/{job['id']}/status", None),
        ("post", f"/api/v1/voice/clone/{job['id']}/retry", None),
    ):
        response = client.request(method, path, headers=intruder, json=body)
        assert response.status_code == 404, (path, response.text)
        assert_error(response.json(), "NOT_FOUND")
    assert client.post(CLONE, headers=headers, json={"voice_id": 999999, "input_text": "Who?"}).status_code == 404
    assert client.get(f"{VOICES}{voice['id']}", headers=headers).json()["name"] == "John's Voice"


def test_engines_are_listed_honestly(client: TestClient) -> None:
    engines = client.get("/api/v1/voice/engines").json()
    default = next(engine for engine in engines if engine["default"])
    assert default["kind"] == "voice matching" and "XTTS" not in default["name"]
    assert "en" in default["languages"] and default["licence"]
    assert all(not engine["clones"] for engine in engines if engine["kind"] == "stock voice")
    # Each stock voice lists every language it dubs (the catalogue picks one voice for both Spanish and Portuguese).
    stock = {engine["name"]: engine["languages"] for engine in engines if engine["kind"] == "stock voice"}
    assert sorted(language for languages in stock.values() for language in languages) == sorted(VOICE_CATALOGUE)
    for language, choice in VOICE_CATALOGUE.items():
        assert language in stock[f"{choice.engine}:{choice.voice}"]
