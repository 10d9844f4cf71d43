from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class CheckResult(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float
    error: str | None = None


class HealthPublic(BaseModel):
    status: Literal["healthy", "unhealthy"]
    version: str
    gpu_available: bool
    checks: dict[str, CheckResult]
