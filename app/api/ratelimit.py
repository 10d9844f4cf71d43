"""Per-client rate limits (moving window, ``limits`` library; Redis-backed in production so all API processes
share one count). Limits come from settings by scope: auth, voice, translation, speaker, health."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Literal

from fastapi import Request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.api.deps import CurrentUser, SettingsDep
from app.core.config import Settings
from app.core.errors import RateLimited

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

    def check(self, limit: str, scope: str, key: str) -> None:
        item: RateLimitItem = parse(limit)
        try:
            allowed = self._limiter.hit(item, scope, key)
        except Exception:
            # An unreachable limit store must not take the API down with it: fail open, loudly.
            logger.warning("rate limit storage unavailable; allowing request", exc_info=True)
            return
        if not allowed:
            reset_at = self._limiter.get_window_stats(item, scope, key).reset_time
            raise RateLimited(max(1, math.ceil(reset_at - time.time())), limit=limit)


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
