"""How much the service adds on top of the bare engine.

The same recording (jfk.flac repeated to at least two minutes) is transcribed
  (a) in this process by the bare engine: decode + faster-whisper with the service's options, and
  (b) through the running service, embedded as ``make run`` starts it: upload -> job -> worker -> WebSocket
      "completed" -> transcript downloaded,
with the same model and settings. Both are warmed up with one run first (models load once per worker process, not
per job), then runs alternate between them so that drift in the machine's speed hits both alike. Prints both wall
times per run, their medians, where the service's time went, and the ratio service / bare.

    .venv/bin/python -m benchmarks.transcription_overhead [--runs 6] [--repeat 11]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import numpy as np

from app.core.config import Settings
from app.engines.bundled import resolve_whisper_model
from app.engines.device import decoder_layout, resolve_device
from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber
from app.pipelines.audio import decode_audio
from benchmarks.recordings import write_flac
from tests.fixtures.s3 import free_port
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.integration.flow import PHRASE, ProgressListener, login
from tests.integration.processes import service_process, wait_for_api

TIMESTAMPS = ("created_at", "started_at", "completed_at")


def build_recording(source: Path, repeat: int, target: Path) -> float:
    return write_flac(np.tile(decode_audio(source), repeat), target)


class BareEngine:
    """The engine alone, in this process: decode + faster-whisper with the service's options."""

    def __init__(self, settings: Settings) -> None:
        device, compute_type = resolve_device(settings.device_strategy)
        workers, threads = decoder_layout(device, settings.whisper_workers, settings.cpu_threads)
        self._engine = FasterWhisperTranscriber(
            resolve_whisper_model(settings.whisper_model, settings.model_cache),
            device=device,
            compute_type=settings.whisper_compute_type or compute_type,
            cpu_threads=threads,
            num_workers=workers,
        )
        self._options = TranscriptionOptions(
            beam_size=settings.whisper_beam_size, batch_size=settings.whisper_batch_size
        )

    def seconds(self, recording: Path) -> float:
        started = time.perf_counter()
        segments, _info = self._engine.transcribe(decode_audio(recording), self._options)
        text = " ".join(segment.text for segment in segments)
        elapsed = time.perf_counter() - started
        assert PHRASE in text.lower(), text[:200]
        return elapsed


@dataclass
class ServiceRun:
    """One job through the service, split where the time went (the job row's own timestamps)."""

    total: float
    upload: float
    """Until the upload request returned (streamed to storage, content-checked, job queued)."""
    queued: float
    """From the job row's creation until a worker started it."""
    processing: float
    """From the worker starting the job until it recorded the result."""

    @property
    def delivery(self) -> float:
        """The rest: the WebSocket noticing completion and the transcript download."""
        return self.total - self.upload - self.queued - self.processing


class ServiceClient:
    """A user of the running service: upload, follow the job over the WebSocket, download the transcript."""

    def __init__(self, api: httpx.Client, port: int) -> None:
        self._api = api
        self._port = port
        token = login(api)
        self._token = token
        self._headers = {"Authorization": f"Bearer {token}"}

    def run(self, recording: Path) -> ServiceRun:
        api, headers = self._api, self._headers
        listener = ProgressListener(f"ws://127.0.0.1:{self._port}/ws/{self._token}")
        started = time.perf_counter()
        with recording.open("rb") as file:
            job = api.post("/api/v1/translation/translate/", headers=headers, files={"file": file}).json()
        uploaded = time.perf_counter()
        listener.follow(job["id"])
        final = listener.wait(timeout=3600)[-1]
        assert final["status"] == "completed", final
        url = api.get(f"/api/v1/translation/translations/{job['id']}", headers=headers).json()["transcript_url"]
        text = api.get(url).text
        elapsed = time.perf_counter() - started
        assert PHRASE in text.lower(), text[:200]
        row = api.get(f"/api/v1/jobs/{job['id']}", headers=headers).json()
        created, begun, done = (datetime.fromisoformat(row[name]) for name in TIMESTAMPS)
        return ServiceRun(
            total=elapsed,
            upload=uploaded - started,
            queued=(begun - created).total_seconds(),
            processing=(done - begun).total_seconds(),
        )


def measure(recording: Path, settings: Settings, data_dir: Path, runs: int) -> tuple[list[float], list[ServiceRun]]:
    """Alternate bare and service runs (in turn first), so drift in the machine's speed hits both alike."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {"DATA_DIR": str(data_dir), "API_PORT": str(port), "MODEL_CACHE_DIR": str(settings.model_cache)}
    log = data_dir.parent / "service.log"
    bare = BareEngine(settings)
    with service_process(["run"], env, log) as service, httpx.Client(base_url=base_url, timeout=120) as api:
        wait_for_api(base_url, [service], [log])
        client = ServiceClient(api, port)
        bare.seconds(recording)  # warm-ups: models load once per process, not per job
        client.run(recording)
        bare_times: list[float] = []
        service_times: list[ServiceRun] = []
        for run in range(runs):
            if run % 2:
                service_times.append(client.run(recording))
                bare_times.append(bare.seconds(recording))
            else:
                bare_times.append(bare.seconds(recording))
                service_times.append(client.run(recording))
    return bare_times, service_times


def describe(label: str, times: list[float], audio_seconds: float) -> str:
    median = statistics.median(times)
    runs = ", ".join(f"{t:.1f}" for t in times)
    return f"{label:<16} median {median:6.1f} s  RTF {median / audio_seconds:.3f}  runs [{runs}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=11, help="copies of jfk.flac (11 s each)")
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = Settings(_env_file=None, data_dir=work / "bench", model_cache_dir=work / "models")
        recording = work / "jfk_repeated.flac"
        audio_seconds = build_recording(args.testdata / "jfk.flac", args.repeat, recording)
        device, compute_type = resolve_device(settings.device_strategy)
        print(
            f"transcription overhead: {audio_seconds:.1f} s of audio (jfk.flac x{args.repeat}), "
            f"whisper {settings.whisper_model} on {device}/{compute_type}, beam {settings.whisper_beam_size}, "
            f"batch {settings.whisper_batch_size}, "
            f"{args.runs} runs each"
        )
        bare, service = measure(recording, settings, work / "service-data", args.runs)
        print(describe("bare engine", bare, audio_seconds))
        print(describe("service (warm)", [run.total for run in service], audio_seconds))
        for part in ("upload", "queued", "processing", "delivery"):
            print(f"  {part:<14} median {statistics.median(getattr(run, part) for run in service):6.2f} s")
        ratio = statistics.median(run.total for run in service) / statistics.median(bare)
        print(f"ratio service/bare: {ratio:.3f} (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
