"""Request dependencies: settings, the DB session (the request's unit of work), the current user, services' ports."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InvalidToken, NotAuthenticated
from app.core.security import ACCESS_TOKEN_TYPE, decode_token
from app.db import uow
from app.engines.registry import EngineRegistry
from app.ingest import UrlPolicy
from app.models.user import User
from app.schemas.job import MAX_ROW_ID
from app.services.catalog import LanguageCatalog
from app.services.outbox import JobOutbox
from app.storage import Storage

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed after the handler returns (before the response is sent), then
    deferred actions run (e.g. enqueueing); rolled back with compensations on any error."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        uow.commit(session)
    except BaseException:
        uow.rollback(session)
        raise
    finally:
        session.close()


def get_storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def get_catalog(request: Request) -> LanguageCatalog:
    catalog: LanguageCatalog = request.app.state.catalog
    return catalog


def get_url_policy(request: Request) -> UrlPolicy:
    policy: UrlPolicy = request.app.state.url_policy
    return policy


def get_engines(request: Request) -> EngineRegistry:
    engines: EngineRegistry = request.app.state.engines
    return engines


def get_outbox(request: Request) -> JobOutbox:
    outbox: JobOutbox = request.app.state.outbox
    return outbox


BATCH_ID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
"""How batch ids are written (``str(uuid.uuid4())``)."""
JobId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="Job id")]
BatchId = Annotated[str, Path(pattern=BATCH_ID_PATTERN, description="Batch id, as the batch submission returned it")]
"""Checked before any query: a malformed id is a 422, never text the database refuses (a NUL byte on PostgreSQL)."""
PageLimit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
PageOffset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
StorageDep = Annotated[Storage, Depends(get_storage)]
CatalogDep = Annotated[LanguageCatalog, Depends(get_catalog)]
UrlPolicyDep = Annotated[UrlPolicy, Depends(get_url_policy)]
OutboxDep = Annotated[JobOutbox, Depends(get_outbox)]
EnginesDep = Annotated[EngineRegistry, Depends(get_engines)]


def user_from_token(session: Session, settings: Settings, token: str) -> User:
    return user_from_claims(session, decode_token(token, secret_key=settings.secret_key, token_type=ACCESS_TOKEN_TYPE))


def user_from_claims(session: Session, claims: dict[str, Any]) -> User:
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError) as exc:
        raise InvalidToken() from exc
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidToken()
    return user


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise NotAuthenticated()
    return user_from_token(session, settings, token)


CurrentUser = Annotated[User, Depends(get_current_user)]
