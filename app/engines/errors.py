"""Errors raised by the model engines."""

from __future__ import annotations

import pickle

from app.core.errors import ServiceUnavailable

MODEL_LOAD_ERRORS = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    RuntimeError,
    ImportError,
    EOFError,
    pickle.UnpicklingError,
)
"""What a missing file, a corrupt checkpoint or a config naming an absent class raise while torch-based models load
(torch.load, coqui-tts, pyannote): engines turn them into ``ModelNotAvailable``."""


class ModelNotAvailable(ServiceUnavailable):
    """The configured model cannot be loaded (unknown name, missing folder, corrupt files)."""

    error_code = "MODEL_NOT_AVAILABLE"
    default_message = "The configured model is not available"


class DeviceNotAvailable(ServiceUnavailable):
    """The configured compute device (e.g. CUDA) is not present on this machine."""

    error_code = "DEVICE_NOT_AVAILABLE"
    default_message = "The configured compute device is not available"
