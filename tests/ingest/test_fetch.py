"""Fetching media from URLs against a real local HTTP server serving jfk.flac; nothing may leave the machine."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest

from app.ingest import (
    ExtractedMedia,
    FakeMediaExtractor,
    FetchedMedia,
    MediaTooLarge,
    MediaTooLong,
    UrlFetchFailed,
    UrlNotAllowed,
    UrlPolicy,
    YtDlpExtractor,
    fetch_media,
    uses_extractor,
)
from app.pipelines.audio import probe_audio

REDIRECTS = {
    "/r1": "/r2",
    "/r2": "/jfk.flac",
    "/loop": "/loop",
    "/to-metadata": "http://169.254.169.254/latest/meta-data",
    "/to-private": "http://10.0.0.1/",
    "/to-ftp": "ftp://127.0.0.1/jfk.flac",
    **{f"/hops/{n}": f"/hops/{n - 1}" for n in range(1, 10)},
    "/hops/0": "/jfk.flac",
}
PAGE = b"<html><head><title>Ask not</title></head><body><audio src='/jfk.flac'></audio></body></html>"
MB = 1024 * 1024


class MediaServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, media: bytes) -> None:
        super().__init__(("127.0.0.1", 0), MediaHandler)
        self.media = media
        self.requests: list[tuple[str, str | None]] = []
        self.methods: list[tuple[str, str]] = []
        self.base = f"http://127.0.0.1:{self.server_port}"


class MediaHandler(BaseHTTPRequestHandler):
    server: MediaServer

    def do_GET(self) -> None:
        self._route(body=True)

    def do_HEAD(self) -> None:
        self._route(body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""

    def _route(self, *, body: bool) -> None:
        self.server.requests.append((self.path, self.headers.get("Host")))
        self.server.methods.append((self.command, self.path))
        if self.path in REDIRECTS:
            self._send(302, b"", "text/plain", body, Location=REDIRECTS[self.path])
        elif self.path == "/jfk.flac":
            self._send(200, self.server.media, "audio/flac", body)
        elif self.path == "/page.html":
            self._send(200, PAGE, "text/html; charset=utf-8", body)
        elif self.path == "/huge-declared":
            self._send(200, b"", "audio/flac", body=False, **{"Content-Length": str(10**10)})
        elif self.path == "/huge":
            self._stream_endlessly()
        elif self.path == "/trickle":
            self._trickle()
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(200, self.server.media, "audio/flac", body)
        else:
            self._send(404, b"not found", "text/plain", body)

    def _send(self, status: int, content: bytes, content_type: str, body: bool, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        headers.setdefault("Content-Length", str(len(content)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(content)

    def _trickle(self) -> None:
        # Every read arrives within the timeout, yet 10 s of it would bring 25 kB.
        self.send_response(200)
        self.send_header("Content-Type", "audio/flac")
        self.send_header("Content-Length", str(len(self.server.media)))
        self.end_headers()
        try:
            for start in range(0, 25_000, 500):
                self.wfile.write(self.server.media[start : start + 500])
                self.wfile.flush()
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _stream_endlessly(self) -> None:
        # HTTP/1.0 without Content-Length: the body ends when the connection closes, here after 32 MB.
        self.send_response(200)
        self.send_header("Content-Type", "audio/flac")
        self.end_headers()
        try:
            for _ in range(512):
                self.wfile.write(b"\0" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            return


@pytest.fixture(scope="module")
def jfk(testdata_dir: Path) -> bytes:
    return (testdata_dir / "jfk.flac").read_bytes()


@pytest.fixture(scope="module")
def running_server(jfk: bytes) -> Iterator[MediaServer]:
    server = MediaServer(jfk)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(running_server: MediaServer) -> MediaServer:
    running_server.requests.clear()
    running_server.methods.clear()
    return running_server


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuses, and fails the test on, any connection to a non-loopback address, whoever attempts it."""
    attempts: list[str] = []
    original = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        host = str(address[0]) if isinstance(address, tuple) else "unix"
        if host != "unix" and not ip_address(host.split("%")[0]).is_loopback:
            attempts.append(host)
            raise ConnectionRefusedError(f"test connection to {host} blocked")
        original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield
    assert attempts == [], "a test tried to reach a non-loopback address"


LOCAL = UrlPolicy(allowed_networks=("127.0.0.1/32",))


def fetch(url: str, target: Path, *, policy: UrlPolicy = LOCAL, **kwargs: Any) -> FetchedMedia:
    options: dict[str, Any] = {"max_bytes": 8 * MB, "max_duration_seconds": 600.0, "timeout_seconds": 5.0}
    return fetch_media(url, target, policy=policy, **(options | kwargs))


def test_direct_link_downloads_the_exact_bytes(server: MediaServer, jfk: bytes, tmp_path: Path) -> None:
    site = FakeMediaExtractor(ExtractedMedia(media_url="unused"))
    fetched = fetch(f"{server.base}/jfk.flac", tmp_path, extractor=site)

    assert fetched.path.read_bytes() == jfk
    assert (fetched.filename, fetched.size, fetched.title, fetched.extractor) == ("jfk.flac", len(jfk), None, "direct")
    assert fetched.source_url == f"{server.base}/jfk.flac"
    assert fetched.path.parent == tmp_path and fetched.path.suffix == ".flac"
    assert probe_audio(fetched.path).duration == pytest.approx(11.0, abs=0.05)
    assert site.calls == []


def test_redirects_are_followed_and_each_hop_checked(server: MediaServer, jfk: bytes, tmp_path: Path) -> None:
    fetched = fetch(f"{server.base}/r1", tmp_path)

    assert fetched.path.read_bytes() == jfk
    assert fetched.filename == "jfk.flac"
    assert [path for path, _ in server.requests] == ["/r1", "/r2", "/jfk.flac"]


def test_at_most_five_redirects(server: MediaServer, jfk: bytes, tmp_path: Path) -> None:
    assert fetch(f"{server.base}/hops/4", tmp_path).path.read_bytes() == jfk  # 5 redirects
    for url in (f"{server.base}/hops/5", f"{server.base}/loop"):
        with pytest.raises(UrlFetchFailed) as caught:
            fetch(url, tmp_path)
        assert caught.value.details == {"url": url, "reason": "more than 5 redirects"}


@pytest.mark.parametrize("path", ["/to-metadata", "/to-private", "/to-ftp"])
def test_redirect_to_a_forbidden_target_is_refused(server: MediaServer, tmp_path: Path, path: str) -> None:
    with pytest.raises(UrlNotAllowed) as caught:
        fetch(f"{server.base}{path}", tmp_path)

    assert isinstance(caught.value.details, dict) and caught.value.details["url"] == REDIRECTS[path]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
def test_size_cap_leaves_nothing_on_disk(server: MediaServer, tmp_path: Path, path: str) -> None:
    with pytest.raises(MediaTooLarge) as caught:
        fetch(f"{server.base}{path}", tmp_path, max_bytes=1 * MB)

    assert (caught.value.status_code, caught.value.error_code) == (413, "MEDIA_TOO_LARGE")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/missing.flac", "HTTP 404"),
        ("/slow", "timed out"),
        ("/page.html", "the URL is a web page, not a media file"),
    ],
)
def test_fetch_failures(server: MediaServer, tmp_path: Path, path: str, reason: str) -> None:
    with pytest.raises(UrlFetchFailed) as caught:
        fetch(f"{server.base}{path}", tmp_path, timeout_seconds=0.5)

    assert (caught.value.status_code, caught.value.error_code) == (422, "URL_FETCH_FAILED")
    assert caught.value.details == {"url": f"{server.base}{path}", "reason": reason}
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_drips_bytes_is_given_up_on(server: MediaServer, tmp_path: Path) -> None:
    """Each read comes within the timeout; the download as a whole would still take hours at that pace."""
    with pytest.raises(UrlFetchFailed) as caught:
        fetch(f"{server.base}/trickle", tmp_path, timeout_seconds=0.5)

    assert isinstance(caught.value.details, dict)
    assert re.fullmatch(r"too slow: \d+\.\d KiB/s on average", caught.value.details["reason"])
    assert list(tmp_path.iterdir()) == []


def test_unreachable_port_is_a_fetch_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UrlFetchFailed, match="connection failed"):
        fetch(f"http://127.0.0.1:{port}/jfk.flac", tmp_path)


def test_loopback_is_refused_without_the_allowance(server: MediaServer, tmp_path: Path) -> None:
    port = server.server_port
    for url in (f"http://127.0.0.1:{port}/jfk.flac", f"http://localhost:{port}/jfk.flac"):
        with pytest.raises(UrlNotAllowed):
            fetch(url, tmp_path, policy=UrlPolicy())
    assert server.requests == []


def counting_resolver(answers: dict[str, list[list[str]]]) -> tuple[Callable[[str, int], list[str]], list[str]]:
    """Answers each host's n-th lookup with its n-th list (the last one repeats), recording every lookup."""
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        replies = answers[host]
        return replies[min(lookups.count(host), len(replies)) - 1]

    return resolve, lookups


def test_connections_go_to_the_policy_address_with_the_original_host(
    server: MediaServer, jfk: bytes, tmp_path: Path
) -> None:
    resolver, lookups = counting_resolver({"media.test": [["127.0.0.1"]]})
    policy = UrlPolicy(allowed_networks=("127.0.0.1/32",), resolver=resolver)

    fetched = fetch(f"http://media.test:{server.server_port}/jfk.flac", tmp_path, policy=policy)

    assert fetched.path.read_bytes() == jfk
    assert server.requests == [("/jfk.flac", f"media.test:{server.server_port}")]
    assert lookups == ["media.test", "media.test"]  # the check, then the connection


def test_dns_rebinding_never_reaches_the_second_answer(server: MediaServer, tmp_path: Path) -> None:
    resolver, lookups = counting_resolver({"rebind.test": [["93.184.215.14"], ["127.0.0.1"]]})

    with pytest.raises(UrlNotAllowed, match="loopback"):
        fetch(f"http://rebind.test:{server.server_port}/jfk.flac", tmp_path, policy=UrlPolicy(resolver=resolver))

    assert lookups == ["rebind.test", "rebind.test"]
    assert server.requests == []


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.youtube.com", True),
        ("youtube.com", True),
        ("m.youtube.com", True),
        ("youtu.be", True),
        ("www.tiktok.com", True),
        ("vm.tiktok.com", True),
        ("www.instagram.com", True),
        ("notyoutube.com", False),
        ("youtube.com.evil.test", False),
        ("cdn.example.com", False),
    ],
)
def test_site_routing_by_host(host: str, expected: bool) -> None:
    assert uses_extractor(host) is expected


# The social sites cannot be reached offline: FakeMediaExtractor stands in for YouTube/TikTok/Instagram and returns
# what yt-dlp would, a direct media URL (here on the local server) plus metadata. yt-dlp itself is tested below
# through its generic extractor against the local server.
SITE_RESOLVER = {
    host: [["142.250.74.46"]]
    for host in ("www.youtube.com", "youtu.be", "www.tiktok.com", "www.instagram.com", "www.youtube.test")
}


def site_policy(**answers: list[list[str]]) -> UrlPolicy:
    resolver, _ = counting_resolver(SITE_RESOLVER | answers)
    return UrlPolicy(allowed_networks=("127.0.0.1/32",), resolver=resolver)


def stand_in(server: MediaServer, **metadata: Any) -> FakeMediaExtractor:
    media = ExtractedMedia(media_url=f"{server.base}/jfk.flac", title="Ask not: JFK", ext="flac", duration=11.0)
    return FakeMediaExtractor(replace(media, **metadata))


@pytest.mark.parametrize(
    "url",
    [
        "https://www.youtube.com/watch?v=abc123",
        "https://youtu.be/abc123",
        "https://www.tiktok.com/@someone/video/123",
        "https://www.instagram.com/reel/abc/",
    ],
)
def test_site_pages_go_through_the_extractor(server: MediaServer, jfk: bytes, tmp_path: Path, url: str) -> None:
    site = stand_in(server)

    fetched = fetch(url, tmp_path, policy=site_policy(), extractor=site)

    assert site.calls == [url]
    assert fetched.path.read_bytes() == jfk
    assert (fetched.source_url, fetched.title, fetched.extractor) == (url, "Ask not: JFK", "fake")
    assert fetched.filename == "Ask_not_JFK.flac"


def test_page_is_checked_before_the_extractor_sees_it(server: MediaServer, tmp_path: Path) -> None:
    site = stand_in(server)

    with pytest.raises(UrlNotAllowed):
        fetch("https://www.youtube.com/watch?v=x", tmp_path, policy=site_policy(**{"www.youtube.com": [["10.0.0.5"]]}))
    assert site.calls == []


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"media_url": "http://169.254.169.254/latest/meta-data"}, UrlNotAllowed),
        ({"duration": 3601.0}, MediaTooLong),
        ({"duration": None, "is_live": True}, MediaTooLong),
        ({"filesize": 9 * MB}, MediaTooLarge),
    ],
)
def test_extracted_media_is_checked_before_download(
    server: MediaServer, tmp_path: Path, metadata: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        fetch(
            "https://www.youtube.com/watch?v=x",
            tmp_path,
            policy=site_policy(),
            extractor=stand_in(server, **metadata),
            max_duration_seconds=3600.0,
        )
    assert server.requests == []
    assert list(tmp_path.iterdir()) == []


# yt-dlp's generic and HTML5 extractors stand in for its site extractors: the same code path, served locally.
YT_DLP_LOCAL = YtDlpExtractor(socket_timeout=5, allowed_extractors=("generic", "html5"))


@pytest.mark.parametrize(("path", "title"), [("/page.html", "Ask not"), ("/jfk.flac", "jfk")])
def test_yt_dlp_finds_the_audio_url(server: MediaServer, path: str, title: str) -> None:
    media = YT_DLP_LOCAL.extract(f"{server.base}{path}")

    assert (media.media_url, media.ext, media.is_live) == (f"{server.base}/jfk.flac", "flac", False)
    assert media.title is not None and media.title.startswith(title)
    assert server.methods == [("GET", path)]  # it reads the page (or sniffs the file) once and downloads nothing


def test_yt_dlp_result_is_downloaded_by_the_safe_client(server: MediaServer, jfk: bytes, tmp_path: Path) -> None:
    media = YT_DLP_LOCAL.extract(f"{server.base}/page.html")
    url = "https://www.youtube.com/watch?v=abc123"

    fetched = fetch(url, tmp_path, policy=site_policy(), extractor=FakeMediaExtractor(media))

    assert fetched.path.read_bytes() == jfk
    assert fetched.filename == "Ask_not_1.flac"
    assert server.methods == [("GET", "/page.html"), ("GET", "/jfk.flac")]


def test_yt_dlp_reports_a_missing_page_as_a_fetch_failure(server: MediaServer) -> None:
    with pytest.raises(UrlFetchFailed, match="No downloadable media"):
        YT_DLP_LOCAL.extract(f"{server.base}/missing.html")


def test_default_yt_dlp_never_falls_back_to_the_generic_extractor(server: MediaServer) -> None:
    with pytest.raises(UrlFetchFailed) as caught:
        YtDlpExtractor(socket_timeout=5).extract(f"{server.base}/page.html")

    assert isinstance(caught.value.details, dict) and "No suitable extractor" in caught.value.details["reason"]
    assert server.requests == []
