"""Choosing the compute device and its default precision for CTranslate2 models."""

from __future__ import annotations

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
