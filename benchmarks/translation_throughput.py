"""Transcription throughput of the service against bare sequential faster-whisper, same model, same run.

A file of at least ten minutes is built by concatenating the real test recordings. It is transcribed
  (a) by bare faster-whisper in this process, sequentially (``WhisperModel.transcribe``: beam 5, word timestamps,
      VAD), and
  (b) through the running service (embedded, as ``make run`` starts it): upload -> job -> transcript, which decodes
      in windows and batches speech chunks (``WHISPER_BATCH_SIZE``), two batches at once (``WHISPER_WORKERS``).
Prints both real-time factors and the speed-up, the WER of both on jfk.flac, and how much of the speech (by
voice-activity detection) each left without a word: the speed-up must not cost accuracy or drop speech.

    .venv/bin/python -m benchmarks.translation_throughput [--minutes 10]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import jiwer

from app.core.config import Settings
from app.engines.bundled import resolve_whisper_model
from app.engines.device import decoder_layout
from app.engines.speech_chunks import missed_speech
from app.pipelines.audio import SAMPLE_RATE, decode_audio
from benchmarks.recordings import concatenated_speech, write_flac
from tests.fixtures.s3 import free_port
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.integration.flow import ProgressListener, login
from tests.integration.processes import service_process, wait_for_api

JFK = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@dataclass(frozen=True)
class Run:
    seconds: float
    text: str
    words: list[tuple[float, float]]


def bare_sequential(model_dir: Path, audio_path: Path, *, with_vad_and_words: bool = True) -> Run:
    """faster-whisper's sequential ``transcribe``: with the service's VAD and word timestamps, or its defaults.

    Where a window fails its quality checks, faster-whisper decodes it again by sampling at a higher temperature;
    the sampler is seeded so that the baseline's time does not vary from run to run (unseeded, the defaults took
    60 s in one run and 84 s in another).
    """
    import ctranslate2
    from faster_whisper import WhisperModel

    ctranslate2.set_random_seed(0)

    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", local_files_only=True)
    started = time.perf_counter()
    segments, _info = model.transcribe(
        decode_audio(audio_path), beam_size=5, word_timestamps=with_vad_and_words, vad_filter=with_vad_and_words
    )
    decoded = list(segments)
    words = [(word.start, word.end) for segment in decoded for word in segment.words or ()]
    return Run(time.perf_counter() - started, " ".join(segment.text for segment in decoded), words)


def speech_without_words(audio_path: Path, words: list[tuple[float, float]]) -> tuple[float, float]:
    """(seconds of speech no word covers, seconds of speech), by faster-whisper's voice-activity detection."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    regions = [
        (r["start"] / SAMPLE_RATE, r["end"] / SAMPLE_RATE)
        for r in get_speech_timestamps(
            decode_audio(audio_path), VadOptions(max_speech_duration_s=30, min_silence_duration_ms=160)
        )
    ]
    missed = missed_speech(regions, words)
    return sum(end - start for start, end in missed), sum(end - start for start, end in regions)


def through_service(files: list[Path], data_dir: Path, model_cache: Path) -> list[Run]:
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
            job_view = api.get(f"/api/v1/translation/translations/{job['id']}", headers=headers).json()
            document = api.get(job_view["transcript_urls"]["json"]).json()
            words = [(word["start"], word["end"]) for segment in document["segments"] for word in segment["words"]]
            results.append(Run(time.perf_counter() - started, document["text"], words))
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
        workers, threads = decoder_layout("cpu", settings.whisper_workers, settings.cpu_threads)
        print(
            f"translation throughput: {seconds / 60:.1f} min of real speech, "
            f"whisper {settings.whisper_model} cpu/int8, beam {settings.whisper_beam_size}, "
            f"service batch {settings.whisper_batch_size}, {workers} workers of {threads} threads"
        )

        service_jfk, service = through_service([jfk, long_file], work / "service-data", settings.model_cache)
        bare = bare_sequential(model_dir, long_file)
        default = bare_sequential(model_dir, long_file, with_vad_and_words=False)
        bare_jfk = bare_sequential(model_dir, jfk)

        print(f"bare sequential, VAD + word timestamps  {bare.seconds:7.1f} s  RTF {bare.seconds / seconds:.3f}")
        print(f"bare sequential, faster-whisper defaults {default.seconds:7.1f} s  RTF {default.seconds / seconds:.3f}")
        print(f"service (batched, VAD + words)           {service.seconds:7.1f} s  RTF {service.seconds / seconds:.3f}")
        print(
            f"speed-up: {bare.seconds / service.seconds:.2f}x vs same features, "
            f"{default.seconds / service.seconds:.2f}x vs defaults (target >= 3x)"
        )
        reference = normalise(JFK)
        print(
            f"WER on jfk.flac: bare {jiwer.wer(reference, normalise(bare_jfk.text)):.3f}, "
            f"service {jiwer.wer(reference, normalise(service_jfk.text)):.3f}"
        )
        for name, run in (("bare sequential", bare), ("service", service)):
            missed, speech = speech_without_words(long_file, run.words)
            print(
                f"{name}: {len(run.text.split())} words; speech left without words {missed:.1f} s of {speech:.1f} s "
                f"({missed / speech:.1%})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
