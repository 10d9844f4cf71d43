"""Process-wide settings every process of the service starts with, however it is started."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import app

STARTS = {
    "cli": "import sys\nfrom app import cli\nsys.argv = ['audio-api', '--help']\n"
    "try:\n    cli.main()\nexcept SystemExit:\n    pass",
    "celery": "import app.core.celery_app",
    "api": "import app.main",
}
"""The CLI, ``celery -A app.core.celery_app worker`` and ``uvicorn app.main:app``: what each imports first."""


def _wait_policy(start: str, env: dict[str, str]) -> str:
    code = f"{STARTS[start]}\nimport os\nprint(os.environ['OMP_WAIT_POLICY'])"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return run.stdout.split()[-1]


@pytest.mark.parametrize("start", sorted(STARTS))
def test_openmp_threads_wait_passively_unless_the_operator_says_otherwise(start: str) -> None:
    without = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}

    assert _wait_policy(start, without) == app.OPENMP_WAIT_POLICY
    assert _wait_policy(start, {**without, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
