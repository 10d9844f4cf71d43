from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.metrics import render_metrics

router = APIRouter(tags=["monitoring"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus metrics: request latency, queue lengths, job and model timings, resources, errors."""
    return Response(render_metrics(request.app.state.metric_collectors), media_type=CONTENT_TYPE_LATEST)
