"""Download the audio behind a user's URL: a social-media page or a direct media link, capped and SSRF-safe.

Every URL that is connected to — the user's, each redirect hop, and the media URL a site extractor returns — passes
the :class:`UrlPolicy`, and the download client connects only to addresses the policy approved at connect time.
yt-dlp only extracts; it never downloads. Synchronous on purpose: it runs inside a Celery worker.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import httpx

from app.ingest.errors import MediaTooLarge, MediaTooLong, UrlFetchFailed
from app.ingest.extractors import ExtractedMedia, MediaExtractor, YtDlpExtractor
from app.ingest.ssrf import ResolvedUrl, UrlPolicy
from app.ingest.transport import pinned_client

logger = logging.getLogger(__name__)

EXTRACTOR_DOMAINS = ("youtube.com", "youtu.be", "youtube-nocookie.com", "tiktok.com", "instagram.com")
"""Hosts (and their subdomains) whose pages go through the site extractor; every other URL is a direct link."""
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 1024
MIN_AVERAGE_BYTES_PER_SECOND = 16 * 1024
"""A download averaging less, once it has run for twice the network timeout, is stopped: the timeout bounds each
read, so a server dripping a few bytes a second would otherwise hold a worker for as long as the job may run."""
DownloadProgress = Callable[[int, int | None], None]
"""Bytes received so far, and the size the server declared (``None`` when it did not)."""
_UNSAFE_NAME = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class FetchedMedia:
    """A downloaded media file.

    Attributes:
        path: where the file lies, inside the target folder; the caller owns (and deletes) it.
        filename: a safe display name, e.g. ``jfk.flac`` or the video's title with its extension.
        size: bytes written.
        source_url: the URL the user gave.
        title: the page's title, when a site extractor reported one.
        extractor: ``direct`` for direct links, else the site extractor's name (e.g. ``yt-dlp``).
    """

    path: Path
    filename: str
    size: int
    source_url: str
    title: str | None
    extractor: str


def uses_extractor(host: str) -> bool:
    """Whether URLs on ``host`` are pages for the site extractor rather than direct media links."""
    host = host.lower().rstrip(".")
    return any(host == domain or host.endswith(f".{domain}") for domain in EXTRACTOR_DOMAINS)


def fetch_media(
    url: str,
    target_dir: Path,
    *,
    policy: UrlPolicy,
    max_bytes: int,
    max_duration_seconds: float,
    timeout_seconds: float = 30,
    extractor: MediaExtractor | None = None,
    on_progress: DownloadProgress | None = None,
) -> FetchedMedia:
    """Download the media at ``url`` into ``target_dir``.

    Pages of YouTube, TikTok and Instagram go through ``extractor`` (yt-dlp by default), which reports the audio
    file's URL and metadata; that URL is then downloaded like a direct link. Duration is only known up front from
    the extractor: for direct links the caller must probe the file and enforce ``max_duration_seconds`` itself.

    Args:
        url: the user's URL.
        target_dir: an existing folder for the downloaded file.
        policy: which URLs and addresses may be connected to.
        max_bytes: the largest download accepted; enforced from ``Content-Length`` and while streaming.
        max_duration_seconds: the longest media accepted, checked against the extractor's metadata.
        timeout_seconds: the timeout of each network operation (connect, each read); see also
            ``MIN_AVERAGE_BYTES_PER_SECOND``.
        extractor: the site extractor; a :class:`YtDlpExtractor` with the same timeout when omitted.
        on_progress: called after every chunk with the bytes received and the declared size (``None`` when the
            server does not say); an exception it raises stops the download and removes the partial file.

    Returns:
        The downloaded file.

    Raises:
        UrlNotAllowed: the URL, a redirect or the extracted media URL is refused by the policy.
        UrlFetchFailed: unreachable, timed out, an HTTP error, too many redirects, a web page or no media.
        MediaTooLarge: over ``max_bytes``; nothing is left on disk.
        MediaTooLong: the extractor reports a duration over ``max_duration_seconds``, or a live stream.
    """
    page = policy.check(url)
    if not uses_extractor(page.host):
        fetched = _download(
            page,
            target_dir,
            policy=policy,
            max_bytes=max_bytes,
            timeout_seconds=timeout_seconds,
            on_progress=on_progress,
        )
        return replace(fetched, source_url=url)
    site = extractor or YtDlpExtractor(socket_timeout=timeout_seconds)
    media = site.extract(page.url)
    _check_metadata(media, url, max_bytes=max_bytes, max_duration_seconds=max_duration_seconds)
    fetched = _download(
        policy.check(media.media_url),
        target_dir,
        policy=policy,
        max_bytes=max_bytes,
        timeout_seconds=timeout_seconds,
        headers=media.http_headers,
        filename=_safe_filename(media.title or "media", media.ext or ""),
        on_progress=on_progress,
    )
    return replace(fetched, source_url=url, title=media.title, extractor=site.name)


def _check_metadata(media: ExtractedMedia, url: str, *, max_bytes: int, max_duration_seconds: float) -> None:
    if media.is_live:
        raise MediaTooLong(
            "Live streams cannot be fetched: they have no end",
            details={"url": url, "reason": "live stream", "max_duration_seconds": max_duration_seconds},
        )
    if media.duration is not None and media.duration > max_duration_seconds:
        raise MediaTooLong(
            f"The media lasts {media.duration:.0f} s; the limit is {max_duration_seconds:.0f} s",
            details={"url": url, "duration": media.duration, "max_duration_seconds": max_duration_seconds},
        )
    if media.filesize is not None and media.filesize > max_bytes:
        raise MediaTooLarge(
            f"The media is {media.filesize} bytes; the limit is {max_bytes}",
            details={"url": url, "size": media.filesize, "max_bytes": max_bytes},
        )


def _download(
    first: ResolvedUrl,
    target_dir: Path,
    *,
    policy: UrlPolicy,
    max_bytes: int,
    timeout_seconds: float,
    headers: Mapping[str, str] | None = None,
    filename: str | None = None,
    on_progress: DownloadProgress | None = None,
) -> FetchedMedia:
    url = first.url
    try:
        with pinned_client(policy, timeout_seconds=timeout_seconds) as client:
            response = _open(client, first, policy=policy, headers=headers or {})
            try:
                last = PurePosixPath(unquote(response.url.path))
                name = filename or _safe_filename(last.stem, last.suffix)
                path = target_dir / f"ingest-{secrets.token_hex(8)}{PurePosixPath(name).suffix}"
                size = _stream_to_file(
                    response,
                    path,
                    url=url,
                    max_bytes=max_bytes,
                    grace_seconds=2 * timeout_seconds,
                    on_progress=on_progress,
                )
            finally:
                response.close()
    except httpx.TimeoutException as exc:
        raise _fetch_failed(url, "timed out") from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise _fetch_failed(url, f"connection failed: {exc}") from exc
    return FetchedMedia(path=path, filename=name, size=size, source_url=url, title=None, extractor="direct")


def _open(client: httpx.Client, first: ResolvedUrl, *, policy: UrlPolicy, headers: Mapping[str, str]) -> httpx.Response:
    """Send a GET and follow redirects by hand, so that every hop passes the policy before it is requested."""
    url = current = first.url
    for _ in range(MAX_REDIRECTS + 1):
        response = client.send(client.build_request("GET", current, headers=headers), stream=True)
        if not response.is_redirect:
            if response.is_error:
                response.close()
                raise _fetch_failed(url, f"HTTP {response.status_code}")
            return response
        response.close()
        current = policy.check(str(response.url.join(response.headers["Location"]))).url
    raise _fetch_failed(url, f"more than {MAX_REDIRECTS} redirects")


def _stream_to_file(
    response: httpx.Response,
    path: Path,
    *,
    url: str,
    max_bytes: int,
    grace_seconds: float,
    on_progress: DownloadProgress | None,
) -> int:
    if response.headers.get("Content-Type", "").startswith("text/html"):
        raise _fetch_failed(url, "the URL is a web page, not a media file")
    length = response.headers.get("Content-Length", "")
    declared = int(length) if length.isdigit() else None
    if declared is not None and declared > max_bytes:
        raise _too_large(url, max_bytes)
    size = reported = 0
    started = time.monotonic()
    try:
        with path.open("xb") as out:
            # Pieces as they arrive (not whole chunks, which a dripping server never completes), so that the pace
            # is checked on every read.
            for piece in response.iter_raw():
                size += len(piece)
                if size > max_bytes:
                    raise _too_large(url, max_bytes)
                elapsed = time.monotonic() - started
                if elapsed > grace_seconds and size < MIN_AVERAGE_BYTES_PER_SECOND * elapsed:
                    raise _fetch_failed(url, f"too slow: {size / elapsed / 1024:.1f} KiB/s on average")
                out.write(piece)
                if on_progress is not None and size - reported >= CHUNK_BYTES:
                    reported = size
                    on_progress(size, declared)
        if on_progress is not None and size != reported:
            on_progress(size, declared)
        if size == 0:
            raise _fetch_failed(url, "the response is empty")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    logger.info("fetched %s: %d bytes into %s", url, size, path)
    return size


def _safe_filename(stem: str, ext: str) -> str:
    """A display name without path separators, spaces or shell-special characters, e.g. ``Ask_not_1.flac``."""
    stem = _UNSAFE_NAME.sub("_", stem).strip("._-")[:100] or "media"
    ext = _UNSAFE_NAME.sub("", ext).strip(".")[:10]
    return f"{stem}.{ext}" if ext else stem


def _fetch_failed(url: str, reason: str) -> UrlFetchFailed:
    return UrlFetchFailed(f"The URL could not be fetched: {reason}", details={"url": url, "reason": reason})


def _too_large(url: str, max_bytes: int) -> MediaTooLarge:
    return MediaTooLarge(
        f"The media exceeds the limit of {max_bytes} bytes", details={"url": url, "max_bytes": max_bytes}
    )
