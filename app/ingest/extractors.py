"""Finding the audio behind a social-media page (YouTube, TikTok, Instagram), without downloading it.

An extractor only turns a page URL into a direct media URL plus metadata; the download itself is done by the
SSRF-safe client in ``app.ingest.fetch``, so the media URL a site returns is checked like any user URL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.ingest.errors import UrlFetchFailed, UrlNotAllowed

logger = logging.getLogger(__name__)

DEFAULT_YT_DLP_EXTRACTORS = ("youtube", "youtube:tab", "youtube:clip", "tiktok", "vm.tiktok", "instagram")
"""yt-dlp extractors enabled by default: only the supported sites, never ``generic``, which would fetch any URL."""

# One plain HTTP(S) file: our downloader fetches a single URL, not HLS/DASH playlists of segments.
AUDIO_FORMAT = "bestaudio[protocol~='^https?$']/best[protocol~='^https?$']"
_LIVE_STATUSES = ("is_live", "is_upcoming")


@dataclass(frozen=True)
class ExtractedMedia:
    """The downloadable media behind a page.

    Attributes:
        media_url: a direct URL of the chosen audio (or audio+video) file.
        title: the page's title, when known.
        duration: length in seconds, when the site reports it.
        filesize: size in bytes (exact or the site's estimate), when known.
        ext: the file extension of the media, e.g. ``m4a`` or ``webm``.
        http_headers: headers the site expects on the media request (user agent, referer).
        is_live: the page is a live (or not yet started) stream, which has no end.
    """

    media_url: str
    title: str | None = None
    duration: float | None = None
    filesize: int | None = None
    ext: str | None = None
    http_headers: Mapping[str, str] = field(default_factory=dict)
    is_live: bool = False


class MediaExtractor(Protocol):
    """Finds the media file behind a page URL of a supported site."""

    name: str

    def extract(self, url: str) -> ExtractedMedia:
        """Return the direct media URL and metadata of the page at ``url``, downloading nothing.

        Raises:
            UrlFetchFailed: the page is unavailable or holds no downloadable media.
            UrlNotAllowed: the URL is a playlist or channel rather than one item.
        """
        ...


class YtDlpExtractor:
    """A ``MediaExtractor`` backed by yt-dlp, restricted to a fixed set of its site extractors.

    Args:
        socket_timeout: seconds yt-dlp waits on an unresponsive site.
        allowed_extractors: yt-dlp extractor names (regexes) it may use; defaults to the supported social sites.
        format_selector: yt-dlp format selection; the default picks the best audio-only single HTTP(S) file.
    """

    name = "yt-dlp"

    def __init__(
        self,
        *,
        socket_timeout: float = 30,
        allowed_extractors: Sequence[str] = DEFAULT_YT_DLP_EXTRACTORS,
        format_selector: str = AUDIO_FORMAT,
    ) -> None:
        self._params: dict[str, Any] = {
            "format": format_selector,
            "allowed_extractors": list(allowed_extractors),
            "socket_timeout": socket_timeout,
            "noplaylist": True,
            "skip_download": True,
            "cachedir": False,
            "quiet": True,
            "no_warnings": True,
            "noprogress": True,
            "logger": logger,
        }

    def extract(self, url: str) -> ExtractedMedia:
        """Run yt-dlp's extraction (``download=False``) and return the chosen format.

        Raises:
            UrlFetchFailed: yt-dlp found no usable media (unsupported URL, unavailable, streamed formats only).
            UrlNotAllowed: the URL is a playlist or channel.
        """
        from yt_dlp import YoutubeDL
        from yt_dlp.utils import YoutubeDLError

        try:
            with YoutubeDL(self._params) as ydl:
                info = ydl.extract_info(url, download=False)
        except YoutubeDLError as exc:
            raise UrlFetchFailed(
                "No downloadable media was found at this URL",
                details={"url": url, "reason": _one_line(str(exc))},
            ) from exc
        if info.get("_type", "video") != "video":
            raise UrlNotAllowed(
                "Playlists and channels cannot be fetched; give the URL of one item",
                details={"url": url, "reason": "playlist"},
            )
        media_url = info.get("url")
        if not media_url or info.get("protocol") not in ("http", "https"):
            raise UrlFetchFailed(
                "No single downloadable media file was found at this URL",
                details={"url": url, "reason": f"protocol {info.get('protocol')!r} is not supported"},
            )
        return ExtractedMedia(
            media_url=media_url,
            title=info.get("title"),
            duration=info.get("duration"),
            filesize=info.get("filesize") or info.get("filesize_approx"),
            ext=info.get("ext"),
            http_headers=dict(info.get("http_headers") or {}),
            is_live=bool(info.get("is_live")) or info.get("live_status") in _LIVE_STATUSES,
        )


class FakeMediaExtractor:
    """Stands in for the social sites, which cannot be reached offline: returns one fixed result for any URL.

    Args:
        media: what every ``extract`` call returns.
    """

    name = "fake"

    def __init__(self, media: ExtractedMedia) -> None:
        self.media = media
        self.calls: list[str] = []

    def extract(self, url: str) -> ExtractedMedia:
        """Record ``url`` and return the fixed result."""
        self.calls.append(url)
        return self.media


def _one_line(message: str) -> str:
    # yt-dlp prefixes "ERROR: " and can append multi-line hints meant for a terminal.
    return message.removeprefix("ERROR: ").splitlines()[0] if message else "extraction failed"
