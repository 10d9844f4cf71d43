"""The one error family of the service.

Every error a client can see is an ``AppError`` rendered as ``{"error_code", "message", "details"}``::

    AppError                      500 INTERNAL_ERROR
    ├── NotAuthenticated          401 NOT_AUTHENTICATED
    │   ├── InvalidCredentials    401 INVALID_CREDENTIALS
    │   ├── InvalidToken          401 INVALID_TOKEN
    │   └── TokenExpired          401 TOKEN_EXPIRED
    ├── Forbidden                 403 FORBIDDEN
    ├── ResourceNotFound          404 NOT_FOUND
    ├── MethodNotAllowed          405 METHOD_NOT_ALLOWED
    ├── Conflict                  409 CONFLICT
    │   ├── EmailTaken            409 EMAIL_TAKEN
    │   └── InvalidJobState       409 INVALID_JOB_STATE
    ├── PayloadTooLarge           413 PAYLOAD_TOO_LARGE
    ├── UnsupportedMediaType      415 UNSUPPORTED_MEDIA_TYPE
    ├── InvalidInput              422 INVALID_INPUT
    │   ├── ValidationFailed      422 VALIDATION_ERROR
    │   └── InvalidAudio          422 INVALID_AUDIO
    ├── RateLimited               429 RATE_LIMITED
    └── ServiceUnavailable        503 SERVICE_UNAVAILABLE

Feature areas subclass these where a client needs a more precise code: ``UnsupportedLanguagePair`` and
``VoiceNotAvailable`` (422), ``UrlNotAllowed`` / ``UrlFetchFailed`` / ``MediaTooLong`` (422) and ``MediaTooLarge``
(413) from URL ingestion, ``ModelNotAvailable`` and ``QueueUnavailable`` (503).

Services and pipelines raise these (never ``HTTPException``); one handler in ``app.api.errors`` renders them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel


class ErrorResponse(BaseModel):
    """The error body every failed request returns."""

    error_code: str
    message: str
    details: dict[str, Any] | list[Any] | None = None


class AppError(Exception):
    status_code: ClassVar[int] = 500
    error_code: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.headers = headers
        super().__init__(self.message)

    def to_response(self) -> ErrorResponse:
        return ErrorResponse(error_code=self.error_code, message=self.message, details=self.details)

    @classmethod
    def openapi(cls, description: str | None = None) -> dict[str, Any]:
        """An OpenAPI ``responses`` entry, so routes document the errors they raise."""
        return {"model": ErrorResponse, "description": description or cls.default_message}


class NotAuthenticated(AppError):
    status_code = 401
    error_code = "NOT_AUTHENTICATED"
    default_message = "Authentication required"

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details=details, headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentials(NotAuthenticated):
    error_code = "INVALID_CREDENTIALS"
    default_message = "Incorrect email or password"


class InvalidToken(NotAuthenticated):
    error_code = "INVALID_TOKEN"
    default_message = "Invalid authentication token"


class TokenExpired(NotAuthenticated):
    error_code = "TOKEN_EXPIRED"
    default_message = "Authentication token has expired"


class Forbidden(AppError):
    status_code = 403
    error_code = "FORBIDDEN"
    default_message = "Not allowed"


class ResourceNotFound(AppError):
    status_code = 404
    error_code = "NOT_FOUND"
    default_message = "Resource not found"


class MethodNotAllowed(AppError):
    status_code = 405
    error_code = "METHOD_NOT_ALLOWED"
    default_message = "Method not allowed"


class Conflict(AppError):
    status_code = 409
    error_code = "CONFLICT"
    default_message = "Conflict with the current state"


class EmailTaken(Conflict):
    error_code = "EMAIL_TAKEN"
    default_message = "An account with this email already exists"


class InvalidJobState(Conflict):
    error_code = "INVALID_JOB_STATE"
    default_message = "The job cannot do that in its current state"


class JobInputGone(Conflict):
    error_code = "JOB_INPUT_GONE"
    default_message = "Something the job was made from has been deleted, so it cannot run again"


class LinkExpired(AppError):
    status_code = 410
    error_code = "LINK_EXPIRED"
    default_message = "This download link has expired; fetch the job again for a fresh one"


class PayloadTooLarge(AppError):
    status_code = 413
    error_code = "PAYLOAD_TOO_LARGE"
    default_message = "Upload exceeds the size limit"


class UnsupportedMediaType(AppError):
    status_code = 415
    error_code = "UNSUPPORTED_MEDIA_TYPE"
    default_message = "Unsupported media type"


class InvalidInput(AppError):
    status_code = 422
    error_code = "INVALID_INPUT"
    default_message = "Invalid input parameters"


class ValidationFailed(InvalidInput):
    error_code = "VALIDATION_ERROR"
    default_message = "Request validation failed"


class InvalidAudio(InvalidInput):
    error_code = "INVALID_AUDIO"
    default_message = "The file is not decodable audio"


class RateLimited(AppError):
    status_code = 429
    error_code = "RATE_LIMITED"
    default_message = "Too many requests"

    def __init__(self, retry_after: int, *, limit: str) -> None:
        super().__init__(
            f"Rate limit of {limit} exceeded; retry in {retry_after} s",
            details={"limit": limit, "retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


class TooManyConnections(AppError):
    status_code = 429
    error_code = "TOO_MANY_CONNECTIONS"
    default_message = "Too many open progress connections"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"At most {limit} progress connections may be open at once; close one first",
            details={"max_connections": limit},
        )


class ServiceUnavailable(AppError):
    status_code = 503
    error_code = "SERVICE_UNAVAILABLE"
    default_message = "A backing service is unavailable"
