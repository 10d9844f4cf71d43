"""ASGI middleware: request metrics, and the upload size cap enforced before a body is parsed."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.core.errors import PayloadTooLarge
from app.core.metrics import HTTP_ERRORS, HTTP_REQUEST_SECONDS

# Multipart framing and form fields around the file itself.
FORM_OVERHEAD_BYTES = 1 << 20


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413: at once when Content-Length says so, else as soon as the streamed
    body passes it — the handler never sees (and never stores) the rest."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes + FORM_OVERHEAD_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = PayloadTooLarge(details={"max_bytes": self.max_body_bytes - FORM_OVERHEAD_BYTES})
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await error_response(413, too_large.to_response())(scope, receive, send)
            return

        received = 0
        exceeded = False
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded:
                if not response_started:
                    response_started = True
                    await error_response(413, too_large.to_response())(scope, receive, send)
                return
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


class MetricsMiddleware:
    """Latency per route template (not per raw path, which would explode label cardinality) and error counts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        error_code = ""

        async def recording_send(message: Message) -> None:
            nonlocal status, error_code
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"x-error-code":
                        error_code = value.decode()
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUEST_SECONDS.labels(method, template, str(status)).observe(time.perf_counter() - started)
            if status >= 400:
                HTTP_ERRORS.labels(method, template, str(status), error_code or "UNKNOWN").inc()
