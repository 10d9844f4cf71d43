"""Translation submissions through the API: what is refused up front, and batches (no worker runs here)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from app.core.config import Settings
from tests.api.test_translation import queued_messages, stored_files
from tests.media import write_video
from tests.utils import assert_error, auth_headers

URL = "/api/v1/translation/translate/"


def test_languages_tell_what_this_installation_can_do(client: TestClient) -> None:
    body = client.get("/api/v1/translation/languages").json()
    assert {"en", "de", "pt", "zh"} <= set(body["transcription"]) and len(body["transcription"]) > 90
    assert "yue" not in body["transcription"]  # Cantonese came with large-v3; the bundled base knows 99 languages
    cantonese = client.post(
        "/api/v1/translation/translate/",
        headers=auth_headers(client),
        files={"file": ("a.flac", b"fLaC")},
        data={"source_language": "yue"},
    )
    assert cantonese.status_code == 422 and cantonese.json()["details"]["field"] == "source_language"
    targets = {entry["target"]: entry for entry in body["translation"]}
    assert {"en", "pt"} <= set(targets)
    pt_sources = {source["source"]: source for source in targets["pt"]["sources"]}
    assert pt_sources["en"]["route"] == "direct"
    assert pt_sources["de"]["route"] == "via_english" and pt_sources["de"]["speech_translation"]
    assert "es" not in targets  # no installed engine translates into Spanish
    assert set(body["dubbing"]) >= {"en"}


def test_an_unreachable_target_is_refused_before_anything_is_stored(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    with (testdata_dir / "jfk.flac").open("rb") as file:
        response = client.post(URL, headers=headers, files={"file": file}, data={"target_language": "ja"})
    assert response.status_code == 422
    body = response.json()
    assert_error(body, "UNSUPPORTED_LANGUAGE_PAIR")
    assert body["message"] == "Nothing installed translates into 'ja'"  # the user named no source language
    assert "en→pt" in body["details"]["available_pairs"] and "source" not in body["details"]
    assert {"en", "pt"} <= set(body["details"]["reachable_targets"])
    with (testdata_dir / "jfk.flac").open("rb") as file:
        data = {"source_language": "de", "target_language": "ja"}
        named = client.post(URL, headers=headers, files={"file": file}, data=data).json()
    assert named["message"] == "Cannot translate de→ja" and named["details"]["source"] == "de"
    assert "de" not in named["details"]["reachable_targets"] and "pt" in named["details"]["reachable_targets"]
    assert stored_files(settings) == [] and queued_messages(settings.broker_url) == []


def test_translation_job_is_created_with_its_options(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    with (testdata_dir / "jfk.flac").open("rb") as file:
        response = client.post(
            URL, headers=headers, files={"file": file}, data={"target_language": "pt-BR", "output_format": "mp3"}
        )  # the variant GET /languages lists for Portuguese
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "translation" and job["target_language"] == "pt" and job["source_language"] is None
    [message] = queued_messages(settings.broker_url)
    assert message["headers"]["task"] == "app.workers.translation.translate"  # type: ignore[index]


def test_urls_are_checked_at_submission(client: TestClient, settings: Settings) -> None:
    headers = auth_headers(client)
    for url in ("http://127.0.0.1:8000/secret", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/a.mp3"):
        response = client.post(f"{URL}url/", headers=headers, json={"url": url, "target_language": "pt"})
        assert response.status_code == 422, url
        assert_error(response.json(), "URL_NOT_ALLOWED")
    bad_scheme = client.post(f"{URL}url/", headers=headers, json={"url": "ftp://example.com/a.mp3"})
    assert bad_scheme.status_code == 422
    assert queued_messages(settings.broker_url) == []


def test_batch_creates_one_job_per_file_under_one_id(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    audio = [(testdata_dir / name).read_bytes() for name in ("jfk.flac", "multilingual_en_de.mp3")]
    response = client.post(
        f"{URL}batch/",
        headers=headers,
        files=[("files[]", ("jfk.flac", audio[0])), ("files[]", ("talk.mp3", audio[1]))],
        data={"target_language": "pt"},
    )
    assert response.status_code == 202, response.text
    batch = response.json()
    assert [job["input_filename"] for job in batch["jobs"]] == ["jfk.flac", "talk.mp3"]
    assert {job["batch_id"] for job in batch["jobs"]} == {batch["batch_id"]}
    assert len(queued_messages(settings.broker_url)) == 2

    followed = client.get(f"/api/v1/translation/batches/{batch['batch_id']}", headers=headers).json()
    assert [job["id"] for job in followed["jobs"]] == [job["id"] for job in batch["jobs"]]
    assert followed["status"] == "pending" and followed["counts"] == {"pending": 2}
    other = client.get(f"/api/v1/translation/batches/{batch['batch_id']}", headers=auth_headers(client))
    assert other.status_code == 404
    malformed = client.get("/api/v1/translation/batches/abc%00def", headers=headers)  # PostgreSQL refuses a NUL
    assert malformed.status_code == 422 and malformed.json()["error_code"] == "VALIDATION_ERROR"


def test_one_bad_file_refuses_the_whole_batch(
    client: TestClient, settings: Settings, testdata_dir: Path, tmp_path: Path
) -> None:
    headers = auth_headers(client)
    response = client.post(
        f"{URL}batch/",
        headers=headers,
        files=[("files[]", ("jfk.flac", (testdata_dir / "jfk.flac").read_bytes())), ("files[]", ("x.mp3", b"junk"))],
    )
    assert response.status_code == 422
    body = response.json()
    assert_error(body, "INVALID_AUDIO")
    assert body["details"]["file_index"] == 1 and body["details"]["filename"] == "x.mp3"
    assert stored_files(settings) == [] and queued_messages(settings.broker_url) == []
    assert client.get("/api/v1/jobs/", headers=headers).json()["count"] == 0

    silent_film = tmp_path / "film.mp4"
    write_video(silent_film, speech=None)
    files = [("files[]", (name, (testdata_dir / "jfk.flac").read_bytes())) for name in ("a.flac", "b.flac")]
    response = client.post(
        f"{URL}batch/", headers=headers, files=[*files, ("files[]", ("film.mp4", silent_film.read_bytes()))]
    )
    assert response.status_code == 415
    assert response.json()["details"]["file_index"] == 2 and response.json()["details"]["filename"] == "film.mp4"
    assert stored_files(settings) == []


def test_an_overlong_language_is_a_validation_error_that_does_not_echo_it(
    client: TestClient, settings: Settings, testdata_dir: Path
) -> None:
    headers = auth_headers(client)
    for field in ("source_language", "target_language"):
        with (testdata_dir / "jfk.flac").open("rb") as file:
            response = client.post(URL, headers=headers, files={"file": file}, data={field: "x" * 100_000})
        assert response.status_code == 422
        assert_error(response.json(), "VALIDATION_ERROR")
        assert len(response.content) < 2_000
    url = client.post(
        f"{URL}url/", headers=headers, json={"url": "https://example.com/a.mp3", "target_language": "x" * 500}
    )
    assert_error(url.json(), "VALIDATION_ERROR")
    assert stored_files(settings) == [] and queued_messages(settings.broker_url) == []
