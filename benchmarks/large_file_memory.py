"""Peak memory of the API and the worker while a ≥ 1 GB recording is uploaded and transcribed.

The input is real test speech, repeated and re-encoded as 48 kHz stereo 16-bit WAV until it reaches the size asked
for (1 GB ≈ 87 minutes). It is uploaded to the service, embedded as ``make run`` starts it, and transcribed; the
resident memory of the API process and of the worker processes is sampled throughout.
Targets: API ≤ 300 MB, worker ≤ 1.5 GB, job completes.

    .venv/bin/python -m benchmarks.large_file_memory [--gigabytes 1.0]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

import av
import httpx
import numpy as np
import psutil
from av.audio.resampler import AudioResampler

from benchmarks.recordings import concatenated_speech
from tests.fixtures.s3 import free_port
from tests.fixtures.testdata import DEFAULT_TESTDATA
from tests.integration.flow import ProgressListener, login
from tests.integration.processes import service_process, wait_for_api

RATE = 48000


def write_large_wav(testdata: Path, target: Path, size_bytes: int) -> float:
    """Stream real speech into a 48 kHz stereo WAV of at least ``size_bytes``; returns its duration in seconds."""
    speech = concatenated_speech(testdata, min_seconds=1)
    frame = av.AudioFrame.from_ndarray((np.clip(speech, -1, 1) * 32767).astype(np.int16).reshape(1, -1), layout="mono")
    frame.sample_rate = 16000
    resampler = AudioResampler(format="s16", layout="stereo", rate=RATE)
    block = b"".join(bytes(out.planes[0]) for out in [*resampler.resample(frame), *resampler.resample(None)])
    with wave.open(str(target), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        while target.stat().st_size < size_bytes:
            out.writeframes(block)
    return target.stat().st_size / (RATE * 2 * 2)


class PeakRss:
    """Samples the resident memory of the service's processes, by role, twice a second."""

    def __init__(self, root_pid: int) -> None:
        self.peaks = {"api": 0, "worker": 0}
        self._root = psutil.Process(root_pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            worker_total = 0
            for process in self._root.children(recursive=True):
                try:
                    command = " ".join(process.cmdline())
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                if "app.cli serve" in command:
                    self.peaks["api"] = max(self.peaks["api"], rss)
                elif "app.cli worker" in command or "celery" in command:
                    worker_total = max(worker_total, rss)
            self.peaks["worker"] = max(self.peaks["worker"], worker_total)
            time.sleep(0.5)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gigabytes", type=float, default=1.0, help="input size in GB (10^9 bytes)")
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        recording = work / "long.wav"
        seconds = write_large_wav(args.testdata, recording, int(args.gigabytes * 1e9))
        size = recording.stat().st_size
        print(f"large file: {size / 1e9:.2f} GB WAV (48 kHz stereo), {seconds / 60:.1f} min of speech")
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {"DATA_DIR": str(work / "data"), "API_PORT": str(port), "MAX_UPLOAD_BYTES": str(size + 1)}
        log = work / "service.log"
        with service_process(["run"], env, log) as service, httpx.Client(base_url=base_url, timeout=600) as api:
            wait_for_api(base_url, [service], [log])
            token = login(api)
            rss = PeakRss(service.pid)
            listener = ProgressListener(f"ws://127.0.0.1:{port}/ws/{token}")
            started = time.perf_counter()
            with recording.open("rb") as file:
                response = api.post(
                    "/api/v1/translation/translate/",
                    headers={"Authorization": f"Bearer {token}"},
                    files={"file": ("long.wav", file, "audio/wav")},
                )
            uploaded = time.perf_counter() - started
            assert response.status_code == 202, response.text
            listener.follow(response.json()["id"])
            final = listener.wait(timeout=6 * 3600)[-1]
            elapsed = time.perf_counter() - started
            peaks = rss.stop()
        print(
            f"upload {uploaded:.0f} s, job {final['status']} after {elapsed / 60:.1f} min (RTF {elapsed / seconds:.3f})"
        )
        print(
            f"peak RSS: API {peaks['api'] / 2**20:.0f} MB (target <= 300), worker {peaks['worker'] / 2**20:.0f} MB "
            "(target <= 1536)"
        )
    return 0 if final["status"] == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
