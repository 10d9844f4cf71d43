"""Health, metrics, rate limits and the WebSocket's access rules."""

from __future__ import annotations

import gc
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from typer.testing import CliRunner

from app import cli
from app.core.config import Settings, get_settings
from app.core.security import create_token
from app.main import create_app
from app.services.downloads import download_signer
from tests.conftest import SettingsFactory
from tests.utils import PASSWORD, assert_error, auth_headers, random_email, register


def test_health_reports_every_dependency(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy" and body["version"] and isinstance(body["gpu_available"], bool)
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
    }


def test_health_is_unhealthy_when_the_broker_is_down(make_settings: SettingsFactory) -> None:
    settings = make_settings(celery_broker_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy" and body["checks"]["broker"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"


def test_embedded_health_checks_give_back_their_broker_connections(make_settings: SettingsFactory) -> None:
    database = f"sqlite:///{make_settings().data_dir / 'app.db'}"
    settings = make_settings(database_url=database, celery_broker_url=None, redis_host=None)
    assert settings.broker_is_embedded
    gc.disable()  # a connection left open is otherwise returned whenever the collector happens to run
    try:
        with TestClient(create_app(settings)) as client:
            statuses = [client.get("/api/v1/health").json()["checks"]["broker"]["status"] for _ in range(20)]
    finally:
        gc.enable()
    # The broker's pool holds 15 connections; a leak would make the 16th check wait 30 s and fail.
    assert statuses == ["ok"] * 20


def test_metrics_expose_latency_errors_queues_and_resources(client: TestClient) -> None:
    client.get("/api/v1/health")
    client.get("/api/v1/jobs/")  # 401
    text = client.get("/metrics").text
    assert 'audio_api_http_request_duration_seconds_count{method="GET",route="/api/v1/health",status="200"}' in text
    assert (
        'audio_api_http_errors_total{error_code="NOT_AUTHENTICATED",method="GET",route="/api/v1/jobs/",status="401"}'
        in text
    )
    assert 'audio_api_queue_jobs{queue="translation-queue",status="pending"} 0.0' in text
    assert "audio_api_host_memory_used_bytes" in text and "audio_api_api_rss_bytes" in text


def test_auth_rate_limit_is_enforced_per_client_with_retry_after(make_settings: SettingsFactory) -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_storage_url=make_settings().redis_url)
    with TestClient(create_app(settings)) as client:
        email = register(client)
        for _ in range(4):
            assert client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD}).status_code == 200
        limited = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert limited.status_code == 429
        assert_error(limited.json(), "RATE_LIMITED")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Counts live in Redis: a second API process sees the same budget.
        with TestClient(create_app(settings)) as other_process:
            assert (
                other_process.post(
                    "/api/v1/auth/register", json={"email": random_email(), "password": PASSWORD}
                ).status_code
                == 429
            )


def test_submission_rate_limit_is_per_user(make_settings: SettingsFactory, testdata_dir: Path) -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_translation="2/minute", rate_limit_auth="100/minute")
    with TestClient(create_app(settings)) as client:
        first, second = auth_headers(client), auth_headers(client)
        audio = (testdata_dir / "jfk.flac").read_bytes()

        def submit(headers: dict[str, str]) -> int:
            url = "/api/v1/translation/translate/"
            return client.post(url, headers=headers, files={"file": ("jfk.flac", audio)}).status_code

        assert [submit(first), submit(first), submit(first)] == [202, 202, 429]
        assert submit(second) == 202


def test_a_retry_counts_as_a_submission_of_its_kind(make_settings: SettingsFactory, testdata_dir: Path) -> None:
    """Cancelling and retrying a job queues all of its work again: it must not get round the submission limit."""
    settings = make_settings(rate_limit_enabled=True, rate_limit_translation="3/minute", rate_limit_auth="100/minute")
    with TestClient(create_app(settings)) as client:
        headers = auth_headers(client)
        audio = (testdata_dir / "jfk.flac").read_bytes()
        job = client.post("/api/v1/translation/translate/", headers=headers, files={"file": ("jfk.flac", audio)})
        job_id = job.json()["id"]

        def cancel_then_retry(retry: str) -> int:
            assert client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).status_code == 200
            return client.post(retry, headers=headers).status_code

        generic, own = f"/api/v1/jobs/{job_id}/retry", f"/api/v1/translation/translations/{job_id}/retry"
        assert cancel_then_retry(generic) == 200
        # Retrying a job that is not failed or cancelled is refused, and a refused retry is not counted.
        assert [client.post(retry, headers=headers).status_code for retry in (generic, own, own)] == [409] * 3
        assert [cancel_then_retry(own), cancel_then_retry(generic)] == [200, 429]
        assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"] == "cancelled"  # left as it was
        other_kind = client.post("/api/v1/speaker/diarize", headers=headers, files={"file": ("jfk.flac", audio)})
        assert other_kind.status_code == 202  # each kind keeps its own count


def test_a_batch_counts_each_job_and_an_exhausted_user_is_refused_before_the_upload(
    make_settings: SettingsFactory, testdata_dir: Path
) -> None:
    settings = make_settings(rate_limit_enabled=True, rate_limit_translation="3/minute", rate_limit_auth="100/minute")
    with TestClient(create_app(settings)) as client:
        audio = (testdata_dir / "jfk.flac").read_bytes()

        def submit(headers: dict[str, str], files: int) -> int:
            url = "/api/v1/translation/translate/batch/" if files > 1 else "/api/v1/translation/translate/"
            field = "files[]" if files > 1 else "file"
            body = [(field, (f"jfk{index}.flac", audio)) for index in range(files)]
            return client.post(url, headers=headers, files=body).status_code

        refused = re.compile(
            r'audio_api_http_errors_total\{error_code="RATE_LIMITED",method="POST",'
            r'route="upload refused before routing",status="429"\} ([0-9.]+)'
        )

        def refused_uploads() -> float:
            found = refused.search(client.get("/metrics").text)
            return float(found.group(1)) if found else 0.0

        before = refused_uploads()
        first, second = auth_headers(client), auth_headers(client)
        assert [submit(first, 2), submit(first, 1), submit(first, 1)] == [202, 202, 429]
        # A batch larger than the limit takes a whole window's allowance, no more and no less.
        assert [submit(second, 5), submit(second, 1)] == [202, 429]
        assert refused_uploads() - before == 2  # both refused before their bodies were read


def test_websocket_refuses_bad_tokens_and_other_users_jobs(client: TestClient, settings: Settings) -> None:
    with client.websocket_connect("/ws/not-a-token") as ws:
        assert ws.receive_json()["error_code"] == "INVALID_TOKEN"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401

    owner = auth_headers(client)["Authorization"].split()[1]
    other = auth_headers(client)["Authorization"].split()[1]
    with client.websocket_connect(f"/ws/{other}?job_id=1") as ws:
        assert ws.receive_json()["error_code"] == "NOT_FOUND"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4404
    assert owner != other
    for bad in (
        "abc",
        "0",
        str(2**40),
        "²",
        "١٢",
        "1" * 5000,
    ):  # said in JSON on the open socket, not a bare HTTP 403 before it
        with client.websocket_connect(f"/ws/{owner}?job_id={bad}") as ws:
            refused = ws.receive_json()
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
        assert refused["error_code"] == "NOT_FOUND" and refused["details"]["field"] == "job_id"
        assert closed.value.code == 4404
    with client.websocket_connect("/ws/not-a-token?job_id=abc") as ws:  # the token is judged first
        assert ws.receive_json()["error_code"] == "INVALID_TOKEN"


def test_openapi_documents_the_error_format(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/api/v1/translation/translate/"]["post"]
    assert {"413", "415", "422", "429"} <= set(create["responses"])
    assert client.get("/docs").status_code == 200


def test_large_json_bodies_are_refused_before_parsing(client: TestClient) -> None:
    huge = {"email": random_email(), "password": "x" * (2 << 20)}
    response = client.post("/api/v1/auth/register", json=huge)
    assert response.status_code == 413
    assert_error(response.json(), "PAYLOAD_TOO_LARGE")


def test_anonymous_uploads_are_refused_before_the_body_is_read(client: TestClient, settings: Settings) -> None:
    response = client.post("/api/v1/translation/translate/", files={"file": ("a.flac", b"0" * 4096)})
    assert response.status_code == 401
    assert_error(response.json(), "NOT_AUTHENTICATED")
    expired = create_token("1", secret_key=settings.secret_key, token_type="access", expires_in=timedelta(seconds=-5))
    response = client.post(
        "/api/v1/translation/translate/",
        headers={"Authorization": f"Bearer {expired}"},
        files={"file": ("a.flac", b"0" * 4096)},
    )
    assert response.status_code == 401
    assert_error(response.json(), "TOKEN_EXPIRED")
    text = client.get("/metrics").text  # counted apart from requests for paths that do not exist
    route = 'route="upload refused before routing",status="401"'
    assert f'audio_api_http_errors_total{{error_code="TOKEN_EXPIRED",method="POST",{route}}}' in text


def test_an_expired_download_link_says_so(client: TestClient, settings: Settings) -> None:
    link = download_signer(settings)("users/1/outputs/speech.wav", "speech.wav", -5)
    response = client.get(link)
    assert response.status_code == 410
    assert_error(response.json(), "LINK_EXPIRED")
    tampered = client.get(f"{link[:-4]}AAAA")
    assert tampered.status_code == 404
    assert_error(tampered.json(), "NOT_FOUND")


def test_websocket_stream_ends_when_its_token_expires(client: TestClient, settings: Settings) -> None:
    account = client.post("/api/v1/auth/register", json={"email": random_email(), "password": PASSWORD}).json()
    token = create_token(
        str(account["id"]), secret_key=settings.secret_key, token_type="access", expires_in=timedelta(seconds=2)
    )
    started = time.monotonic()
    with client.websocket_connect(f"/ws/{token}") as ws:
        assert ws.receive_json()["error_code"] == "TOKEN_EXPIRED"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401 and 1.0 < time.monotonic() - started < 10


def test_one_user_may_hold_only_so_many_progress_sockets(make_settings: SettingsFactory) -> None:
    """The cap holds across API processes: two apps sharing the Redis (as two server processes do) share it."""
    settings = make_settings(progress_max_sockets_per_user=2)
    with TestClient(create_app(settings)) as client, TestClient(create_app(settings)) as elsewhere:
        account = client.post("/api/v1/auth/register", json={"email": random_email(), "password": PASSWORD}).json()

        def token(seconds: float) -> str:
            lifetime = timedelta(seconds=seconds)
            return create_token(
                str(account["id"]), secret_key=settings.secret_key, token_type="access", expires_in=lifetime
            )

        def counted(expected: int) -> None:
            """Wait for the server's count: a socket is counted once its token is checked, just after the handshake
            the client has seen, and released just after its close."""
            seats = cast(FastAPI, client.app).state.progress_seats
            deadline = time.monotonic() + 10
            while seats.held(account["id"]) != expected and time.monotonic() < deadline:
                time.sleep(0.01)

        other = auth_headers(client)["Authorization"].split()[1]
        with (
            client.websocket_connect(f"/ws/{token(2)}") as first,
            elsewhere.websocket_connect(f"/ws/{token(2)}") as second,
        ):
            counted(2)
            with client.websocket_connect(f"/ws/{token(60)}") as third:
                refused = third.receive_json()
                with pytest.raises(WebSocketDisconnect) as closed:
                    third.receive_json()
            assert refused["error_code"] == "TOO_MANY_CONNECTIONS" and refused["details"] == {"max_connections": 2}
            assert closed.value.code == 4429
            with client.websocket_connect(f"/ws/{other}?job_id=1") as someone_else:  # another user is not counted
                assert someone_else.receive_json()["error_code"] == "NOT_FOUND"
            # Both still stream, until their tokens expire; then their places are free again.
            assert first.receive_json()["error_code"] == second.receive_json()["error_code"] == "TOKEN_EXPIRED"
        counted(0)
        with elsewhere.websocket_connect(f"/ws/{token(1)}") as again:
            assert again.receive_json()["error_code"] == "TOKEN_EXPIRED"  # accepted: it streamed until expiry


def test_a_deactivated_account_stops_at_once_and_can_be_let_back(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``audio-api deactivate-user``: the account's token stops working for requests at once and its open progress
    stream within ``PROGRESS_ACCOUNT_CHECK_SECONDS``, long before the token would expire."""
    settings = make_settings(progress_account_check_seconds=0.2)
    monkeypatch.setenv("DATABASE_URL", str(settings.database_url))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        with TestClient(create_app(settings)) as client:
            email = register(client)
            headers = auth_headers(client)
            token = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
            with client.websocket_connect(f"/ws/{token.json()['access_token']}") as ws:
                started = time.monotonic()
                deactivated = runner.invoke(cli.cli, ["deactivate-user", email.upper()])
                assert deactivated.exit_code == 0 and "deactivated" in deactivated.output
                assert_error(client.get("/api/v1/voice/voices/", headers=bearer).json(), "INVALID_TOKEN")
                assert ws.receive_json()["error_code"] == "INVALID_TOKEN"
                with pytest.raises(WebSocketDisconnect) as closed:
                    ws.receive_json()
            assert closed.value.code == 4401 and time.monotonic() - started < 10
            refused = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert refused.status_code == 401
            assert client.get("/api/v1/voice/voices/", headers=headers).status_code == 200  # others are untouched

            assert runner.invoke(cli.cli, ["activate-user", email]).exit_code == 0
            again = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
            assert again.status_code == 200
            assert client.get("/api/v1/voice/voices/", headers=bearer).status_code == 200
            unknown = runner.invoke(cli.cli, ["deactivate-user", random_email()])
            assert unknown.exit_code == 1 and "No such account" in unknown.output
    finally:
        get_settings.cache_clear()


def test_websocket_stream_ignores_what_the_client_sends(client: TestClient, settings: Settings) -> None:
    account = client.post("/api/v1/auth/register", json={"email": random_email(), "password": PASSWORD}).json()
    token = create_token(
        str(account["id"]), secret_key=settings.secret_key, token_type="access", expires_in=timedelta(seconds=2)
    )
    with client.websocket_connect(f"/ws/{token}") as ws:
        ws.send_text("ping")
        ws.send_bytes(b"\x00\x01")
        # Still streaming: it ends as it should, when the token expires, in the error format.
        assert ws.receive_json()["error_code"] == "TOKEN_EXPIRED"


def test_metrics_label_routes_by_template_not_by_id(client: TestClient) -> None:
    headers = auth_headers(client)
    for job_id in (101, 102):
        client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    text = client.get("/metrics").text
    assert 'route="/api/v1/jobs/{job_id}",status="404"} 2.0' in text
    assert "/api/v1/jobs/101" not in text
