"""The service's own bearer tokens: signed, expiring, naming account, user, role."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from leadrouter import sign_in_messages
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


# An HS256 signature is 32 bytes: 43 characters of unpadded base64url.
SIGNATURE_LENGTH = 43


def _segment(text: str) -> object:
    try:
        return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, UnicodeError):
        return None


def token_problem(error: jwt.PyJWTError, token: str, what: str) -> str:
    """What is wrong with a token, in words: never the decoder's own text."""
    parts = token.split(".")
    headed = isinstance(_segment(parts[0]), dict)
    if isinstance(error, jwt.InvalidSignatureError):
        if len(parts) == 3 and len(parts[2]) < SIGNATURE_LENGTH:
            return sign_in_messages.token_truncated(what)
        return sign_in_messages.token_wrongly_signed(what)
    if isinstance(error, jwt.InvalidAlgorithmError):
        return sign_in_messages.token_wrong_algorithm(what)
    if isinstance(error, jwt.InvalidIssuerError | jwt.InvalidAudienceError):
        return sign_in_messages.token_not_ours(what)
    if isinstance(error, jwt.MissingRequiredClaimError):
        return sign_in_messages.token_incomplete(what)
    if isinstance(error, jwt.DecodeError):
        # A token cut short keeps a header that reads, and loses its end.
        if headed and len(parts) < 3:
            return sign_in_messages.token_truncated(what)
        if (
            headed
            and len(parts) == 3
            and isinstance(_segment(parts[1]), dict)
            and len(parts[2]) < SIGNATURE_LENGTH
        ):
            return sign_in_messages.token_truncated(what)
        return sign_in_messages.token_malformed(what)
    return sign_in_messages.token_invalid(what)


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
        raise Unauthenticated(token_problem(error, token, "bearer token")) from error
    # Expiry is checked against the injected clock, not the system's.
    if int(claims["exp"]) <= int(now.timestamp()):
        raise Unauthenticated(sign_in_messages.token_expired())
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("acc"), str):
        raise Unauthenticated(sign_in_messages.token_without_role())
    return Caller(account=claims["acc"], user_id=str(claims["sub"]), role=role)
