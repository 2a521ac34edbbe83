"""Short query texts seen before are parsed and validated from cache.

The same few texts come again and again (the "Get lead" mutation, the
screens' queries); parsing and validating them afresh was most of the
gateway's work per press. Only texts up to `CACHED_TEXT` characters are kept:
the UI's and the widget's are under a kilobyte, and a parsed document costs
about 600 bytes a token, so a caller sending many distinct large texts could
otherwise make the gateway hold hundreds of megabytes. Longer texts are
parsed and validated as if there were no cache.

Strawberry's own ParserCache raises a syntax error from inside its parsing
hook, past the point where the error would be answered as the caller's
mistake; a text that does not parse is left here to strawberry's parser,
which reports it like any other bad request.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from functools import lru_cache

from graphql import GraphQLError, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

# Distinct texts kept; at most about 600 KB each (1,000 tokens), 40 MB in all.
CACHED_DOCUMENTS = 64
CACHED_TEXT = 2_048  # characters

_parse = lru_cache(maxsize=CACHED_DOCUMENTS)(parse)
# Keyed by the document's identity, which only a cached text's parse repeats.
_validate = lru_cache(maxsize=CACHED_DOCUMENTS)(validate_document)


def parse_cache_info() -> tuple[int, int]:
    """Texts answered from the cache and texts parsed into it, so far."""
    info = _parse.cache_info()
    return info.hits, info.misses


class CachedDocuments(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and len(context.query) <= CACHED_TEXT:
            # A text that does not parse is parsed again by strawberry, which
            # answers it as BAD_USER_INPUT.
            with suppress(GraphQLError):
                context.graphql_document = _parse(
                    context.query, **context.parse_options
                )
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and len(context.query or "") <= CACHED_TEXT:
            context.pre_execution_errors = _validate(
                context.schema._schema, document, tuple(context.validation_rules)
            )
        yield
