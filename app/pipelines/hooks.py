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
        weights: relative cost of each step, in pipeline order. Unknown steps keep the current percentage.
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
        self._overall = 0.0

    def __call__(self, step: str, *, completed: float | None = None, total: float | None = None) -> None:
        if step in self._weights:
            fraction = min(max(completed / total, 0.0), 1.0) if completed is not None and total else 0.0
            index = self._order.index(step)
            overall = sum(self._weights[s] for s in self._order[:index]) + self._weights[step] * fraction
            # Progress never goes backwards, even if a step reports a smaller amount than before.
            self._overall = max(self._overall, overall)
        elapsed = self._clock() - self._started
        eta = elapsed * (1.0 - self._overall) / self._overall if self._overall > 0.02 else None
        self._on_progress(Progress(step=step, percent=round(100.0 * self._overall, 1), eta_seconds=eta))


def relabelled(label: str, report: ProgressHook) -> ProgressHook:
    """Reports a sub-pipeline's progress as one step (``label``) of the calling pipeline, minus its formatting;
    status steps (reported without amounts, e.g. ``decoding``) pass through under their own names."""

    def relabel(step: str, *, completed: float | None = None, total: float | None = None) -> None:
        if completed is None and total is None:
            report(step)
        elif step != "formatting":
            report(label, completed=completed, total=total)

    return relabel
