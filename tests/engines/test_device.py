"""Device strategies map to a device and its default compute type."""

from __future__ import annotations

import pytest

from app.engines import device
from app.engines.errors import DeviceNotAvailable


def test_cpu_strategy() -> None:
    assert device.resolve_device("cpu") == ("cpu", "int8")


@pytest.mark.parametrize(("gpu", "expected"), [(True, ("cuda", "float16")), (False, ("cpu", "int8"))])
def test_auto_follows_gpu_presence(monkeypatch: pytest.MonkeyPatch, gpu: bool, expected: tuple[str, str]) -> None:
    monkeypatch.setattr(device, "gpu_available", lambda: gpu)

    assert device.resolve_device("auto") == expected


def test_cuda_without_gpu_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "gpu_available", lambda: False)

    with pytest.raises(DeviceNotAvailable):
        device.resolve_device("cuda")


def test_unknown_strategy() -> None:
    with pytest.raises(ValueError, match="unknown device strategy"):
        device.resolve_device("tpu")


def test_gpu_available_is_a_bool() -> None:
    assert isinstance(device.gpu_available(), bool)
