"""The CLI's process-wide settings."""

from __future__ import annotations

import os
import subprocess
import sys

from app import cli

SHOW_WAIT_POLICY = """
import os, sys
from app import cli
sys.argv = ["audio-api", "--help"]
try:
    cli.main()
except SystemExit:
    print(os.environ["OMP_WAIT_POLICY"])
"""


def _wait_policy_in_a_cli_process(env: dict[str, str]) -> str:
    run = subprocess.run([sys.executable, "-c", SHOW_WAIT_POLICY], env=env, capture_output=True, text=True, check=True)
    return run.stdout.split()[-1]


def test_openmp_threads_wait_passively_unless_the_operator_says_otherwise() -> None:
    """What the CLI's processes (and the API and worker that ``run`` starts with their environment) see."""
    without = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}

    assert _wait_policy_in_a_cli_process(without) == cli.OPENMP_WAIT_POLICY
    assert _wait_policy_in_a_cli_process({**without, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"
