"""The gateway's schema extensions on a small schema in memory: documents parsed
once and remembered only when short, and errors shown as a person's words."""

from __future__ import annotations

import strawberry

from gateway.errors import ErrorCodes
from gateway.query_cache import CACHED_TEXT, CachedDocuments, parse_cache_info
from leadrouter import i18n
from leadrouter.errors import NotFound


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def lead(self, id: str) -> str:
        raise NotFound(f"no lead '{id}'")

    @strawberry.field
    def broken(self) -> str:
        raise KeyError("SELECT id FROM leads WHERE account = %s")


SCHEMA = strawberry.Schema(Query, extensions=[CachedDocuments, ErrorCodes])


async def test_a_text_seen_before_is_answered_from_the_cache() -> None:
    text = "query Greeting { hello } # seen twice"
    first = await SCHEMA.execute(text)
    hits, misses = parse_cache_info()
    second = await SCHEMA.execute(text)
    assert first.data == second.data == {"hello": "hi"}
    assert parse_cache_info() == (hits + 1, misses)


async def test_a_long_text_is_answered_but_never_kept() -> None:
    text = "{ hello }" + " " * CACHED_TEXT
    before = parse_cache_info()
    result = await SCHEMA.execute(text)
    assert result.data == {"hello": "hi"}
    assert parse_cache_info() == before


async def test_a_text_that_does_not_parse_is_the_callers_mistake() -> None:
    result = await SCHEMA.execute("{ hello ")
    assert result.errors is not None
    (error,) = result.errors
    assert error.extensions == {"code": "BAD_USER_INPUT"}
    assert error.message == (
        "The request is not valid GraphQL (line 1, column 9): expected a name, "
        "found the end of the request"
    )


async def test_a_domain_error_reaches_the_caller_with_its_code_and_path() -> None:
    result = await SCHEMA.execute('{ lead(id: "17") }')
    assert result.errors is not None
    (error,) = result.errors
    assert error.message == "no lead '17'"
    assert error.extensions == {"code": "NOT_FOUND"}
    assert error.path == ["lead"]


async def test_a_failure_inside_is_masked_with_no_sql_in_the_answer() -> None:
    result = await SCHEMA.execute("{ broken }")
    assert result.errors is not None
    (error,) = result.errors
    assert error.message == "Unexpected error; it has been logged."
    assert error.extensions == {"code": "INTERNAL_SERVER_ERROR"}


async def test_the_masked_failure_and_a_syntax_error_read_in_russian() -> None:
    with i18n.speaking("ru"):
        masked = await SCHEMA.execute("{ broken }")
        unparsed = await SCHEMA.execute("{ hello ")
    assert masked.errors is not None and unparsed.errors is not None
    assert masked.errors[0].message == "Непредвиденная ошибка; она записана в журнал."
    assert unparsed.errors[0].message.startswith("Запрос — не корректный GraphQL")
