"""Password hashing (argon2 via pwdlib) and signed tokens (PyJWT).

Access tokens and download links are both HS256 JWTs signed with ``SECRET_KEY``; a ``typ`` claim keeps one from
being accepted as the other.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash

from app.core.errors import InvalidToken, TokenExpired

ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
DOWNLOAD_TOKEN_TYPE = "download"  # noqa: S105

password_hash = PasswordHash.recommended()

# Verified against when the email is unknown, so a login takes as long whether or not the account exists.
DUMMY_HASH = password_hash.hash("dummy-password-for-timing")


def hash_password(password: str) -> str:
    return password_hash.hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """Check a password; the second item is a new hash when the stored one uses outdated parameters."""
    return password_hash.verify_and_update(password, hashed)


def create_token(
    subject: str,
    *,
    secret_key: str,
    token_type: str,
    expires_in: timedelta,
    extra: dict[str, Any] | None = None,
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": subject, "typ": token_type, "iat": now, "exp": now + expires_in}
    if extra:
        claims.update(extra)
    return jwt.encode(claims, secret_key, algorithm=ALGORITHM)


def decode_token(token: str, *, secret_key: str, token_type: str) -> dict[str, Any]:
    """Decode and verify a token of the given type; raises ``TokenExpired`` or ``InvalidToken``."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "typ"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired() from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    if claims.get("typ") != token_type:
        raise InvalidToken()
    return claims
