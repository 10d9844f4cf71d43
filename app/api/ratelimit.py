"""Per-client rate limits (moving window, ``limits`` library; Redis-backed in production so all API processes
share one count). Limits come from settings by scope: auth, voice, translation, speaker, health."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.api.deps import CurrentUser, SettingsDep
from app.core.config import Settings
from app.core.errors import RateLimited
from app.models.job import Job, JobKind

logger = logging.getLogger(__name__)

Scope = Literal["auth", "voice", "translation", "speaker", "health"]


def limit_for(settings: Settings, scope: Scope) -> str:
    return {
        "auth": settings.rate_limit_auth,
        "voice": settings.rate_limit_voice,
        "translation": settings.rate_limit_translation,
        "speaker": settings.rate_limit_speaker,
        "health": settings.rate_limit_health,
    }[scope]


class RateLimiter:
    def __init__(self, storage_url: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_url))

    def check(self, limit: str, scope: str, key: str, *, cost: int = 1) -> None:
        """Count ``cost`` submissions (at most a whole window's allowance), or refuse with 429 if they do not fit."""
        item: RateLimitItem = parse(limit)
        cost = min(cost, item.amount)
        try:
            allowed = self._limiter.hit(item, scope, key, cost=cost)
        except Exception:
            # An unreachable limit store must not take the API down with it: fail open, loudly.
            logger.warning("rate limit storage unavailable; allowing request", exc_info=True)
            return
        if not allowed:
            raise self._refusal(item, limit, scope, key)

    def exhausted(self, limit: str, scope: str, key: str) -> RateLimited | None:
        """The refusal a submission would get now, without counting one (``None`` if it would be allowed)."""
        item: RateLimitItem = parse(limit)
        try:
            if self._limiter.test(item, scope, key):
                return None
            return self._refusal(item, limit, scope, key)
        except Exception:
            logger.warning("rate limit storage unavailable; allowing request", exc_info=True)
            return None

    def _refusal(self, item: RateLimitItem, limit: str, scope: str, key: str) -> RateLimited:
        reset_at = self._limiter.get_window_stats(item, scope, key).reset_time
        return RateLimited(max(1, math.ceil(reset_at - time.time())), limit=limit)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_by_ip(scope: Scope) -> Callable[[Request, Settings], None]:
    def dependency(request: Request, settings: SettingsDep) -> None:
        if settings.rate_limit_enabled:
            request.app.state.rate_limiter.check(limit_for(settings, scope), scope, f"ip:{_client_ip(request)}")

    return dependency


def limit_by_user(scope: Scope) -> Callable[..., None]:
    def dependency(request: Request, settings: SettingsDep, user: CurrentUser) -> None:
        if settings.rate_limit_enabled:
            request.app.state.rate_limiter.check(limit_for(settings, scope), scope, f"user:{user.id}")

    return dependency


SCOPE_OF_KIND: dict[JobKind, Scope] = {
    JobKind.TRANSCRIPTION: "translation",
    JobKind.TRANSLATION: "translation",
    JobKind.DIARIZATION: "speaker",
    JobKind.SPEAKER_EXTRACTION: "speaker",
    JobKind.VOICE_CLONE: "voice",
}


def retry_admission(request: Request, settings: SettingsDep, user: CurrentUser) -> Callable[[Job], None]:
    """What ``job_service.retry`` calls once a job is known to be retryable: count the retry as a submission of
    its kind, since it queues the whole job again (hours of audio, say), so cancelling and retrying must not get
    round the limit on submitting. Refused retries (404, 409) are not counted."""

    def admit(job: Job) -> None:
        if settings.rate_limit_enabled:
            scope = SCOPE_OF_KIND[JobKind(job.kind)]
            request.app.state.rate_limiter.check(limit_for(settings, scope), scope, f"user:{user.id}")

    return admit


RetryAdmission = Annotated[Callable[[Job], None], Depends(retry_admission)]


def charge_batch(request: Request, settings: Settings, user_id: int, scope: Scope, jobs: int) -> None:
    """Count a batch as the submissions it makes: one per job, the one its route's limit already counted
    included, up to a whole window's allowance (so a batch larger than the limit is not refused outright)."""
    if settings.rate_limit_enabled and jobs > 1:
        limit = limit_for(settings, scope)
        cost = min(jobs, parse(limit).amount) - 1
        if cost > 0:
            request.app.state.rate_limiter.check(limit, scope, f"user:{user_id}", cost=cost)


UPLOAD_SCOPES: dict[str, Scope] = {"voice": "voice", "translation": "translation", "speaker": "speaker"}
"""The first path segment under the API prefix, for the routes that take uploads."""


def upload_refusal(state: Any, path: str, user_id: str) -> RateLimited | None:
    """Why an upload to ``path`` by ``user_id`` would be refused by its rate limit, before its body is read: a user
    over the limit must not be able to make the server receive and spool gigabytes only to be told 429."""
    settings: Settings = state.settings
    if not settings.rate_limit_enabled or not path.startswith(settings.api_prefix + "/"):
        return None
    scope = UPLOAD_SCOPES.get(path[len(settings.api_prefix) + 1 :].split("/", 1)[0])
    if scope is None:
        return None
    limiter: RateLimiter = state.rate_limiter
    return limiter.exhausted(limit_for(settings, scope), scope, f"user:{user_id}")
