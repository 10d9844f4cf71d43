"""The pinned transport over TLS: it connects to the policy's address yet verifies the certificate of the host name.

The policy below allows only 127.0.0.1, so no connection can leave the machine.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from app.ingest import UrlPolicy
from app.ingest.transport import PinnedTransport

CA = trustme.CA()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is for the tests."""


@pytest.fixture(scope="module")
def tls_server(testdata_dir: Path) -> Iterator[tuple[int, list[str | None]]]:
    """An HTTPS file server for ``media.test`` on 127.0.0.1, recording the SNI name of every handshake."""
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    CA.issue_cert("media.test").configure_cert(context)

    def record_sni(_socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> None:
        server_names.append(name)

    context.sni_callback = record_sni
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(testdata_dir)))
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server.server_port, server_names
    server.shutdown()
    server.server_close()


def pinned_client() -> httpx.Client:
    policy = UrlPolicy(allowed_networks=("127.0.0.1/32",), resolver=lambda host, port: ["127.0.0.1"])
    trusting = ssl.create_default_context()
    CA.configure_trust(trusting)
    return httpx.Client(transport=PinnedTransport(policy, ssl_context=trusting))


def test_tls_sends_and_verifies_the_host_name(tls_server: tuple[int, list[str | None]], testdata_dir: Path) -> None:
    port, server_names = tls_server
    server_names.clear()

    with pinned_client() as client:
        response = client.get(f"https://media.test:{port}/jfk.flac")

    assert response.status_code == 200
    assert response.content == (testdata_dir / "jfk.flac").read_bytes()
    assert server_names == ["media.test"]


def test_tls_refuses_a_certificate_for_another_name(tls_server: tuple[int, list[str | None]]) -> None:
    port, _ = tls_server

    with pinned_client() as client, pytest.raises(httpx.ConnectError, match="certificate verify failed"):
        client.get(f"https://other.test:{port}/jfk.flac")
