"""Query texts seen before are parsed from cache.

Strawberry's own ParserCache raises a syntax error from inside its parsing
hook, past the point where the error would be answered as the caller's
mistake; this one leaves a text that does not parse to strawberry's parser,
which reports it like any other bad request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension

# Distinct query texts kept parsed; the UI and the widget send a few dozen.
CACHED_DOCUMENTS = 256

_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)


class CachedParse(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # A text that does not parse is parsed again by strawberry, which
        # answers it as BAD_USER_INPUT.
        if context.query:
            with suppress(GraphQLError):
                context.graphql_document = _parse(
                    context.query, **context.parse_options
                )
        yield
