"""Read the tensors of a PyTorch checkpoint without PyTorch.

A ``torch.save`` file is a zip archive: a pickle (``data.pkl``) that rebuilds tensors from raw storages
(``data/<key>``). Unpickling it here only ever builds numpy arrays, plain containers and inert placeholders:
every class the pickle names outside a small allow-list becomes a placeholder that runs no code, so reading a
checkpoint cannot execute anything it carries.
"""

from __future__ import annotations

import builtins
import collections
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_SAFE_BUILTINS = {"dict", "list", "tuple", "set", "frozenset", "int", "float", "str", "bytes", "bool", "object"}


class CheckpointError(ValueError):
    """The file is not a PyTorch zip checkpoint this reader understands."""


class _Placeholder:
    """Stands in for any class a checkpoint names that is not needed to read its tensors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __setstate__(self, state: Any) -> None:
        self.state = state


def _rebuild_tensor(storage: np.ndarray, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any) -> Any:
    if not size:
        return storage[offset].copy()
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=[step * storage.itemsize for step in stride]
    )
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, archive: zipfile.ZipFile, root: str) -> None:
        super().__init__(archive.open(f"{root}/data.pkl"))
        self._archive = archive
        self._root = root

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return name
        if module == "collections" and name in ("OrderedDict", "defaultdict"):
            return getattr(collections, name)
        if module in ("builtins", "__builtin__"):
            if name == "long":
                return int
            if name in _SAFE_BUILTINS:
                return getattr(builtins, name)
        if module == "torch.torch_version" and name == "TorchVersion":
            return str
        return type(name, (_Placeholder,), {"__module__": "checkpoint"})

    def persistent_load(self, pid: Any) -> np.ndarray:
        try:
            kind, storage_type, key, _location, _numel = pid
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"unexpected persistent id {pid!r}") from exc
        if kind != "storage" or storage_type not in _STORAGE_DTYPES:
            raise CheckpointError(f"unsupported storage {storage_type!r}")
        return np.frombuffer(self._archive.read(f"{self._root}/data/{key}"), dtype=_STORAGE_DTYPES[storage_type])


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Load a PyTorch zip checkpoint's top-level object with tensors as numpy arrays.

    Args:
        path: a file written by ``torch.save`` (zip format, PyTorch 1.6 and later).

    Returns:
        The saved object (for a Lightning checkpoint: a dict with ``state_dict``, ``hyper_parameters``, ...).

    Raises:
        CheckpointError: the file is not such a checkpoint.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
            if len(pickles) != 1:
                raise CheckpointError(f"{path} holds no single data.pkl")
            loaded = _Unpickler(archive, pickles[0].rsplit("/", 1)[0]).load()
    except (zipfile.BadZipFile, pickle.UnpicklingError, KeyError, EOFError) as exc:
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {exc}") from exc
    if not isinstance(loaded, dict):
        raise CheckpointError(f"{path} does not hold a dict")
    return loaded
