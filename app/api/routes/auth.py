from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from app.api.deps import SessionDep, SettingsDep
from app.api.ratelimit import limit_by_ip
from app.core.errors import EmailTaken, InvalidCredentials, RateLimited
from app.core.security import ACCESS_TOKEN_TYPE, create_token
from app.schemas.user import Token, UserCreate, UserPublic
from app.services.users import user_service

router = APIRouter(
    prefix="/auth",
    tags=["auth"],
    dependencies=[Depends(limit_by_ip("auth"))],
    responses={429: RateLimited.openapi()},
)


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses={409: EmailTaken.openapi()},
)
def register(session: SessionDep, user_create: UserCreate) -> UserPublic:
    """Create an account."""
    return UserPublic.model_validate(user_service.register(session, user_create=user_create))


@router.post("/token", response_model=Token, responses={401: InvalidCredentials.openapi()})
def login(session: SessionDep, settings: SettingsDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange email (as ``username``) and password for a bearer access token."""
    user = user_service.authenticate(session, email=form.username, password=form.password)
    expires = timedelta(minutes=settings.access_token_expire_minutes)
    token = create_token(str(user.id), secret_key=settings.secret_key, token_type=ACCESS_TOKEN_TYPE, expires_in=expires)
    return Token(access_token=token, expires_in=int(expires.total_seconds()))
