from __future__ import annotations

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from app.api.deps import user_from_token
from app.core.errors import AppError
from app.services.jobs import job_service

router = APIRouter(tags=["progress"])

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


def _authorise(websocket: WebSocket, token: str, job_id: int | None) -> int:
    state = websocket.app.state
    with state.session_factory() as session:
        user = user_from_token(session, state.settings, token)
        if job_id is not None:
            job_service.get(session, owner_id=user.id, job_id=job_id)
        return user.id


@router.websocket("/ws/{token}")
async def job_progress(websocket: WebSocket, token: str, job_id: int | None = None) -> None:
    """Push your jobs' progress: ``{job_id, status, progress, details: {step, time_remaining}}``.

    Optional ``?job_id=`` follows one job. A bad token closes with 4401, another user's job with 4404.
    """
    await websocket.accept()
    try:
        owner_id = await run_in_threadpool(_authorise, websocket, token, job_id)
    except AppError as exc:
        await websocket.send_json(exc.to_response().model_dump())
        await websocket.close(code=CLOSE_UNAUTHORIZED if exc.status_code == 401 else CLOSE_NOT_FOUND)
        return

    async with anyio.create_task_group() as group:

        async def forward() -> None:
            async for event in websocket.app.state.job_stream.events(owner_id, job_id):
                await websocket.send_json(event.model_dump(mode="json"))

        group.start_soon(forward)
        try:
            while True:  # the client may send pings; we only need to notice when it leaves
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        group.cancel_scope.cancel()
