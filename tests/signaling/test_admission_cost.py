"""What one join costs the database (issue #14): a fixed, small number of statements, whatever
the size of the room's chat history or the number of rooms and users on the server."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.cached_db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rooms import lobby, selectors, services
from rooms.models import Participant
from signaling import consumer, presence
from signaling.admission import socket_admit_visitor
from signaling.auth import deferred_user
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


def _scope(user) -> dict:
    """A socket's scope as the middleware leaves it: a session and a user read on first use."""
    scope: dict = {"session": SessionStore(session_key=session_key_for(user))}
    scope["user"] = deferred_user(scope)
    return scope


def _join(room, user, channel: str):
    return socket_admit_visitor(scope=_scope(user), slug=room.slug, channel_name=channel)


def _statements(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def busy_room(make_room, make_user):
    """A room with two peers in the call and a long chat history, on a server with others."""
    owner = make_user("owner")
    room = make_room("Busy", owner=owner)
    for index in range(3):
        make_room(f"Other {index}", owner=make_user())
    talkers = [make_user() for _ in range(2)]
    for index, talker in enumerate(talkers):
        _user, _token, admission = _join(room, talker, f"test.channel-{index}")
        assert admission.join is not None
    for index in range(40):
        services.chat_message_create(room=room, user=talkers[index % 2], text=f"message {index}")
    return room


def test_a_join_reads_the_history_in_one_statement_however_long_it_is(busy_room, make_user):
    newcomer = make_user("newcomer")
    scope = _scope(newcomer)
    scope["session"].load()  # The room page read the session just before: it is in the cache.
    with CaptureQueriesContext(connection) as captured:
        _user, _token, admission = socket_admit_visitor(
            scope=scope, slug=busy_room.slug, channel_name="test.newcomer"
        )
    assert admission.join is not None
    assert len(admission.welcome["chat"]) == 40
    assert len(admission.welcome["peers"]) == 2
    history = [sql for sql in _statements(captured) if "rooms_chatmessage" in sql]
    assert len(history) == 1, history


def test_a_join_costs_three_statements_once_the_session_and_history_are_cached(
    busy_room, make_user
):
    # One join warms the cache with the room's history (the first of a storm pays for it).
    _join(busy_room, make_user(), "test.warm")
    newcomer = make_user("newcomer")
    scope = _scope(newcomer)
    scope["session"].load()
    with CaptureQueriesContext(connection) as captured:
        _user, _token, admission = socket_admit_visitor(
            scope=scope, slug=busy_room.slug, channel_name="test.newcomer"
        )
    assert admission.join is not None
    assert len(admission.welcome["chat"]) == 40
    statements = _statements(captured)
    # The user with the room and the newcomer's ban, kick and membership; the room's lock with
    # the ban again and who is connected (seats, sockets and the welcome's peers); the new row.
    # (SQLite shows the transaction's BEGIN and COMMIT as statements; they are not counted.)
    statements = _counted(statements)
    assert len(statements) == 3, "\n".join(statements)
    assert "accounts_user" in statements[0] and "rooms_roomban" in statements[0]
    assert sum("rooms_participant" in sql for sql in statements) == 2  # roster, insert


def _counted(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")]


def test_a_hosts_join_reads_the_lobby_only_when_someone_waits_there(busy_room, make_user):
    _join(busy_room, make_user(), "test.warm")
    owner_scope = _scope(busy_room.owner)
    owner_scope["session"].load()
    with CaptureQueriesContext(connection) as captured:
        _user, _token, admission = socket_admit_visitor(
            scope=owner_scope, slug=busy_room.slug, channel_name="test.owner-1"
        )
    assert admission.welcome["lobby"] == []
    # The access read says nobody waits: the same three statements as anyone's join.
    assert len(_counted(_statements(captured))) == 3, "\n".join(_statements(captured))

    knocker = make_user("knocker")
    lobby.knock_create(room=busy_room, user=knocker, role="member", channel_name="test.knock")
    owner_scope = _scope(busy_room.owner)
    owner_scope["session"].load()
    with CaptureQueriesContext(connection) as captured:
        _user, _token, admission = socket_admit_visitor(
            scope=owner_scope, slug=busy_room.slug, channel_name="test.owner-2"
        )
    assert [knock["user"]["username"] for knock in admission.welcome["lobby"]] == ["knocker"]
    assert len(_counted(_statements(captured))) == 4  # and the waiting knocks


def test_the_roster_read_walks_the_rooms_peers_not_every_peer_on_the_server(busy_room):
    # Read under the room's lock on every join: a plan that walks every connected peer of
    # every room makes each join slower as the server fills up.
    sql, _participants, _users = presence._lock_room_and_read_roster_statement("default")
    params = [busy_room.owner.pk, presence.participant_fresh_since(), busy_room.pk]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql.replace("%s", "?"), params)
            plan = " / ".join(str(row[-1]) for row in cursor.fetchall())
            assert "SEARCH p USING INDEX" in plan and "(room_id=? AND left_at=?" in plan, plan
        else:
            # PostgreSQL plans from its statistics (a small test table is read whole), so check
            # that the index the plan needs exists.
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s",
                [Participant._meta.db_table],
            )
            definitions = [row[0] for row in cursor.fetchall()]
            assert any("(room_id, left_at, last_seen)" in d for d in definitions), definitions


def test_a_new_message_or_a_hidden_one_reaches_the_next_welcome_at_once(busy_room, make_user):
    _join(busy_room, make_user(), "test.warm")
    author = busy_room.owner
    message = services.chat_message_create(room=busy_room, user=author, text="late news")
    _user, _token, admission = _join(busy_room, make_user(), "test.second")
    assert admission.welcome["chat"][-1]["text"] == "late news"
    services.chat_message_hide(message=message)
    _user, _token, admission = _join(busy_room, make_user(), "test.third")
    assert "late news" not in [line["text"] for line in admission.welcome["chat"]]


async def test_peers_joining_a_room_together_look_its_id_up_once(monkeypatch, make_room):
    room = await database_sync_to_async(make_room)("Top of the hour")
    calls = []

    def counted(*, slug):
        calls.append(slug)
        return selectors.room_id_by_slug(slug=slug)

    monkeypatch.setattr(consumer, "room_id_by_slug", counted)
    monkeypatch.setattr(consumer, "_ROOM_IDS", {})
    ids = await asyncio.gather(*(consumer.room_id_for_slug(room.slug) for _ in range(4)))
    assert ids == [room.pk] * 4
    assert calls == [room.slug]
    # Known from then on; an unknown slug is looked up each time, and is None.
    assert await consumer.room_id_for_slug(room.slug) == room.pk
    assert await consumer.room_id_for_slug("nope") is None
    assert calls == [room.slug, "nope"]
