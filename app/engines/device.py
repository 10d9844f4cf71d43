"""Choosing the compute device and its default precision for CTranslate2 models."""

from __future__ import annotations

import os

from app.engines.errors import DeviceNotAvailable

CPU = ("cpu", "int8")
CUDA = ("cuda", "float16")


def gpu_available() -> bool:
    """Whether CTranslate2 sees at least one CUDA device.

    Returns:
        True when a CUDA device can be used, False otherwise (including when the CUDA runtime is missing).
    """
    import ctranslate2

    try:
        return int(ctranslate2.get_cuda_device_count()) > 0
    except RuntimeError:
        return False


def resolve_device(strategy: str) -> tuple[str, str]:
    """Map a device strategy to a device and its default compute type.

    Args:
        strategy: ``auto`` (CUDA when available, else CPU), ``cpu`` or ``cuda``.

    Returns:
        ``(device, compute_type)``: ``("cuda", "float16")`` or ``("cpu", "int8")``.

    Raises:
        DeviceNotAvailable: ``cuda`` was asked for but no GPU is visible.
        ValueError: the strategy is not one of the three above.
    """
    if strategy == "auto":
        return CUDA if gpu_available() else CPU
    if strategy == "cpu":
        return CPU
    if strategy == "cuda":
        if not gpu_available():
            raise DeviceNotAvailable(
                "DEVICE_STRATEGY=cuda but no CUDA device is visible", details={"strategy": strategy}
            )
        return CUDA
    raise ValueError(f"unknown device strategy {strategy!r}; expected auto, cpu or cuda")


AUTO_CPU_WORKERS = 2
AUTO_CPU_THREADS = 4
"""Most threads a worker takes when left to choose: CTranslate2's own default, so that a host running several
worker processes (each its own model) is not handed processes x workers x every core."""


def decoder_layout(device: str, workers: int, threads: int, cores: int | None = None) -> tuple[int, int]:
    """``(workers, threads per worker)`` for a CTranslate2 model: what was configured, with 0 filled in.

    On a CPU two workers, each allowed every core (up to ``AUTO_CPU_THREADS``, or ``OMP_NUM_THREADS`` where the
    operator set it). A batch's decoder steps are too small to keep all cores busy, so
    two batches decoded side by side finish sooner than one after the other, while a short file, one batch alone,
    still has every core. Measured with Whisper base on two cores (workers x threads): four minutes of speech took
    16.4 s at 1 x 2, 12.2 s at 2 x 1, 12.8 s at 2 x 2 and 11.9 s at 3 x 1; jfk.flac alone 2.17 s at 1 x 2, 2.89 s
    at 2 x 1 and 2.23 s at 2 x 2. On a GPU one worker: the batch itself fills the device.

    Args:
        device: ``cpu`` or ``cuda``.
        workers: configured workers; 0 chooses.
        threads: configured threads per worker on a CPU; 0 chooses.
        cores: CPU cores this process may use (default: its affinity).
    """
    if device != "cpu":
        return workers or 1, threads
    available = cores or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
    operator = os.environ.get("OMP_NUM_THREADS", "")
    chosen = int(operator) if operator.isdigit() and int(operator) > 0 else min(available, AUTO_CPU_THREADS)
    return workers or min(available, AUTO_CPU_WORKERS), threads or chosen
