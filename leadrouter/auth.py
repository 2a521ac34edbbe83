"""The service's own bearer tokens: signed, expiring, naming account, user, role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from leadrouter.errors import Unauthenticated

ROLES = ("admin", "manager", "partner", "viewer")
ISSUER = "leadrouter"


@dataclass(frozen=True)
class Caller:
    account: str
    user_id: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def issue_token(
    secret: str, *, account: str, user_id: str, role: str, now: datetime, ttl: timedelta
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; one of {', '.join(ROLES)}")
    claims = {
        "iss": ISSUER,
        "sub": user_id,
        "acc": account,
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str, now: datetime) -> Caller:
    """The caller a token names; any flaw is UNAUTHENTICATED, never a crash."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer=ISSUER,
            # Time claims are checked below against the injected clock instead.
            options={
                "require": ["exp", "iat", "sub", "iss"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"the bearer token is not valid ({error})") from error
    # Expiry is checked against the injected clock, not the system's.
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthenticated("the bearer token has expired; ask for a new one")
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("acc"), str):
        raise Unauthenticated("the bearer token names no known role or account")
    return Caller(account=claims["acc"], user_id=str(claims["sub"]), role=role)
