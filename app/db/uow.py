"""Side effects tied to a transaction's outcome.

Work that must only happen once the data it refers to is committed (sending a Celery task that loads a job by id)
is deferred with ``after_commit``; work that undoes a side effect made before the commit (deleting an upload that
was streamed to storage) is registered with ``on_rollback``. Whoever owns the transaction — the request session
dependency, or a worker — calls ``commit`` / ``rollback`` from here so both lists run at the right moment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

_AFTER_COMMIT = "after_commit"
_ON_ROLLBACK = "on_rollback"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def on_rollback(session: Session, action: Callable[[], None]) -> None:
    session.info.setdefault(_ON_ROLLBACK, []).append(action)


def commit(session: Session) -> None:
    """Commit, then run every deferred action in order; the first action error is raised once all have run, so
    one refused task never strands the others."""
    session.commit()
    session.info.pop(_ON_ROLLBACK, None)
    actions: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT, [])
    errors: list[Exception] = []
    for action in actions:
        try:
            action()
        except Exception as exc:
            errors.append(exc)
    if errors:
        raise errors[0]


def rollback(session: Session) -> None:
    """Roll back and undo side effects; a failing compensation is logged, never raised over the original error."""
    session.rollback()
    session.info.pop(_AFTER_COMMIT, None)
    actions: list[Callable[[], None]] = session.info.pop(_ON_ROLLBACK, [])
    for action in reversed(actions):
        try:
            action()
        except Exception:
            logger.exception("compensating action failed during rollback")
