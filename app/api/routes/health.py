from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from app.api.ratelimit import limit_by_ip
from app.schemas.health import HealthPublic
from app.services.health import health_service

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    response_model=HealthPublic,
    dependencies=[Depends(limit_by_ip("health"))],
    responses={503: {"model": HealthPublic, "description": "A backing service is down"}},
)
def health(request: Request) -> JSONResponse:
    """Service status with database, broker and storage checks (503 when any fails)."""
    state = request.app.state
    report = health_service.check(session_factory=state.session_factory, celery=state.celery, storage=state.storage)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.status == "healthy" else 503)
