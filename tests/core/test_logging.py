from __future__ import annotations

import logging

import pytest

from app.core.logging import RedactTokensFilter


def test_tokens_in_paths_never_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("uvicorn.access.test")
    logger.addFilter(RedactTokensFilter())
    with caplog.at_level(logging.INFO):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", "/ws/eyJhbGci.payload.sig?job_id=3", "1.1", 101)
        logger.info('"WebSocket /ws/eyJhbGci.payload.sig" [accepted]')
        logger.info("GET /api/v1/files/eyJsigned.link.token")
    text = caplog.text
    assert "eyJ" not in text
    assert "/ws/[redacted]?job_id=3" in text and "/files/[redacted]" in text
