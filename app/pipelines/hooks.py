"""Progress hooks: how a pure pipeline tells the outside world how far it is.

A pipeline calls ``hook(step, completed=..., total=...)`` with amounts in the step's own unit (seconds of audio,
sentences, windows). ``StepProgress`` turns those calls into one overall percentage and a time-remaining estimate
from the step weights the pipeline declares; the worker adapts that to the job row and the WebSocket.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


class ProgressHook(Protocol):
    def __call__(self, step: str, *, completed: float | None = None, total: float | None = None) -> None: ...


def _noop(step: str, *, completed: float | None = None, total: float | None = None) -> None:
    return None


def setup_hook(hook: ProgressHook | None) -> ProgressHook:
    """A missing hook becomes a no-op, so pipeline bodies never check for ``None``."""
    return hook if hook is not None else _noop


@dataclass(frozen=True)
class Progress:
    step: str
    percent: float
    eta_seconds: float | None


class StepProgress:
    """Weighted overall progress across a pipeline's named steps, with an ETA from the rate so far.

    Args:
        weights: relative cost of each step, in pipeline order. Unknown steps count as weightless.
        on_progress: receives every update.
        clock: injectable for tests.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        on_progress: Callable[[Progress], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        total = sum(weights.values()) or 1.0
        self._weights = {step: weight / total for step, weight in weights.items()}
        self._order = list(weights)
        self._on_progress = on_progress
        self._clock = clock
        self._started = clock()

    def __call__(self, step: str, *, completed: float | None = None, total: float | None = None) -> None:
        done_before = sum(self._weights[s] for s in self._order[: self._order.index(step)]) if step in self._weights else None
        fraction = 0.0
        if completed is not None and total:
            fraction = min(max(completed / total, 0.0), 1.0)
        if done_before is None:
            overall = None
        else:
            overall = done_before + self._weights[step] * fraction
        elapsed = self._clock() - self._started
        eta = None
        if overall is not None and overall > 0.02 and elapsed > 0:
            eta = elapsed * (1.0 - overall) / overall
        percent = 0.0 if overall is None else round(100.0 * overall, 1)
        self._on_progress(Progress(step=step, percent=percent, eta_seconds=eta))
