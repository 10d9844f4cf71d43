from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.core.security import ACCESS_TOKEN_TYPE, create_token
from app.services.downloads import download_signer
from app.storage import build_storage
from tests.utils import PASSWORD, assert_error, auth_headers, random_email, register


def test_register_returns_the_seed_shape(client: TestClient) -> None:
    email = random_email()
    response = client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "full_name": "John Doe"}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "full_name", "created_at"}
    assert body["email"] == email and body["full_name"] == "John Doe" and isinstance(body["id"], int)


def test_duplicate_email_is_a_conflict_case_insensitively(client: TestClient) -> None:
    email = register(client)
    response = client.post("/api/v1/auth/register", json={"email": email.upper(), "password": PASSWORD})
    assert response.status_code == 409
    assert_error(response.json(), "EMAIL_TAKEN")


def test_token_for_valid_credentials_and_401_otherwise(client: TestClient) -> None:
    email = register(client)
    ok = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "bearer" and ok.json()["access_token"].count(".") == 2

    for username, password in ((email, "wrong-password"), (random_email(), PASSWORD)):
        bad = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert bad.status_code == 401
        assert_error(bad.json(), "INVALID_CREDENTIALS")
        assert bad.headers["www-authenticate"] == "Bearer"


def test_the_password_form_may_be_posted_as_multipart(client: TestClient) -> None:
    """Browsers post ``FormData`` as multipart: signing in must not need the token it is there to get."""
    email = register(client)
    fields = {"username": (None, email), "password": (None, PASSWORD)}

    signed_in = client.post("/api/v1/auth/token", files=fields)

    assert signed_in.status_code == 200, signed_in.json()
    assert signed_in.json()["token_type"] == "bearer"
    # It is a form, not an upload: a body the size of a file is refused before it is read, as on any other form.
    huge = client.post("/api/v1/auth/token", files={**fields, "padding": (None, "x" * (2 * 1024 * 1024))})
    assert huge.status_code == 413
    register_as_multipart = client.post("/api/v1/auth/register", files={"email": (None, random_email())})
    assert register_as_multipart.status_code == 401  # only the sign-in form skips the upload gate


def test_weak_password_and_bad_email_are_validation_errors(client: TestClient) -> None:
    response = client.post("/api/v1/auth/register", json={"email": "not-an-email", "password": "short"})
    assert response.status_code == 422
    body = response.json()
    assert_error(body, "VALIDATION_ERROR")
    assert body["details"]["field"] == "email" and body["details"]["error"]  # the seed's shape: the first problem
    assert {problem["field"] for problem in body["details"]["errors"]} == {"email", "password"}


def test_malformed_json_says_where_it_broke(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", content=b'{"email": "a@b.org",,}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    details = response.json()["details"]
    assert details["field"] == "body"
    assert details["error"].startswith("Malformed JSON at character 20")


def test_protected_route_rejects_missing_bad_and_expired_tokens(client: TestClient, settings: Settings) -> None:
    assert_error(client.get("/api/v1/jobs/").json(), "NOT_AUTHENTICATED")

    bad = client.get("/api/v1/jobs/", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert_error(bad.json(), "INVALID_TOKEN")

    forged = create_token(
        "1",
        secret_key="another-key-of-a-proper-length-0123456789",
        token_type=ACCESS_TOKEN_TYPE,
        expires_in=timedelta(minutes=5),
    )
    assert_error(client.get("/api/v1/jobs/", headers={"Authorization": f"Bearer {forged}"}).json(), "INVALID_TOKEN")

    assert client.get("/api/v1/jobs/", headers=auth_headers(client)).status_code == 200
    expired = create_token(
        "1", secret_key=settings.secret_key, token_type=ACCESS_TOKEN_TYPE, expires_in=timedelta(seconds=-1)
    )
    response = client.get("/api/v1/jobs/", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert_error(response.json(), "TOKEN_EXPIRED")


def test_download_tokens_are_not_access_tokens(client: TestClient, settings: Settings) -> None:
    download = create_token("1", secret_key=settings.secret_key, token_type="download", expires_in=timedelta(minutes=5))
    response = client.get("/api/v1/jobs/", headers={"Authorization": f"Bearer {download}"})
    assert response.status_code == 401
    assert_error(response.json(), "INVALID_TOKEN")


@pytest.mark.parametrize(
    ("filename", "media_type"),
    [("talk.srt", "application/x-subrip"), ("talk.vtt", "text/vtt"), ("talk.json", "application/json")],
)
def test_a_download_is_served_with_its_formats_type(
    client: TestClient, settings: Settings, filename: str, media_type: str
) -> None:
    """Players and browsers pick subtitles by their type: an SRT served as plain text is not offered as one."""
    storage = build_storage(settings, download_signer(settings))
    storage.save("users/1/jobs/1/attempt-1/transcript", [b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"])

    response = client.get(storage.download_url("users/1/jobs/1/attempt-1/transcript", filename=filename, expires_in=60))

    assert response.status_code == 200 and response.headers["content-type"].split(";")[0] == media_type
