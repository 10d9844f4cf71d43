"""Progress socket seats in Redis: shared by every API process, and freed when a process dies holding them."""

from __future__ import annotations

import time

import redis

from app.services.progress_seats import LocalSeats, RedisSeats


def test_a_seat_its_process_stopped_renewing_stops_counting(clean_redis: str) -> None:
    client = redis.Redis.from_url(clean_redis)
    first_process, second_process = RedisSeats(client, 2, 1.0), RedisSeats(client, 2, 1.0)
    kept, abandoned = first_process.take(7), second_process.take(7)
    assert kept and abandoned and second_process.take(7) is None and first_process.held(7) == 2
    assert first_process.take(8) is not None  # another user has seats of their own

    for _ in range(3):  # the first process renews its socket's seat; the second died and never will
        time.sleep(0.5)
        first_process.renew(7, kept)
    assert first_process.held(7) == 1
    taken = second_process.take(7)
    assert taken is not None and first_process.held(7) == 2
    second_process.give_back(7, taken)
    first_process.give_back(7, kept)
    assert first_process.held(7) == 0


def test_local_seats_count_this_process_sockets() -> None:
    seats = LocalSeats(1)
    seat = seats.take(1)
    assert seat is not None and seats.take(1) is None and seats.held(1) == 1
    seats.give_back(1, seat)
    assert seats.held(1) == 0 and seats.take(1) is not None
