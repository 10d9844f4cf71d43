"""Errors raised while ingesting media from a URL.

Each one is the user's URL at fault, so each is a 4xx::

    InvalidInput                  422
    ├── UrlNotAllowed             422 URL_NOT_ALLOWED    scheme, credentials or an address we never connect to
    ├── UrlFetchFailed            422 URL_FETCH_FAILED   unreachable, timed out, 4xx/5xx, no media found
    └── MediaTooLong              422 MEDIA_TOO_LONG     over the duration cap, or a live stream
    PayloadTooLarge               413
    └── MediaTooLarge             413 MEDIA_TOO_LARGE    over the byte cap
"""

from __future__ import annotations

from app.core.errors import InvalidInput, PayloadTooLarge


class UrlNotAllowed(InvalidInput):
    """The URL may not be fetched: not http(s), carries credentials, or reaches a non-public address."""

    error_code = "URL_NOT_ALLOWED"
    default_message = "This URL may not be fetched"


class UrlFetchFailed(InvalidInput):
    """The URL could not be fetched: unresolvable, unreachable, too slow, an HTTP error, or no media in it."""

    error_code = "URL_FETCH_FAILED"
    default_message = "The URL could not be fetched"


class MediaTooLarge(PayloadTooLarge):
    """The media behind the URL is larger than the byte cap."""

    error_code = "MEDIA_TOO_LARGE"
    default_message = "The media exceeds the size limit"


class MediaTooLong(InvalidInput):
    """The media behind the URL is longer than the duration cap (a live stream has no end at all)."""

    error_code = "MEDIA_TOO_LONG"
    default_message = "The media exceeds the duration limit"
