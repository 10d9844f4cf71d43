"""Plain helpers shared by the tests."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from app.schemas.job import JobEvent

PASSWORD = "StrongPass123!"


def random_email() -> str:
    return f"user-{uuid.uuid4().hex[:10]}@example.com"


def register(client: TestClient, email: str | None = None, password: str = PASSWORD) -> str:
    email = email or random_email()
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password, "full_name": "Test"})
    assert response.status_code == 201, response.text
    return email


def auth_headers(client: TestClient, email: str | None = None) -> dict[str, str]:
    email = register(client, email)
    response = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def create_voice(client: TestClient, headers: dict[str, str], path: Path, **form: Any) -> Any:
    """Upload ``path`` as a consented voice profile; ``form`` overrides the name, description, language..."""
    data = {"name": "John's Voice", "description": "Male voice sample", "consent": "true", **form}
    with path.open("rb") as file:
        return client.post("/api/v1/voice/voices/", headers=headers, files={"file": (path.name, file)}, data=data)


def assert_error(response_json: dict[str, object], error_code: str) -> None:
    assert set(response_json) == {"error_code", "message", "details"}, response_json
    assert response_json["error_code"] == error_code, response_json
    assert isinstance(response_json["message"], str) and response_json["message"]


class NullProgressPublisher:
    """Publishes nothing: for tests of job rules whose events nobody follows."""

    def publish(self, owner_id: int, event: JobEvent) -> None:
        return None
