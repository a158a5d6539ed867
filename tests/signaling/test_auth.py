"""The socket's user: deferred to the admission's database call, then the object itself."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cached_db import SessionStore
from django.utils.functional import LazyObject

from signaling.auth import DeferredAuthMiddleware, scope_user
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


async def _scope_through_middleware(session) -> dict:
    seen = {}

    async def app(scope, receive, send):
        seen.update(scope)

    await DeferredAuthMiddleware(app)({"type": "websocket", "session": session}, None, None)
    return seen


async def test_the_middleware_reads_nothing_until_asked_then_the_sessions_user(make_user):
    user = await sync_to_async(make_user)("ana")
    session = SessionStore(session_key=await sync_to_async(session_key_for)(user))
    scope = await _scope_through_middleware(session)
    assert isinstance(scope["user"], LazyObject)

    read = await sync_to_async(scope_user)(scope)

    assert not isinstance(read, LazyObject)
    assert type(read) is type(user) and read.pk == user.pk
    assert await sync_to_async(scope_user)(scope) is read  # read once


async def test_a_session_without_a_login_gives_an_anonymous_user():
    scope = await _scope_through_middleware(SessionStore())
    assert isinstance(await sync_to_async(scope_user)(scope), AnonymousUser)


def test_a_plain_user_or_none_is_given_back_as_it_is(make_user):
    user = make_user("bo")
    assert scope_user({"user": user}) is user
    assert scope_user({}) is None


async def test_the_middleware_needs_the_session_middleware_above_it():
    with pytest.raises(ValueError, match="SessionMiddleware"):
        await DeferredAuthMiddleware(None)({"type": "websocket"}, None, None)
