"""Transcription throughput of the service against bare sequential faster-whisper, same model, same run.

A file of at least ten minutes is built by concatenating the real test recordings. It is transcribed
  (a) by bare faster-whisper in this process, sequentially (``WhisperModel.transcribe``: beam 5, word timestamps,
      VAD), and
  (b) through the running service (embedded, as ``make run`` starts it): upload -> job -> transcript, which decodes
      in windows and batches speech chunks (``WHISPER_BATCH_SIZE``).
Prints both real-time factors and the speed-up, plus the WER of both on jfk.flac (the speed-up must not cost
accuracy).

    .venv/bin/python -m benchmarks.translation_throughput [--minutes 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jiwer

from app.core.config import Settings
from app.engines.bundled import resolve_whisper_model
from app.pipelines.audio import decode_audio
from benchmarks.recordings import concatenated_speech, write_flac
from tests.fixtures.s3 import free_port
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.integration.flow import ProgressListener, login
from tests.integration.processes import service_process, wait_for_api

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def bare_sequential(model_dir: Path, audio_path: Path, *, with_vad_and_words: bool = True) -> tuple[float, str]:
    """faster-whisper's sequential ``transcribe``: with the service's VAD and word timestamps, or its defaults."""
    from faster_whisper import WhisperModel

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", local_files_only=True)
    started = time.perf_counter()
    segments, _info = model.transcribe(
        decode_audio(audio_path), beam_size=5, word_timestamps=with_vad_and_words, vad_filter=with_vad_and_words
    )
    text = " ".join(segment.text for segment in segments)
    return time.perf_counter() - started, text


def through_service(files: list[Path], data_dir: Path, model_cache: Path) -> list[tuple[float, str]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {"DATA_DIR": str(data_dir), "API_PORT": str(port), "MODEL_CACHE_DIR": str(model_cache)}
    log = data_dir.parent / "service.log"
    results = []
    with service_process(["run"], env, log) as service, httpx.Client(base_url=base_url, timeout=120) as api:
        wait_for_api(base_url, [service], [log])
        token = login(api)
        headers = {"Authorization": f"Bearer {token}"}
        for path in files:
            listener = ProgressListener(f"ws://127.0.0.1:{port}/ws/{token}")
            started = time.perf_counter()
            with path.open("rb") as file:
                job = api.post("/api/v1/translation/translate/", headers=headers, files={"file": file}).json()
            listener.follow(job["id"])
            assert listener.wait(timeout=7200)[-1]["status"] == "completed"
            url = api.get(f"/api/v1/translation/translations/{job['id']}", headers=headers).json()["transcript_url"]
            text = api.get(url).text
            results.append((time.perf_counter() - started, text))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = Settings(_env_file=None, data_dir=work / "bench", model_cache_dir=work / "models")
        long_file = work / "speech.flac"
        seconds = write_flac(concatenated_speech(args.testdata, args.minutes * 60), long_file)
        jfk = args.testdata / "jfk.flac"
        model_dir = resolve_whisper_model(settings.whisper_model, settings.model_cache)
        print(
            f"translation throughput: {seconds / 60:.1f} min of real speech, "
            f"whisper {settings.whisper_model} cpu/int8, beam {settings.whisper_beam_size}, "
            f"service batch {settings.whisper_batch_size}"
        )

        service = through_service([jfk, long_file], work / "service-data", settings.model_cache)
        (_, service_jfk), (service_seconds, _) = service
        bare_seconds, _ = bare_sequential(model_dir, long_file)
        default_seconds, _ = bare_sequential(model_dir, long_file, with_vad_and_words=False)
        _, bare_jfk = bare_sequential(model_dir, jfk)

        print(f"bare sequential, VAD + word timestamps  {bare_seconds:7.1f} s  RTF {bare_seconds / seconds:.3f}")
        print(f"bare sequential, faster-whisper defaults {default_seconds:7.1f} s  RTF {default_seconds / seconds:.3f}")
        print(f"service (batched, VAD + words)           {service_seconds:7.1f} s  RTF {service_seconds / seconds:.3f}")
        print(
            f"speed-up: {bare_seconds / service_seconds:.2f}x vs same features, "
            f"{default_seconds / service_seconds:.2f}x vs defaults (target >= 3x)"
        )
        reference = normalise(JFK)
        print(
            f"WER on jfk.flac: bare {jiwer.wer(reference, normalise(bare_jfk)):.3f}, "
            f"service {jiwer.wer(reference, normalise(service_jfk)):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
