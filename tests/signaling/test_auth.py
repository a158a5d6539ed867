"""The socket's user: deferred to the admission's database call, then the object itself."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.functional import LazyObject

from accounts.models import User
from rooms import moderation
from rooms.access import FORBIDDEN, NOT_AUTHENTICATED
from signaling.admission import socket_admit_visitor
from signaling.auth import DeferredAuthMiddleware, deferred_user, deferred_user_id, scope_user
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


def _deferred_scope(user) -> dict:
    scope: dict = {"session": SessionStore(session_key=session_key_for(user))}
    scope["user"] = deferred_user(scope)
    return scope


def test_the_row_still_to_read_is_named_only_while_the_user_is_deferred(make_user):
    user = make_user("ana")
    scope = _deferred_scope(user)
    assert deferred_user_id(scope) == user.pk
    scope_user(scope)
    assert deferred_user_id(scope) is None  # Read already.
    assert deferred_user_id({"user": user}) is None
    anonymous: dict = {"session": SessionStore()}
    anonymous["user"] = deferred_user(anonymous)
    assert deferred_user_id(anonymous) is None


def test_a_row_read_by_the_caller_is_judged_by_the_sessions_rule(make_user):
    user = make_user("ana")
    scope = _deferred_scope(user)
    row = User.objects.get(pk=user.pk)
    assert scope_user(scope, user_row=row) is row
    stale = _deferred_scope(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert scope_user(stale, user_row=User.objects.get(pk=user.pk)).is_anonymous
    assert scope_user(_deferred_scope(user), user_row=None).is_anonymous


def _admit(scope, room):
    return socket_admit_visitor(scope=scope, slug=room.slug, channel_name="test.channel")


def test_the_admission_reads_the_user_with_the_room_and_admits_them(make_user, make_room):
    user = make_user("ana")
    room = make_room("Read together")
    scope = _deferred_scope(user)
    scope["session"].load()
    with CaptureQueriesContext(connection) as captured:
        admitted, _token, admission = _admit(scope, room)
    assert admitted == user and admission.join is not None
    statements = [query["sql"] for query in captured.captured_queries]
    # No read of the user alone: it came with the room and the user's ban, kick and membership.
    assert not [sql for sql in statements if "accounts_user" in sql and "rooms_" not in sql]
    assert any("accounts_user" in sql and "rooms_roomban" in sql for sql in statements)


@pytest.mark.parametrize("change", ["password", "deactivated", "deleted"])
def test_a_user_the_session_no_longer_stands_for_is_refused_as_anonymous(
    change, make_user, make_room
):
    user = make_user("ana")
    room = make_room("Members only")
    scope = _deferred_scope(user)
    key = scope["session"].session_key
    if change == "password":
        user.set_password("a-new-password-123")
        user.save()
    elif change == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
    else:
        User.objects.filter(pk=user.pk).delete()
    admitted, _token, admission = _admit(scope, room)
    assert admitted.is_anonymous
    assert admission.refusal == NOT_AUTHENTICATED and admission.join is None
    if change == "password":
        assert not SessionStore().exists(key)  # Flushed, as Channels' get_user does.


def test_a_banned_user_read_with_the_room_is_refused(make_user, make_room):
    user = make_user("ana")
    room = make_room("Strict")
    moderation.room_ban_user(room=room, user=user, by=room.owner, reason="spam")
    _user, _token, admission = _admit(_deferred_scope(user), room)
    assert admission.refusal == FORBIDDEN
