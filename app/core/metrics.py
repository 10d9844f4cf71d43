"""Prometheus metrics.

API processes and worker processes on one host share counts through prometheus-client's multiprocess mode when
``PROMETHEUS_MULTIPROC_DIR`` is set (``audio-api run`` sets it), so ``GET /metrics`` on the API shows job and model
timings recorded by the workers. Queue lengths and resource usage are read at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import psutil
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
JOB_BUCKETS = (1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400)

HTTP_REQUEST_SECONDS = Histogram(
    "audio_api_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_ERRORS = Counter(
    "audio_api_http_errors_total",
    "Error responses by route and error code",
    ["method", "route", "status", "error_code"],
)
JOB_SECONDS = Histogram(
    "audio_api_job_processing_seconds",
    "Wall time of job processing by kind and outcome",
    ["kind", "status"],
    buckets=JOB_BUCKETS,
)
JOBS_FINISHED = Counter("audio_api_jobs_finished_total", "Jobs finished by kind and outcome", ["kind", "status"])
MODEL_INFERENCE_SECONDS = Histogram(
    "audio_api_model_inference_seconds",
    "Model inference time by engine",
    ["engine", "operation"],
    buckets=JOB_BUCKETS,
)
WORKER_RSS_BYTES = Gauge(
    "audio_api_worker_rss_bytes",
    "Resident memory of each worker process after its last job",
    ["role"],
    multiprocess_mode="liveall",
)
"""Labelled (always ``role="worker"``) so that only processes that ran a job report one: a label-less gauge starts
at 0 in every process that imports it, the API included."""
MODEL_LOAD_SECONDS = Histogram(
    "audio_api_model_load_seconds", "Model load time by engine", ["engine"], buckets=JOB_BUCKETS
)


class ResourceCollector(Collector):
    """CPU and memory of the host and of this API process (workers report their own in
    ``audio_api_worker_rss_bytes``); GPU memory and utilisation when NVML is available."""

    def __init__(self) -> None:
        self._process = psutil.Process()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily("audio_api_host_cpu_percent", "Host CPU utilisation", value=psutil.cpu_percent())
        memory = psutil.virtual_memory()
        yield GaugeMetricFamily("audio_api_host_memory_used_bytes", "Host memory in use", value=memory.used)
        yield GaugeMetricFamily("audio_api_host_memory_total_bytes", "Host memory", value=memory.total)
        yield GaugeMetricFamily(
            "audio_api_api_rss_bytes",
            "Resident memory of the API process serving this scrape",
            value=self._process.memory_info().rss,
        )
        yield from _gpu_metrics()


def _gpu_metrics() -> Iterator[GaugeMetricFamily]:
    try:
        import pynvml  # type: ignore[import-not-found]  # optional: present where NVIDIA drivers are

        pynvml.nvmlInit()
    except Exception:
        return
    used = GaugeMetricFamily("audio_api_gpu_memory_used_bytes", "GPU memory in use", labels=["gpu"])
    util = GaugeMetricFamily("audio_api_gpu_utilization_percent", "GPU utilisation", labels=["gpu"])
    for index in range(pynvml.nvmlDeviceGetCount()):
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        used.add_metric([str(index)], pynvml.nvmlDeviceGetMemoryInfo(handle).used)
        util.add_metric([str(index)], pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
    yield used
    yield util


class QueueCollector(Collector):
    """Jobs waiting and running per queue, from the job table: the same figure whatever the broker is."""

    def __init__(self, counts: Callable[[], dict[tuple[str, str], int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("audio_api_queue_jobs", "Jobs by queue and status", labels=["queue", "status"])
        for (queue, status), count in sorted(self._counts().items()):
            family.add_metric([queue, status], count)
        yield family


def serve_metrics(port: int) -> None:
    """Expose this host's metrics over HTTP, for worker hosts that run no API (multiprocess-aware)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(port, registry=registry)
    else:
        start_http_server(port)


def render_metrics(extra_collectors: list[Collector]) -> bytes:
    """The exposition text: the multiprocess aggregate when enabled (else this process), plus scrape-time readings."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shared = CollectorRegistry()
        multiprocess.MultiProcessCollector(shared)  # type: ignore[no-untyped-call]
    else:
        shared = REGISTRY
    extra = CollectorRegistry()
    for collector in extra_collectors:
        extra.register(collector)
    return generate_latest(shared) + generate_latest(extra)
