"""Errors raised by the model engines."""

from __future__ import annotations

from app.core.errors import ServiceUnavailable


class ModelNotAvailable(ServiceUnavailable):
    """The configured model cannot be loaded (unknown name, missing folder, corrupt files)."""

    error_code = "MODEL_NOT_AVAILABLE"
    default_message = "The configured model is not available"


class DeviceNotAvailable(ServiceUnavailable):
    """The configured compute device (e.g. CUDA) is not present on this machine."""

    error_code = "DEVICE_NOT_AVAILABLE"
    default_message = "The configured compute device is not available"
