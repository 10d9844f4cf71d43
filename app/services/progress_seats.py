"""How many progress WebSockets each user holds open, against ``PROGRESS_MAX_SOCKETS_PER_USER``.

- ``LocalSeats`` (embedded mode, no Redis): counted in the API process, which is the whole service there.
- ``RedisSeats`` (production): one sorted set per user in Redis, shared by every API process and host, so the cap
  holds for the service and not per process. Each seat is scored by when its socket last said it was alive; an open
  socket renews its seat every ``PROGRESS_ACCOUNT_CHECK_SECONDS``, and a seat not renewed for three of those (its
  process died without giving it back) no longer counts.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Protocol, cast

import redis

from app.core.config import Settings

SEAT_LIFETIME_CHECKS = 3
"""Renewals a seat may miss before it stops counting."""

_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + 1)
return 1
"""
"""Drop the user's stale seats, then take one if fewer than the limit are held: atomic, so two sockets opened at
once by different processes cannot both take the last seat."""


class ProgressSeats(Protocol):
    def take(self, owner_id: int) -> str | None:
        """A seat for a new socket of ``owner_id``, or None when they already hold the limit."""
        ...

    def renew(self, owner_id: int, seat: str) -> None: ...

    def give_back(self, owner_id: int, seat: str) -> None: ...

    def held(self, owner_id: int) -> int: ...


class LocalSeats:
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held = Counter[int]()

    def take(self, owner_id: int) -> str | None:
        if self._held[owner_id] >= self._limit:
            return None
        self._held[owner_id] += 1
        return uuid.uuid4().hex

    def renew(self, owner_id: int, seat: str) -> None:
        """Nothing to renew: a seat lives exactly as long as this process's socket."""

    def give_back(self, owner_id: int, seat: str) -> None:
        self._held[owner_id] -= 1
        if self._held[owner_id] <= 0:
            del self._held[owner_id]

    def held(self, owner_id: int) -> int:
        return self._held[owner_id]


class RedisSeats:
    def __init__(self, client: redis.Redis, limit: int, lifetime_seconds: float) -> None:
        self._client = client
        self._limit = limit
        self._lifetime = lifetime_seconds
        self._take = client.register_script(_TAKE)

    @staticmethod
    def _key(owner_id: int) -> str:
        return f"audio-api:progress-seats:{owner_id}"

    def take(self, owner_id: int) -> str | None:
        seat = uuid.uuid4().hex
        taken = self._take(keys=[self._key(owner_id)], args=[time.time(), self._lifetime, self._limit, seat])
        return seat if taken else None

    def renew(self, owner_id: int, seat: str) -> None:
        key = self._key(owner_id)
        pipeline = self._client.pipeline()
        pipeline.zadd(key, {seat: time.time()}, xx=True)
        pipeline.expire(key, int(self._lifetime) + 1)
        pipeline.execute()

    def give_back(self, owner_id: int, seat: str) -> None:
        self._client.zrem(self._key(owner_id), seat)

    def held(self, owner_id: int) -> int:
        return cast(int, self._client.zcount(self._key(owner_id), time.time() - self._lifetime, "+inf"))


def build_progress_seats(settings: Settings) -> ProgressSeats:
    limit = settings.progress_max_sockets_per_user
    if settings.redis_url is None:
        return LocalSeats(limit)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisSeats(client, limit, SEAT_LIFETIME_CHECKS * settings.progress_account_check_seconds)
