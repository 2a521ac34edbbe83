"""Maps domain errors to GraphQL error codes; anything unexpected is masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from gateway.graphql_messages import schema_message
from leadrouter import messages
from leadrouter.errors import (
    BadInput,
    Conflict,
    Forbidden,
    LeadrouterError,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from leadrouter.ratelimit import RateLimited

log = logging.getLogger(__name__)

CODES: list[tuple[type[LeadrouterError], str]] = [
    (RateLimited, "RATE_LIMITED"),
    (BadInput, "BAD_USER_INPUT"),
    (NotFound, "NOT_FOUND"),
    (Forbidden, "FORBIDDEN"),
    (Unauthenticated, "UNAUTHENTICATED"),
    (Unavailable, "UNAVAILABLE"),
    (Conflict, "CONFLICT"),
]


def code_of(error: LeadrouterError) -> str:
    return next(
        (code for kind, code in CODES if isinstance(error, kind)), "BAD_USER_INPUT"
    )


def public_error(error: GraphQLError) -> GraphQLError:
    """The error as a client may see it: a code, a readable message, no internals."""
    original = error.original_error
    if isinstance(original, LeadrouterError):
        extensions: dict[str, object] = {"code": code_of(original)}
        if isinstance(original, RateLimited):
            extensions["retryAfter"] = original.retry_after_seconds
        if isinstance(original, BadInput) and original.problems:
            # Each field the caller got wrong, for a form to show beside it.
            extensions["problems"] = [
                {"path": p.path, "message": p.message} for p in original.problems
            ]
        return GraphQLError(
            str(original),
            nodes=error.nodes,
            path=error.path,
            extensions=extensions,
        )
    if original is None or isinstance(original, GraphQLError):
        # Parse and validation errors, and input values that do not coerce to
        # their type (a DateTime that is not ISO 8601): the request is wrong,
        # and the library's words for it are put in the person's.
        where = error.locations[0] if error.locations else None
        return GraphQLError(
            schema_message(
                error.message,
                where.line if where else 0,
                where.column if where else 0,
            ),
            nodes=error.nodes,
            path=error.path,
            extensions={"code": (error.extensions or {}).get("code", "BAD_USER_INPUT")},
        )
    log.error("unexpected error in a resolver", exc_info=original)
    return GraphQLError(
        messages.unexpected_error(),
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [public_error(e) for e in result.errors]
