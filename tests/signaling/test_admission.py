"""Admission rules that protect a room from its own users: seat squatting and the ban race.

Through the real ASGI stack (``connect`` from conftest): a user cannot take every seat with many
sockets, a full room never keeps out its owner, moderators or staff, and a ban that lands while a
socket is being admitted still keeps that socket out.
"""

from __future__ import annotations

import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connection

from rooms import moderation
from rooms.models import PEER_STATE_DEFAULT, REASON_KICKED, Participant, Room, RoomMembership
from signaling import admission, presence

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(make_user):
    return {
        "ana": make_user("ana"),
        "bob": make_user("bob"),
        "cy": make_user("cy"),
        "dee": make_user("dee"),
        "mod": make_user("mod"),
        "staff": make_user("staff", is_staff=True),
    }


@pytest.fixture
def room(make_room, people):
    room = make_room("Weekly Sync", owner=people["ana"])
    RoomMembership.objects.create(room=room, user=people["mod"], role="moderator")
    return room


async def set_seats(room, seats: int) -> None:
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(max_participants=seats)


def live_rows(room, user=None) -> int:
    rows = Participant.objects.filter(room=room, left_at__isnull=True)
    return rows.filter(user=user).count() if user else rows.count()


# --- seats: a full room and its owner -----------------------------------------------------------


async def test_owner_enters_a_room_filled_by_others(connect, room, people):
    await set_seats(room, 2)
    bob = await connect(room.slug, people["bob"])
    cy = await connect(room.slug, people["cy"])
    ana = await connect(room.slug, people["ana"])
    assert ana.welcome is not None, ana.first
    assert {peer["peer_id"] for peer in ana.welcome["peers"]} == {bob.peer_id, cy.peer_id}
    # The room went over its size for its owner; everyone hears of her.
    assert (await bob.receive_type("peer-joined"))["peer"]["peer_id"] == cy.peer_id
    assert (await bob.receive_type("peer-joined"))["peer"]["peer_id"] == ana.peer_id
    assert await sync_to_async(live_rows)(room) == 3


async def test_moderators_and_staff_enter_a_full_room_but_members_do_not(connect, room, people):
    await set_seats(room, 1)
    assert (await connect(room.slug, people["bob"])).welcome is not None
    moderator = await connect(room.slug, people["mod"])
    assert moderator.welcome is not None and moderator.welcome["self"]["role"] == "moderator"
    staff = await connect(room.slug, people["staff"])
    assert staff.welcome is not None and staff.welcome["self"]["role"] == "moderator"
    member = await connect(room.slug, people["cy"])
    assert member.first["code"] == "room_full"
    assert await member.closed_with() == 4409


async def test_seat_squatter_cannot_keep_the_owner_out(connect, room, people):
    # Nine sockets from one user used to take all eight seats and leave the owner with 4409.
    squatter = [await connect(room.slug, people["bob"]) for _ in range(9)]
    assert sum(peer.welcome is not None for peer in squatter) == 2
    ana = await connect(room.slug, people["ana"])
    assert ana.welcome is not None, ana.first
    assert (await connect(room.slug, people["cy"])).welcome is not None


# --- sockets per user ---------------------------------------------------------------------------


async def test_third_socket_of_one_user_is_refused(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    first = await connect(room.slug, people["bob"])
    second = await connect(room.slug, people["bob"])
    assert first.welcome is not None and second.welcome is not None
    third = await connect(room.slug, people["bob"])
    assert third.first == {
        "type": "error",
        "code": "too_many_connections",
        "message": "You are already in this room in 2 windows or tabs. Close one to join here.",
    }
    assert await third.closed_with() == 4413
    assert await sync_to_async(live_rows)(room, people["bob"]) == 2
    # The others heard of the two admitted sockets only.
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == first.peer_id
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == second.peer_id
    assert await ana.nothing()


async def test_owner_too_is_limited_to_two_sockets(connect, room, people):
    await connect(room.slug, people["ana"])
    await connect(room.slug, people["ana"])
    third = await connect(room.slug, people["ana"])
    assert third.first["code"] == "too_many_connections"
    assert await third.closed_with() == 4413


async def test_a_closed_socket_frees_its_place(connect, room, people):
    await connect(room.slug, people["bob"])
    second = await connect(room.slug, people["bob"])
    await second.close()
    assert (await connect(room.slug, people["bob"])).welcome is not None


async def test_the_limit_is_per_room(connect, room, make_room, people):
    other = await sync_to_async(make_room)("Other", owner=people["ana"])
    await connect(room.slug, people["bob"])
    await connect(room.slug, people["bob"])
    assert (await connect(other.slug, people["bob"])).welcome is not None


async def test_max_sockets_per_user_setting_sets_the_limit(connect, room, people, settings):
    settings.MAX_SOCKETS_PER_USER = 1
    assert (await connect(room.slug, people["bob"])).welcome is not None
    second = await connect(room.slug, people["bob"])
    assert second.first["code"] == "too_many_connections"
    assert "1 window or tab." in second.first["message"]
    assert await second.closed_with() == 4413


async def test_resume_replacing_its_own_older_socket_does_not_count_twice(connect, room, people):
    older = await connect(room.slug, people["bob"])
    await connect(room.slug, people["bob"])
    token = older.welcome["self"]["resume_token"]
    # The older socket's network dropped unnoticed: the client resumes it while its row is open.
    again = await connect(room.slug, people["bob"], query=f"resume={token}")
    assert again.welcome is not None, again.first
    assert again.welcome["resumed"] is True and again.peer_id == older.peer_id
    assert await older.closed_with() == 4412
    assert await sync_to_async(live_rows)(room, people["bob"]) == 2


# --- the ban race -------------------------------------------------------------------------------


async def test_ban_committed_after_the_access_check_still_refuses_the_socket(
    connect, room, people, monkeypatch
):
    """The interleaving: access check passes, the ban commits, then the seat is taken."""
    real_join = admission.participant_join

    def ban_lands_first(**kwargs):
        moderation.room_ban_user(room=room, user=people["bob"], by=people["ana"])
        return real_join(**kwargs)

    monkeypatch.setattr(admission, "participant_join", ban_lands_first)
    bob = await connect(room.slug, people["bob"])
    assert bob.first["type"] == "error" and bob.first["code"] == "forbidden", bob.first
    assert "banned" in bob.first["message"]
    assert await bob.closed_with() == 4403
    assert await sync_to_async(live_rows)(room) == 0


def test_ban_waits_for_an_admission_holding_the_room_and_then_kicks_it(room, people, monkeypatch):
    """The other interleaving: the seat is being taken when the ban is written.

    The ban must wait for the admission's transaction (both lock the room's row) and then see
    and kick the new participant; without the lock it would list live participants before the
    new row was committed, and the banned socket would stay.
    """
    inside_join = threading.Event()
    let_join_finish = threading.Event()
    real_new_peer_id = presence.new_peer_id

    def slow_new_peer_id():
        # Called inside participant_join's transaction, after its checks: hold the room here.
        inside_join.set()
        let_join_finish.wait(10)
        return real_new_peer_id()

    monkeypatch.setattr(presence, "new_peer_id", slow_new_peer_id)
    errors: list[BaseException] = []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as error:  # noqa: BLE001 - reported by the test below
                errors.append(error)
            finally:
                connection.close()

        return threading.Thread(target=run)

    join = in_thread(
        lambda: presence.participant_join(
            room=room, user=people["bob"], role="member", channel_name="bob-socket"
        )
    )

    def ban_when_the_database_lets_it():
        # The suite's SQLite database is in memory with a shared cache, where a writer meets a
        # held lock as an immediate "table is locked" instead of waiting: retry, as a busy
        # timeout would. PostgreSQL waits on the room row's lock by itself.
        while True:
            try:
                return moderation.room_ban_user(room=room, user=people["bob"], by=people["ana"])
            except OperationalError as error:
                if "locked" not in str(error):
                    raise
                time.sleep(0.02)

    ban = in_thread(ban_when_the_database_lets_it)
    join.start()
    assert inside_join.wait(10)
    ban.start()
    ban.join(1.0)
    ban_waited = ban.is_alive()
    let_join_finish.set()
    join.join(15)
    ban.join(15)
    assert not errors, errors
    assert ban_waited, "the ban did not wait for the admission holding the room"
    row = Participant.objects.get(room=room, user=people["bob"])
    assert row.left_at is not None and row.leave_reason == REASON_KICKED


# --- the participant row a join writes ----------------------------------------------------------


def test_a_join_writes_the_row_the_model_reads_back(room, people):
    join = presence.participant_join(
        room=room, user=people["bob"], role="member", channel_name="test.bob"
    )
    made = join.participant
    stored = Participant.objects.get(pk=made.pk)
    assert (stored.room_id, stored.user_id, stored.peer_id, stored.channel_name, stored.role) == (
        room.pk,
        people["bob"].pk,
        made.peer_id,
        "test.bob",
        "member",
    )
    assert stored.state == made.state == PEER_STATE_DEFAULT
    assert stored.joined_at == stored.last_seen == made.joined_at
    assert stored.left_at is None and stored.leave_reason == ""
    # It is a saved row: updating it changes that row, not a new one.
    made.leave_reason = "left"
    made.save(update_fields=["leave_reason"])
    assert Participant.objects.get(pk=made.pk).leave_reason == "left"
    assert Participant.objects.filter(room=room).count() == 1


def test_a_joins_roster_carries_the_users_a_welcome_shows_and_reads_the_rest_on_use(
    room, people, django_assert_num_queries
):
    people["bob"].display_name = "Bob B."
    people["bob"].email = "bob@example.org"
    people["bob"].save()
    presence.participant_join(room=room, user=people["bob"], role="member", channel_name="t.b")
    join = presence.participant_join(
        room=room, user=people["cy"], role="member", channel_name="t.c"
    )
    (bob,) = join.others
    with django_assert_num_queries(0):
        assert (bob.user.pk, bob.user.username, bob.user.shown_name) == (
            people["bob"].pk,
            "bob",
            "Bob B.",
        )
    # Anything else is read from the row when used, never a made-up default.
    with django_assert_num_queries(1):
        assert bob.user.email == "bob@example.org"
