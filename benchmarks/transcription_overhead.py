"""How much the service adds on top of the bare engine.

The same recording (jfk.flac repeated to at least two minutes) is transcribed
  (a) in this process by the bare engine: decode + faster-whisper with the service's options, and
  (b) through the running service, embedded as ``make run`` starts it: upload -> job -> worker -> WebSocket
      "completed" -> transcript downloaded,
with the same model and settings. The worker is warmed up with one job first (models load once per worker
process, not per job). Prints both wall times per run, their medians, and the ratio service / bare.

    .venv/bin/python -m benchmarks.transcription_overhead [--runs 3] [--repeat 11]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from app.core.config import Settings
from app.engines.bundled import resolve_whisper_model
from app.engines.device import resolve_device
from app.engines.transcriber import TranscriptionOptions
from app.engines.whisper import FasterWhisperTranscriber
from app.pipelines.audio import decode_audio
from benchmarks.recordings import write_flac
from tests.fixtures.s3 import free_port
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.integration.flow import PHRASE, ProgressListener, login
from tests.integration.processes import service_process, wait_for_api


def build_recording(source: Path, repeat: int, target: Path) -> float:
    return write_flac(np.tile(decode_audio(source), repeat), target)


def bare_engine_seconds(recording: Path, settings: Settings, runs: int) -> list[float]:
    device, compute_type = resolve_device(settings.device_strategy)
    engine = FasterWhisperTranscriber(
        resolve_whisper_model(settings.whisper_model, settings.model_cache),
        device=device,
        compute_type=settings.whisper_compute_type or compute_type,
        cpu_threads=settings.cpu_threads,
    )
    options = TranscriptionOptions(beam_size=settings.whisper_beam_size, batch_size=settings.whisper_batch_size)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        segments, _info = engine.transcribe(decode_audio(recording), options)
        text = " ".join(segment.text for segment in segments)
        times.append(time.perf_counter() - started)
        assert PHRASE in text.lower(), text[:200]
    return times


def service_seconds(recording: Path, data_dir: Path, model_cache: Path, runs: int) -> list[float]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {"DATA_DIR": str(data_dir), "API_PORT": str(port), "MODEL_CACHE_DIR": str(model_cache)}
    log = data_dir.parent / "service.log"
    with service_process(["run"], env, log) as service, httpx.Client(base_url=base_url, timeout=120) as api:
        wait_for_api(base_url, [service], [log])
        token = login(api)
        headers = {"Authorization": f"Bearer {token}"}
        times = []
        for run in range(runs + 1):  # run 0 warms the worker up and is not counted
            listener = ProgressListener(f"ws://127.0.0.1:{port}/ws/{token}")
            started = time.perf_counter()
            with recording.open("rb") as file:
                job = api.post("/api/v1/translation/translate/", headers=headers, files={"file": file}).json()
            listener.follow(job["id"])
            final = listener.wait(timeout=3600)[-1]
            assert final["status"] == "completed", final
            url = api.get(f"/api/v1/translation/translations/{job['id']}", headers=headers).json()["transcript_url"]
            text = api.get(url).text
            elapsed = time.perf_counter() - started
            assert PHRASE in text.lower(), text[:200]
            if run:
                times.append(elapsed)
    return times


def describe(label: str, times: list[float], audio_seconds: float) -> str:
    median = statistics.median(times)
    runs = ", ".join(f"{t:.1f}" for t in times)
    return f"{label:<16} median {median:6.1f} s  RTF {median / audio_seconds:.3f}  runs [{runs}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
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
        bare = bare_engine_seconds(recording, settings, args.runs)
        print(describe("bare engine", bare, audio_seconds))
        service = service_seconds(recording, work / "service-data", settings.model_cache, args.runs)
        print(describe("service (warm)", service, audio_seconds))
        ratio = statistics.median(service) / statistics.median(bare)
        print(f"ratio service/bare: {ratio:.3f} (target <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
