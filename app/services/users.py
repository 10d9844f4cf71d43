"""Accounts: registration and password login."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import EmailTaken, InvalidCredentials, ResourceNotFound
from app.core.security import DUMMY_HASH, hash_password, verify_password
from app.models.user import User
from app.schemas.user import UserCreate


class UserService:
    def get_by_email(self, session: Session, *, email: str) -> User | None:
        return session.scalar(select(User).where(User.email == email.strip().lower()))

    def register(self, session: Session, *, user_create: UserCreate) -> User:
        email = user_create.email.strip().lower()
        if self.get_by_email(session, email=email) is not None:
            raise EmailTaken(details={"field": "email"})
        user = User(
            email=email,
            hashed_password=hash_password(user_create.password),
            full_name=user_create.full_name,
            is_active=True,
        )
        try:
            with session.begin_nested():  # a concurrent registration of the same email loses cleanly
                session.add(user)
        except IntegrityError as exc:
            raise EmailTaken(details={"field": "email"}) from exc
        return user

    def authenticate(self, session: Session, *, email: str, password: str) -> User:
        user = self.get_by_email(session, email=email)
        if user is None:
            verify_password(password, DUMMY_HASH)  # same cost as a real check: no account enumeration by timing
            raise InvalidCredentials()
        valid, new_hash = verify_password(password, user.hashed_password)
        if not valid or not user.is_active:
            raise InvalidCredentials()
        if new_hash:
            user.hashed_password = new_hash
        return user

    def set_active(self, session: Session, *, email: str, active: bool) -> User:
        """An inactive account keeps its data but can no longer sign in, and its tokens stop working at once."""
        user = self.get_by_email(session, email=email)
        if user is None:
            raise ResourceNotFound("No such account", details={"email": email})
        user.is_active = active
        return user


user_service = UserService()
