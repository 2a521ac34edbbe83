"""The language of a request: Accept-Language chooses it, English when none fits."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.language import RequestLanguage
from leadrouter import i18n, messages
from tests.unit.gateway.asgi import call


def test_russian_is_chosen_from_a_regional_tag() -> None:
    assert i18n.from_accept_language("ru-RU,ru;q=0.9,en-US;q=0.8") == "ru"


def test_the_heavier_weight_wins_whatever_the_order() -> None:
    assert i18n.from_accept_language("en;q=0.5, ru;q=0.8") == "ru"
    assert i18n.from_accept_language("ru;q=0.3, en") == "en"


def test_english_when_nothing_asked_is_translated() -> None:
    assert i18n.from_accept_language("") == "en"
    assert i18n.from_accept_language(None) == "en"
    assert i18n.from_accept_language("de-DE, fr;q=0.9") == "en"
    assert i18n.from_accept_language("ru;q=0") == "en"


def _app() -> RequestLanguage:
    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse(messages.body_not_json())

    return RequestLanguage(Starlette(routes=[Route("/", page)]))


async def test_a_request_asking_russian_reads_its_messages_in_russian() -> None:
    reply = await call(_app(), "GET", "/", headers={"Accept-Language": "ru-RU"})
    assert reply.text == "тело запроса — не корректный JSON"


async def test_the_language_does_not_outlive_its_request() -> None:
    await call(_app(), "GET", "/", headers={"Accept-Language": "ru"})
    reply = await call(_app(), "GET", "/")
    assert reply.text == "the request body is not valid JSON"
    assert i18n.current() == "en"
