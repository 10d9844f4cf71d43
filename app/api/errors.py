"""Every error leaves the API in the seed's format; no stack trace ever reaches a client."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError, ErrorResponse, MethodNotAllowed, ResourceNotFound, ValidationFailed

logger = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "NOT_AUTHENTICATED",
    403: "FORBIDDEN",
    404: ResourceNotFound.error_code,
    405: MethodNotAllowed.error_code,
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(status_code: int, body: ErrorResponse, headers: dict[str, str] | None = None) -> JSONResponse:
    response = JSONResponse(status_code=status_code, content=jsonable_encoder(body), headers=headers)
    response.headers["X-Error-Code"] = body.error_code  # lets the metrics middleware count errors by code
    return response


async def _app_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    if exc.status_code >= 500:
        logger.error("%s: %s", exc.error_code, exc.message)
    return error_response(exc.status_code, exc.to_response(), exc.headers)


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    location = [str(part) for part in error["loc"]]
    if error["type"] == "json_invalid":
        # pydantic puts the character offset where a field name would be; say where the JSON broke instead.
        reason = error.get("ctx", {}).get("error", "invalid JSON")
        offset = f" at character {location[1]}" if len(location) > 1 else ""
        return {"field": location[0], "error": f"Malformed JSON{offset}: {reason}", "type": error["type"]}
    return {"field": ".".join(location[1:]) or location[0], "error": error["msg"], "type": error["type"]}


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """The seed's ``details``: the first problem's ``field`` and ``error``, with every problem under ``errors``."""
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(error) for error in exc.errors()]
    details: dict[str, Any] = {**errors[0], "errors": errors} if errors else {}
    return error_response(422, ValidationFailed(details=details).to_response())


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
    message = exc.detail if isinstance(exc.detail, str) else "Request failed"
    if exc.status_code == 404:
        message = "Resource not found"
    body = ErrorResponse(error_code=code, message=message, details=None)
    return error_response(exc.status_code, body, dict(exc.headers) if exc.headers else None)


async def _unhandled(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(500, AppError().to_response())


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
