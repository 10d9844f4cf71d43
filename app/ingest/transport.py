"""An httpx transport whose every connection goes only to addresses the URL policy just approved.

httpx has no hook for name resolution, but httpcore (its connection layer) takes a network backend whose
``connect_tcp(host, port)`` opens each connection. :class:`PinnedNetworkBackend` resolves ``host`` through
:meth:`UrlPolicy.resolve` and connects to those exact addresses, so the address checked is the address connected
to: a DNS answer that changes between a check and the connection (DNS rebinding) cannot reach an internal address.
TLS is unaffected: httpcore still sends the host name as SNI and verifies the certificate against it, and the
``Host`` header still comes from the URL.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from app.ingest.ssrf import UrlPolicy

# httpcore's errors, as the httpx errors callers of an httpx transport expect (httpx maps them the same way).
_HTTPX_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
}


class PinnedNetworkBackend(httpcore.SyncBackend):
    """Opens TCP connections only to the addresses the policy approves for the host, at connect time.

    Args:
        policy: the URL policy that resolves and approves addresses.
    """

    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve ``host`` through the policy and connect to the first approved address that answers.

        Raises:
            UrlNotAllowed: any address of ``host`` is not allowed (nothing is connected to).
            UrlFetchFailed: ``host`` does not resolve.
            httpcore.ConnectError: no address accepted the connection.
        """
        failure: httpcore.ConnectError | None = None
        for address in self._policy.resolve(host, port):
            try:
                return super().connect_tcp(str(address), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address of {host} accepted a connection")


class PinnedTransport(httpx.BaseTransport):
    """An httpx transport over :class:`PinnedNetworkBackend`; it never uses proxies or the environment.

    Args:
        policy: the URL policy every connection is resolved and approved through.
        ssl_context: TLS settings; httpx's default (certifi roots, verification on) when omitted.
    """

    def __init__(self, policy: UrlPolicy, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            network_backend=PinnedNetworkBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except tuple(_HTTPX_ERRORS) as exc:
        mapped = next(target for source, target in _HTTPX_ERRORS.items() if isinstance(exc, source))
        raise mapped(str(exc)) from exc


def pinned_client(policy: UrlPolicy, *, timeout_seconds: float) -> httpx.Client:
    """An httpx client that follows no redirects, ignores proxy settings and connects only to approved addresses.

    It asks for uncompressed responses: media is already compressed, and decoding a compressed body would let a
    small download expand far past the byte cap in memory before it is counted.

    Args:
        policy: the URL policy every connection goes through.
        timeout_seconds: the connect, read, write and pool timeout of each operation.
    """
    return httpx.Client(
        transport=PinnedTransport(policy),
        timeout=timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        headers={"Accept-Encoding": "identity"},
    )
