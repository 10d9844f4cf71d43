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


@pytest.mark.parametrize(
    ("device_name", "workers", "threads", "cores", "expected"),
    [
        ("cpu", 0, 0, 2, (2, 2)),
        ("cpu", 0, 0, 16, (2, 4)),
        ("cpu", 0, 0, 1, (1, 1)),
        ("cpu", 1, 0, 8, (1, 4)),
        ("cpu", 1, 0, 3, (1, 3)),
        ("cpu", 3, 2, 8, (3, 2)),
        ("cuda", 0, 0, 16, (1, 0)),
        ("cuda", 2, 0, 16, (2, 0)),
    ],
)
def test_decoder_layout_fills_in_what_was_left_to_choose(
    device_name: str, workers: int, threads: int, cores: int, expected: tuple[int, int]
) -> None:
    assert device.decoder_layout(device_name, workers, threads, cores) == expected


def test_decoder_layout_takes_the_operators_openmp_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert device.decoder_layout("cpu", 0, 0, 16) == (2, 1)
    assert device.decoder_layout("cpu", 0, 3, 16) == (2, 3)  # CPU_THREADS, where set, says more
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert device.decoder_layout("cpu", 0, 0, 16) == (2, 4)


def test_decoder_layout_reads_the_cores_this_process_may_use() -> None:
    workers, threads = device.decoder_layout("cpu", 0, 0)

    assert 1 <= workers <= device.AUTO_CPU_WORKERS and threads >= workers
