"""Reading PyTorch checkpoints without PyTorch, safely."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.engines.speaker.bundled import bundled_segmentation_checkpoint
from app.engines.speaker.checkpoint import CheckpointError, read_checkpoint


def test_bundled_pyannet_checkpoint_reads_as_numpy() -> None:
    loaded = read_checkpoint(bundled_segmentation_checkpoint())

    state = loaded["state_dict"]
    assert state["sincnet.conv1d.1.weight"].shape == (60, 80, 5)
    assert state["lstm.weight_ih_l0"].shape == (512, 60)
    assert state["classifier.weight"].shape == (3, 128)
    assert all(isinstance(value, np.ndarray) and np.isfinite(value).all() for value in state.values())
    assert loaded["hyper_parameters"]["lstm"]["num_layers"] == 4


def test_a_pickle_that_would_run_code_is_read_inertly(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            import os

            return os.system, (f"touch {marker}",)

    path = tmp_path / "evil.bin"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"state_dict": {}, "payload": Exploit()}))

    loaded = read_checkpoint(path)

    assert not marker.exists()
    assert type(loaded["payload"]).__name__ == "system"  # a placeholder named after what it stands for


@pytest.mark.parametrize("content", [b"not a zip file", b""])
def test_non_checkpoints_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(CheckpointError):
        read_checkpoint(path)
