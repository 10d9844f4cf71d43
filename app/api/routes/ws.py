from __future__ import annotations

import re
import time
from collections.abc import Callable

import anyio
from fastapi import APIRouter, WebSocket
from starlette.concurrency import run_in_threadpool

from app.api.deps import user_from_claims
from app.core.errors import AppError, InvalidToken, ResourceNotFound, TokenExpired, TooManyConnections
from app.core.security import ACCESS_TOKEN_TYPE, decode_token
from app.schemas.job import MAX_ROW_ID
from app.services.jobs import job_service
from app.services.progress_seats import ProgressSeats

router = APIRouter(tags=["progress"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_MANY = 4429
JOB_ID_DIGITS = re.compile(r"[0-9]{1,10}")
"""ASCII digits only: ``str.isdigit`` also takes superscripts and other scripts' digits."""


async def _refuse(websocket: WebSocket, error: AppError) -> None:
    await websocket.send_json(error.to_response().model_dump())
    codes = {401: CLOSE_UNAUTHORIZED, 429: CLOSE_TOO_MANY}
    await websocket.close(code=codes.get(error.status_code, CLOSE_NOT_FOUND))


def _job_id(raw: str | None) -> int | None:
    """``?job_id=`` read here rather than by FastAPI, whose refusal of a bad one is a bare HTTP 403 before the
    socket opens: the client would learn nothing of what was wrong."""
    if raw is None:
        return None
    if not JOB_ID_DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ROW_ID:
        raise ResourceNotFound("No such job", details={"field": "job_id", "error": f"{raw[:20]!r} is not a job id"})
    return int(raw)


def _authorise(websocket: WebSocket, token: str, raw_job_id: str | None) -> tuple[int, float, int | None]:
    """The owner's id, when the token expires (epoch seconds) and the job followed; a bad token is reported as such
    whatever the job id says."""
    state = websocket.app.state
    claims = decode_token(token, secret_key=state.settings.secret_key, token_type=ACCESS_TOKEN_TYPE)
    job_id = _job_id(raw_job_id)
    with state.session_factory() as session:
        user = user_from_claims(session, claims)
        if job_id is not None:
            job_service.get(session, owner_id=user.id, job_id=job_id)
        return user.id, float(claims["exp"]), job_id


def _account_usable(websocket: WebSocket, owner_id: int) -> bool:
    with websocket.app.state.session_factory() as session:
        try:
            user_from_claims(session, {"sub": str(owner_id)})
        except InvalidToken:
            return False
        return True


@router.websocket("/ws/{token}")
async def job_progress(websocket: WebSocket, token: str, job_id: str | None = None) -> None:
    """Push your jobs' progress: ``{job_id, status, progress, details: {step, time_remaining}}``.

    Optional ``?job_id=`` follows one job. A bad token closes with 4401, another user's job (or no job at all)
    with 4404, a user already holding ``PROGRESS_MAX_SOCKETS_PER_USER`` sockets (across every API process where
    Redis is configured) with 4429; the stream ends with 4401 when the token expires or the account is deactivated
    (checked every ``PROGRESS_ACCOUNT_CHECK_SECONDS``), as any request with that token would then fail.
    """
    await websocket.accept()
    try:
        owner_id, expires_at, followed = await run_in_threadpool(_authorise, websocket, token, job_id)
    except AppError as exc:
        await _refuse(websocket, exc)
        return

    seats: ProgressSeats = websocket.app.state.progress_seats
    seat = await run_in_threadpool(seats.take, owner_id)
    if seat is None:
        await _refuse(websocket, TooManyConnections(websocket.app.state.settings.progress_max_sockets_per_user))
        return
    try:
        await _stream(websocket, owner_id, expires_at, followed, lambda: seats.renew(owner_id, seat))
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(seats.give_back, owner_id, seat)


async def _stream(
    websocket: WebSocket, owner_id: int, expires_at: float, followed: int | None, renew_seat: Callable[[], None]
) -> None:
    """Forward the owner's job events until the client leaves, the token expires or the account stops being usable;
    the socket's seat is renewed at each account check."""
    ended_by: AppError | None = TokenExpired()
    with anyio.move_on_after(max(0.0, expires_at - time.time())):
        async with anyio.create_task_group() as group:

            async def forward() -> None:
                async for event in websocket.app.state.job_stream.events(owner_id, followed):
                    await websocket.send_json(event.model_dump(mode="json"))

            async def watch_account() -> None:
                nonlocal ended_by
                while True:
                    await anyio.sleep(websocket.app.state.settings.progress_account_check_seconds)
                    if not await run_in_threadpool(_account_usable, websocket, owner_id):
                        ended_by = InvalidToken()
                        group.cancel_scope.cancel()
                        return
                    await run_in_threadpool(renew_seat)

            group.start_soon(forward)
            group.start_soon(watch_account)
            # The client may send pings, text or binary; we only need to notice when it leaves.
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass
            ended_by = None
            group.cancel_scope.cancel()
    if ended_by is not None:
        await _refuse(websocket, ended_by)
