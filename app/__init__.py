"""audio-api: a self-hosted audio AI service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("audio-api")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
