"""audio-api: a self-hosted audio AI service."""

import os
from importlib.metadata import PackageNotFoundError, version

OPENMP_WAIT_POLICY = "PASSIVE"
"""Whisper decodes two batches side by side on the same cores (``app.engines.device.decoder_layout``), and OpenMP
threads that spin while they wait take the cores from each other's work: with spinning (``ACTIVE``) four minutes of
speech took 19.8 s, with the runtime's default 12.8 s, with ``PASSIVE`` 11.3 s (two cores; jfk.flac alone 3.24,
2.23 and 2.15 s). Set here, on the package's import, so that it holds for every process however started (the CLI,
``celery -A app.core.celery_app worker``, ``uvicorn app.main:app``) before any model library loads OpenMP, which
reads it then; an operator's own value stands."""
os.environ.setdefault("OMP_WAIT_POLICY", OPENMP_WAIT_POLICY)

try:
    __version__ = version("audio-api")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
