"""The user journey both integration tests walk: register, log in, upload, watch progress, fetch the transcript."""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

JOB_TIMEOUT_S = 300.0
PHRASE = "ask not what your country can do for you"


def login(api: httpx.Client) -> str:
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    register = api.post("/api/v1/auth/register", json={"email": email, "password": "StrongPass123!"})
    assert register.status_code == 201, register.text
    token = api.post("/api/v1/auth/token", data={"username": email, "password": "StrongPass123!"})
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


class ProgressListener:
    """Collects WebSocket messages for one job in a thread until the job reaches a final state."""

    def __init__(self, ws_url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._job_id: int | None = None
        self._done = threading.Event()
        self._socket = connect(ws_url, open_timeout=10)
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def follow(self, job_id: int) -> None:
        self._job_id = job_id

    def _listen(self) -> None:
        for raw in self._socket:
            event = json.loads(raw)
            self.events.append(event)
            if event.get("job_id") == self._job_id and event["status"] in ("completed", "failed", "cancelled"):
                self._done.set()
                return

    def wait(self, timeout: float) -> list[dict[str, Any]]:
        finished = self._done.wait(timeout)
        self._socket.close()
        self._thread.join(timeout=5)
        assert finished, f"no final event within {timeout} s; got {self.events[-5:]}"
        return [event for event in self.events if event.get("job_id") == self._job_id]


def transcribe_over_the_api(base_url: str, audio: Path) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Returns the finished job, its WebSocket events, and the downloaded plain-text transcript."""
    with httpx.Client(base_url=base_url, timeout=60) as api:
        token = login(api)
        headers = {"Authorization": f"Bearer {token}"}
        listener = ProgressListener(base_url.replace("http://", "ws://") + f"/ws/{token}")
        with audio.open("rb") as file:
            created = api.post("/api/v1/translation/translate/", headers=headers, files={"file": (audio.name, file)})
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        listener.follow(job_id)
        events = listener.wait(JOB_TIMEOUT_S)

        deadline = time.monotonic() + 10
        job = api.get(f"/api/v1/translation/translations/{job_id}", headers=headers).json()
        while job["status"] != "completed" and time.monotonic() < deadline:
            time.sleep(0.2)
            job = api.get(f"/api/v1/translation/translations/{job_id}", headers=headers).json()
        transcript = httpx.get(_absolute(base_url, job["transcript_url"]), timeout=30)
        assert transcript.status_code == 200, transcript.text
        return job, events, transcript.text


def _absolute(base_url: str, url: str) -> str:
    return url if url.startswith("http") else base_url + url


def translate_url_over_the_api(base_url: str, url: str, *, target_language: str) -> dict[str, Any]:
    """Submits a link for translation (no dubbing) and returns the finished job."""
    with httpx.Client(base_url=base_url, timeout=60) as api:
        token = login(api)
        headers = {"Authorization": f"Bearer {token}"}
        listener = ProgressListener(base_url.replace("http://", "ws://") + f"/ws/{token}")
        body = {"url": url, "target_language": target_language, "dub": False}
        created = api.post("/api/v1/translation/translate/url/", headers=headers, json=body)
        assert created.status_code == 202, created.text
        listener.follow(created.json()["id"])
        final = listener.wait(JOB_TIMEOUT_S)[-1]
        assert final["status"] == "completed", final
        job: dict[str, Any] = api.get(f"/api/v1/translation/translations/{final['job_id']}", headers=headers).json()
        return job


def diarize_over_the_api(base_url: str, audio: Path, **form: Any) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Returns the finished speaker job, its WebSocket events, and the downloaded RTTM."""
    with httpx.Client(base_url=base_url, timeout=60) as api:
        token = login(api)
        headers = {"Authorization": f"Bearer {token}"}
        listener = ProgressListener(base_url.replace("http://", "ws://") + f"/ws/{token}")
        with audio.open("rb") as file:
            created = api.post(
                "/api/v1/speaker/diarize", headers=headers, files={"file": (audio.name, file)}, data=form
            )
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        listener.follow(job_id)
        events = listener.wait(JOB_TIMEOUT_S)
        job = api.get(f"/api/v1/speaker/jobs/{job_id}", headers=headers).json()
        rttm = api.get(f"/api/v1/speaker/jobs/{job_id}/rttm", headers=headers, follow_redirects=True)
        if rttm.status_code != 200:  # an S3 presigned URL lies outside the API's base URL
            rttm = httpx.get(job["rttm_url"], timeout=30)
        assert rttm.status_code == 200, rttm.text
        return job, events, rttm.text


def clone_over_the_api(base_url: str, sample: Path, text: str) -> tuple[dict[str, Any], bytes]:
    """Creates a voice profile from ``sample``, clones ``text`` with it; returns the final status and the audio."""
    with httpx.Client(base_url=base_url, timeout=120) as api:
        headers = {"Authorization": f"Bearer {login(api)}"}
        with sample.open("rb") as file:
            voice = api.post(
                "/api/v1/voice/voices/",
                headers=headers,
                files={"file": (sample.name, file)},
                data={"name": "Sample", "consent": "true"},
            )
        assert voice.status_code == 201, voice.text
        created = api.post(
            "/api/v1/voice/clone/", headers=headers, json={"voice_id": voice.json()["id"], "input_text": text}
        )
        assert created.status_code == 202, created.text
        deadline = time.monotonic() + JOB_TIMEOUT_S
        status = api.get(f"/api/v1/voice/clone/{created.json()['id']}/status", headers=headers).json()
        while status["status"] not in ("completed", "failed", "cancelled") and time.monotonic() < deadline:
            time.sleep(0.5)
            status = api.get(f"/api/v1/voice/clone/{created.json()['id']}/status", headers=headers).json()
        assert status["status"] == "completed", status
        audio = api.get(status["output_url"], follow_redirects=True)
        assert audio.status_code == 200, audio.text
        return status, audio.content
