"""What a caller reads of an error: a code and a person's words, no internals."""

from __future__ import annotations

import logging

import pytest
from graphql import GraphQLError

from gateway.errors import public_error
from leadrouter.errors import BadInput, Conflict, Forbidden, NotFound, Problem
from leadrouter.ratelimit import RateLimited


def _raised(error: Exception) -> GraphQLError:
    """The error as the executor hands it over, from inside a resolver."""
    return GraphQLError("resolver failed", path=["lead"], original_error=error)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (NotFound("no lead '17'"), "NOT_FOUND"),
        (Forbidden("a manager sees only their own leads"), "FORBIDDEN"),
        (Conflict("the lead was taken by someone else"), "CONFLICT"),
        (BadInput("'from' is required"), "BAD_USER_INPUT"),
    ],
)
def test_a_domain_error_keeps_its_message_and_gets_its_code(
    error: Exception, code: str
) -> None:
    shown = public_error(_raised(error))
    assert shown.message == str(error)
    assert shown.extensions == {"code": code}
    assert shown.path == ["lead"]


def test_a_rate_limit_says_when_to_try_again_in_whole_seconds() -> None:
    shown = public_error(_raised(RateLimited("too many presses; wait", 1.2)))
    assert shown.extensions == {"code": "RATE_LIMITED", "retryAfter": 2}


def test_bad_input_lists_each_field_for_a_form_to_show() -> None:
    error = BadInput(
        "the lead has problems",
        [Problem("stage", "no stage 'won' in pipeline 'sales'")],
    )
    shown = public_error(_raised(error))
    assert shown.extensions == {
        "code": "BAD_USER_INPUT",
        "problems": [
            {"path": "stage", "message": "no stage 'won' in pipeline 'sales'"}
        ],
    }


def test_an_unexpected_failure_is_masked_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    internal = RuntimeError(
        'psycopg.errors.UndefinedTable: relation "leads" does not exist '
        "LINE 1: SELECT * FROM leads"
    )
    with caplog.at_level(logging.ERROR, logger="gateway.errors"):
        shown = public_error(_raised(internal))
    assert shown.message == "Unexpected error; it has been logged."
    assert shown.extensions == {"code": "INTERNAL_SERVER_ERROR"}
    assert "SELECT" not in shown.message and "psycopg" not in shown.message
    assert caplog.records and caplog.records[0].exc_info is not None


def test_a_grpc_failure_text_never_reaches_the_caller() -> None:
    internal = ConnectionError(
        "<_AioRpcError of RPC that terminated with: status = StatusCode.UNAVAILABLE"
    )
    shown = public_error(_raised(internal))
    assert "StatusCode" not in shown.message
    assert shown.extensions == {"code": "INTERNAL_SERVER_ERROR"}


def test_a_validation_error_of_the_document_stays_the_callers_mistake() -> None:
    error = GraphQLError("Cannot query field 'x' on type 'Query'.")
    shown = public_error(error)
    assert shown.message == "Cannot query field 'x' on type 'Query'."
    assert shown.extensions == {"code": "BAD_USER_INPUT"}
