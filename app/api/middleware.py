"""ASGI middleware: request metrics, and the guards that run before a request body is read (size caps, and a
token check for uploads, so an anonymous client can never make the server spool a gigabyte)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.api.ratelimit import upload_refusal
from app.core.errors import NotAuthenticated, PayloadTooLarge, RateLimited
from app.core.metrics import HTTP_ERRORS, HTTP_REQUEST_SECONDS
from app.core.security import ACCESS_TOKEN_TYPE, decode_token

# Multipart framing and form fields around the file itself.
FORM_OVERHEAD_BYTES = 1 << 20
# JSON and url-encoded bodies (registration, login, job options) are small; only uploads get the large cap.
MAX_PLAIN_BODY_BYTES = 1 << 20


REFUSED_BEFORE_ROUTING = "audio_api.refused_before_routing"
"""Scope key the upload gate sets: its 401s and 429s never reach the router, so they have no route to be counted
under."""


def _is_upload(scope: Scope) -> bool:
    """A multipart body, except the sign-in form: it carries no file, so it gets neither the upload's size allowance
    nor the upload's need of a token (OAuth2's password form may come as multipart, as browsers post ``FormData``)."""
    content_type: bytes = dict(scope.get("headers") or []).get(b"content-type", b"")
    if not content_type.lower().startswith(b"multipart/form-data"):
        return False
    prefix: str = scope["app"].state.settings.api_prefix
    return str(scope["path"]) != f"{prefix}/auth/token"


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413: at once when Content-Length says so, else as soon as the streamed
    body passes it — the handler never sees (and never stores) the rest."""

    def __init__(self, app: ASGIApp, max_upload_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _is_upload(scope):
            limit, allowed = self.max_upload_bytes + FORM_OVERHEAD_BYTES, self.max_upload_bytes
        else:
            limit = allowed = MAX_PLAIN_BODY_BYTES
        too_large = PayloadTooLarge(details={"max_bytes": allowed})
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
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
                if received > limit:
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


class UploadAuthGate:
    """Uploads need a valid, unexpired access token, and their user room under the route's rate limit, before their
    body is read (the route still loads the user, and counts the submission)."""

    def __init__(self, app: ASGIApp, secret_key: str) -> None:
        self.app = app
        self.secret_key = secret_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _is_upload(scope):
            authorization = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = authorization.partition(" ")
            try:
                if scheme.lower() != "bearer" or not token:
                    raise NotAuthenticated()
                claims = decode_token(token, secret_key=self.secret_key, token_type=ACCESS_TOKEN_TYPE)
                refusal = upload_refusal(scope["app"].state, scope["path"], str(claims["sub"]))
                if refusal is not None:
                    raise refusal
            except (NotAuthenticated, RateLimited) as exc:
                scope[REFUSED_BEFORE_ROUTING] = True
                await error_response(exc.status_code, exc.to_response(), exc.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def route_template(scope: Scope) -> str:
    """``/api/v1/jobs/{job_id}`` for ``/api/v1/jobs/42``: the path with its parameter values named again.

    Rebuilt from the path and its matched parameters because a route object only knows its path relative to the
    router it was declared on, not the prefixes it was included under.
    """
    if scope.get(REFUSED_BEFORE_ROUTING):
        return "upload refused before routing"
    if "route" not in scope:
        return "unmatched"
    names_by_value = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = scope["path"].split("/")
    return "/".join(f"{{{names_by_value[segment]}}}" if segment in names_by_value else segment for segment in segments)


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
            template = route_template(scope)
            method = scope.get("method", "")
            HTTP_REQUEST_SECONDS.labels(method, template, str(status)).observe(time.perf_counter() - started)
            if status >= 400:
                HTTP_ERRORS.labels(method, template, str(status), error_code or "UNKNOWN").inc()
