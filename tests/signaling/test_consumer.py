"""The signaling consumer through the real ASGI stack, one WebsocketCommunicator per peer.

Each test drives ``meet.asgi.application`` (origin check, session cookie, auth, routing) with a
real database session, so what passes here is what a browser gets.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.utils import timezone

from rooms.models import ChatMessage, Participant, Room, RoomBan, RoomMembership
from signaling import presence
from signaling.events import delivery_for, room_group
from tests.support.tasks import tasks_started

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
    "usernameFragment": "abcd",
}


@pytest.fixture
def people(make_user):
    return {
        "ana": make_user("ana"),
        "bob": make_user("bob"),
        "cy": make_user("cy"),
        "staff": make_user("staff", is_staff=True),
    }


@pytest.fixture
def room(make_room, people):
    return make_room("Weekly Sync", owner=people["ana"])


@pytest.fixture
def call(connect, room, people):
    """``await call("ana", "bob")``: those users connected to ``room`` in order, each peer
    having read the ``peer-joined`` of everyone after it."""

    async def start(*names, target=None):
        target = target or room
        peers = []
        for name in names:
            peer = await connect(target.slug, people[name])
            assert peer.welcome is not None, peer.first
            for earlier in peers:
                joined = await earlier.receive_type("peer-joined")
                assert joined["peer"]["peer_id"] == peer.peer_id
            peers.append(peer)
        return peers

    return start


# --- admission ----------------------------------------------------------------------------------


async def test_welcome_carries_self_room_peers_and_chat(call, room, people):
    await sync_to_async(ChatMessage.objects.create)(room=room, user=people["bob"], text="earlier")
    ana, bob = await call("ana", "bob")
    welcome = bob.welcome
    assert welcome["protocol"] == 1
    assert welcome["resumed"] is False
    assert welcome["self"]["user"] == {
        "id": people["bob"].pk,
        "username": "bob",
        "display_name": "Bob",
    }
    assert welcome["self"]["role"] == "member"
    assert welcome["self"]["resume_token"]
    assert welcome["room"] == {
        "slug": "weekly-sync",
        "name": "Weekly Sync",
        "locked": False,
        "max_participants": 8,
    }
    assert welcome["peers"] == [
        {
            "peer_id": ana.peer_id,
            "user": {"id": people["ana"].pk, "username": "ana", "display_name": "Ana"},
            "role": "owner",
            "state": {"audio": True, "video": True, "screen": False, "hand": False},
        }
    ]
    assert [m["text"] for m in welcome["chat"]] == ["earlier"]
    assert set(welcome["chat"][0]) == {"id", "peer_id", "user", "text", "sent_at"}
    assert welcome["chat"][0]["sent_at"].endswith("Z")
    assert ana.peer_id != bob.peer_id


async def test_staff_joins_as_moderator(call):
    _ana, staff = await call("ana", "staff")
    assert staff.welcome["self"]["role"] == "moderator"


async def test_anonymous_is_refused_with_4401(connect, room):
    peer = await connect(room.slug, None)
    assert peer.first["type"] == "error" and peer.first["code"] == "not_authenticated"
    assert await peer.closed_with() == 4401


async def test_unknown_room_is_refused_with_4404(connect, people):
    peer = await connect("no-such-room", people["bob"])
    assert peer.first["code"] == "room_not_found"
    assert await peer.closed_with() == 4404


async def test_closed_room_is_refused_with_4404(connect, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(closed_at=timezone.now())
    peer = await connect(room.slug, people["bob"])
    assert peer.first["code"] == "room_not_found"
    assert await peer.closed_with() == 4404


async def test_banned_user_is_refused_with_4403(connect, room, people):
    await sync_to_async(RoomBan.objects.create)(room=room, user=people["bob"])
    peer = await connect(room.slug, people["bob"])
    assert peer.first["code"] == "forbidden"
    assert await peer.closed_with() == 4403


async def test_private_room_refuses_strangers_with_4403_and_admits_invite_holders(
    connect, room, people
):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(is_private=True)
    stranger = await connect(room.slug, people["bob"])
    assert stranger.first["code"] == "forbidden"
    assert await stranger.closed_with() == 4403
    invited = await connect(room.slug, people["cy"], query=f"invite={room.invite_token}")
    assert invited.welcome is not None
    assert await sync_to_async(RoomMembership.objects.filter(room=room, user=people["cy"]).exists)()


async def test_locked_room_refuses_members_with_4423_but_admits_owner_and_staff(
    connect, room, people
):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(is_locked=True)
    member = await connect(room.slug, people["bob"])
    assert member.first["code"] == "room_locked"
    assert await member.closed_with() == 4423
    assert (await connect(room.slug, people["ana"])).welcome is not None
    assert (await connect(room.slug, people["staff"])).welcome is not None


async def test_full_room_refuses_with_4409(connect, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(max_participants=2)
    await connect(room.slug, people["ana"])
    await connect(room.slug, people["bob"])
    third = await connect(room.slug, people["cy"])
    assert third.first["code"] == "room_full"
    assert await third.closed_with() == 4409


async def test_full_room_does_not_count_peers_that_left(connect, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(max_participants=2)
    await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await bob.close()
    assert (await connect(room.slug, people["cy"])).welcome is not None


async def test_foreign_origin_is_refused_before_admission(connect, room, people):
    peer = await connect(room.slug, people["bob"], origin="http://evil.example")
    assert peer.first["code"] == "forbidden"
    assert await peer.closed_with() == 4403
    assert not await sync_to_async(Participant.objects.exists)()


async def test_refused_socket_leaves_no_participant_and_no_group(connect, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(is_locked=True)
    peer = await connect(room.slug, people["bob"])
    await peer.closed_with()
    assert not await sync_to_async(Participant.objects.exists)()
    assert not get_channel_layer().groups.get(room_group(room.pk))


# --- relay --------------------------------------------------------------------------------------


async def test_sdp_is_relayed_to_target_only_with_server_stamped_from(call):
    ana, bob, cy = await call("ana", "bob", "cy")
    await bob.send(
        {
            "type": "sdp",
            "to": ana.peer_id,
            "description": OFFER,
            "from": cy.peer_id,
            "peer_id": cy.peer_id,
        }
    )
    relayed = await ana.receive_type("sdp")
    assert relayed == {"type": "sdp", "from": bob.peer_id, "description": OFFER}
    assert await cy.nothing() and await bob.nothing()


async def test_ice_candidates_and_end_of_candidates_are_relayed(call):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "ice", "to": ana.peer_id, "candidate": CANDIDATE})
    await bob.send({"type": "ice", "to": ana.peer_id, "candidate": None})
    assert await ana.receive_type("ice") == {
        "type": "ice",
        "from": bob.peer_id,
        "candidate": CANDIDATE,
    }
    assert await ana.receive_type("ice") == {"type": "ice", "from": bob.peer_id, "candidate": None}


async def test_relaying_starts_no_task_on_the_server(call):
    # Channels' receive loop started a task per message on each side (socket and layer), and
    # with them objects that stalled the relay in the garbage collector (signaling/receive_loop.py).
    ana, bob = await call("ana", "bob")
    with tasks_started() as started:
        for _ in range(20):
            await bob.send({"type": "ice", "to": ana.peer_id, "candidate": CANDIDATE})
            assert (await ana.receive_type("ice"))["from"] == bob.peer_id
    assert started == []


async def test_relay_to_unknown_peer_or_self_is_an_error(call):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "sdp", "to": "nobody", "description": OFFER})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("unknown_peer", "sdp")
    await bob.send({"type": "ice", "to": bob.peer_id, "candidate": None})
    assert (await bob.receive_type("error"))["code"] == "unknown_peer"
    assert await ana.nothing()


async def test_relay_to_a_peer_in_another_room_is_refused_and_not_delivered(
    call, connect, make_room, people
):
    other_room = await sync_to_async(make_room)("Other", owner=people["cy"])
    (ana,) = await call("ana")
    outsider = await connect(other_room.slug, people["cy"])
    await ana.send({"type": "sdp", "to": outsider.peer_id, "description": OFFER})
    assert (await ana.receive_type("error"))["code"] == "unknown_peer"
    assert await outsider.nothing()


async def test_peer_that_left_is_no_longer_a_relay_target(call):
    ana, bob = await call("ana", "bob")
    await bob.close()
    left = await ana.receive_type("peer-left")
    assert left == {"type": "peer-left", "peer_id": bob.peer_id, "reason": "connection-lost"}
    await ana.send({"type": "sdp", "to": bob.peer_id, "description": OFFER})
    assert (await ana.receive_type("error"))["code"] == "unknown_peer"


# --- chat and state -----------------------------------------------------------------------------


async def test_chat_is_stored_and_broadcast_to_everyone_with_its_id(call, room):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "chat", "text": "  hello there  ", "peer_id": "spoofed"})
    to_ana = await ana.receive_type("chat")
    to_bob = await bob.receive_type("chat")
    assert to_ana == to_bob
    assert to_ana["text"] == "hello there" and to_ana["peer_id"] == bob.peer_id
    assert to_ana["user"]["username"] == "bob"
    stored = await sync_to_async(ChatMessage.objects.get)(pk=to_ana["id"])
    assert (stored.text, stored.peer_id, stored.room_id) == ("hello there", bob.peer_id, room.pk)


async def test_hidden_chat_never_appears_in_welcome(call, connect, room, people):
    (ana,) = await call("ana")
    await ana.send({"type": "chat", "text": "keep"})
    kept = await ana.receive_type("chat")
    await ana.send({"type": "chat", "text": "hide me"})
    hidden = await ana.receive_type("chat")
    await sync_to_async(ChatMessage.objects.filter(pk=hidden["id"]).update)(hidden=True)
    bob = await connect(room.slug, people["bob"])
    assert [m["id"] for m in bob.welcome["chat"]] == [kept["id"]]


async def test_welcome_chat_is_the_latest_fifty_oldest_first(call, connect, room, people):
    await sync_to_async(ChatMessage.objects.bulk_create)(
        [ChatMessage(room=room, user=people["ana"], text=f"m{i}") for i in range(60)]
    )
    bob = await connect(room.slug, people["bob"])
    assert [m["text"] for m in bob.welcome["chat"]] == [f"m{i}" for i in range(10, 60)]


async def test_empty_or_too_long_chat_is_refused_and_not_stored(call):
    ana, bob = await call("ana", "bob")
    for text in ["   ", "x" * 2001, 42]:
        await bob.send({"type": "chat", "text": text})
        error = await bob.receive_type("error")
        assert (error["code"], error["ref"]) == ("bad_message", "chat")
    assert await ana.nothing()
    assert not await sync_to_async(ChatMessage.objects.exists)()


async def test_state_is_merged_and_broadcast_to_the_others_only(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "state", "audio": False})
    assert await ana.receive_type("state") == {
        "type": "state",
        "peer_id": bob.peer_id,
        "state": {"audio": False, "video": True, "screen": False, "hand": False},
    }
    await bob.send({"type": "state", "hand": True})
    assert (await ana.receive_type("state"))["state"] == {
        "audio": False,
        "video": True,
        "screen": False,
        "hand": True,
    }
    assert await bob.nothing()
    cy = await connect(room.slug, people["cy"])
    shown = {p["peer_id"]: p["state"] for p in cy.welcome["peers"]}
    assert shown[bob.peer_id] == {"audio": False, "video": True, "screen": False, "hand": True}


async def test_state_with_wrong_types_is_refused(call):
    ana, bob = await call("ana", "bob")
    for frame in [
        {"type": "state", "audio": "no"},
        {"type": "state"},
        {"type": "state", "video": 1},
    ]:
        await bob.send(frame)
        assert (await bob.receive_type("error"))["code"] == "bad_message"
    assert await ana.nothing()


async def test_ping_is_answered_with_pong(call):
    (ana,) = await call("ana")
    await ana.send({"type": "ping"})
    assert await ana.receive() == {"type": "pong"}


# --- moderation ---------------------------------------------------------------------------------


async def test_owner_kick_closes_target_with_4410_and_tells_the_others(call):
    ana, bob, cy = await call("ana", "bob", "cy")
    await ana.send({"type": "kick", "peer_id": bob.peer_id, "reason": "spam"})
    kicked = await bob.receive_type("kicked")
    assert kicked["by"]["username"] == "ana" and kicked["reason"] == "spam"
    assert await bob.closed_with() == 4410
    for other in (ana, cy):
        assert await other.receive_type("peer-left") == {
            "type": "peer-left",
            "peer_id": bob.peer_id,
            "reason": "kicked",
        }
    row = await sync_to_async(Participant.objects.get)(peer_id=bob.peer_id)
    assert row.leave_reason == "kicked" and row.left_at is not None
    assert await ana.nothing() and await cy.nothing()


async def test_members_cannot_moderate(call, room):
    ana, bob = await call("ana", "bob")
    for frame in [
        {"type": "kick", "peer_id": ana.peer_id},
        {"type": "mute", "peer_id": ana.peer_id},
        {"type": "lock", "locked": True},
        {"type": "end"},
    ]:
        await bob.send(frame)
        error = await bob.receive_type("error")
        assert (error["code"], error["ref"]) == ("forbidden", frame["type"])
    assert await ana.nothing()
    fresh = await sync_to_async(Room.objects.get)(pk=room.pk)
    assert not fresh.is_locked and fresh.closed_at is None


async def test_moderator_cannot_kick_the_owner_nor_anyone_kick_themselves(call):
    ana, staff = await call("ana", "staff")
    await staff.send({"type": "kick", "peer_id": ana.peer_id})
    error = await staff.receive_type("error")
    assert (error["code"], error["ref"]) == ("forbidden", "kick")
    await ana.send({"type": "kick", "peer_id": ana.peer_id})
    assert (await ana.receive_type("error"))["code"] == "bad_message"
    assert await ana.nothing()


async def test_moderator_can_kick_a_member(call):
    _ana, staff, bob = await call("ana", "staff", "bob")
    await staff.send({"type": "kick", "peer_id": bob.peer_id})
    assert (await bob.receive_type("kicked"))["by"]["username"] == "staff"
    assert await bob.closed_with() == 4410


async def test_kick_or_mute_of_unknown_peer_is_an_error(call):
    (ana,) = await call("ana")
    await ana.send({"type": "kick", "peer_id": "ghost"})
    assert (await ana.receive_type("error"))["code"] == "unknown_peer"
    await ana.send({"type": "mute", "peer_id": "ghost"})
    assert (await ana.receive_type("error"))["code"] == "unknown_peer"


async def test_mute_sends_mute_request_to_the_target_only(call):
    ana, bob, cy = await call("ana", "bob", "cy")
    await ana.send({"type": "mute", "peer_id": bob.peer_id})
    request = await bob.receive_type("mute-request")
    assert request["by"]["username"] == "ana"
    assert await cy.nothing() and await ana.nothing()


async def test_lock_is_saved_and_broadcast_and_keeps_new_members_out(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    await ana.send({"type": "lock", "locked": True})
    assert await ana.receive_type("room") == {"type": "room", "locked": True}
    assert await bob.receive_type("room") == {"type": "room", "locked": True}
    late = await connect(room.slug, people["cy"])
    assert late.first["code"] == "room_locked"
    await ana.send({"type": "lock", "locked": False})
    assert (await bob.receive_type("room"))["locked"] is False


async def test_end_closes_everyone_with_4411_and_the_room_stays_open(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    await ana.send({"type": "end"})
    for peer in (ana, bob):
        ended = await peer.receive_type("room-ended")
        assert ended["by"]["username"] == "ana"
        assert await peer.closed_with() == 4411
    assert not await sync_to_async(
        Participant.objects.filter(room=room, left_at__isnull=True).exists
    )()
    assert (await sync_to_async(Room.objects.get)(pk=room.pk)).closed_at is None
    late = await connect(room.slug, people["cy"])
    assert late.welcome is not None and late.welcome["peers"] == []


# --- leaving ------------------------------------------------------------------------------------


async def test_leave_announces_left_and_closes_normally(call):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "leave"})
    assert await bob.closed_with() == 1000
    assert await ana.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": bob.peer_id,
        "reason": "left",
    }
    assert await ana.nothing()


async def test_disconnect_ends_the_row_and_leaves_no_group_behind(call, room):
    ana, bob = await call("ana", "bob")
    await bob.close()
    await ana.receive_type("peer-left")
    await ana.close()
    assert not get_channel_layer().groups.get(room_group(room.pk))
    rows = await sync_to_async(list)(Participant.objects.filter(room=room))
    assert len(rows) == 2 and all(r.left_at and r.leave_reason == "connection-lost" for r in rows)


# --- rules on frames ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_message"),
        ("[1, 2]", "bad_message"),
        ('"text"', "bad_message"),
        ("{}", "bad_message"),
        ('{"type": 7}', "bad_message"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "sdp", "to": 5, "description": {"type": "offer", "sdp": "v=0"}}', "bad_message"),
        (
            '{"type": "sdp", "to": "x", "description": {"type": "bogus", "sdp": "v=0"}}',
            "bad_message",
        ),
        ('{"type": "ice", "to": "x", "candidate": "nope"}', "bad_message"),
        ('{"type": "lock", "locked": "yes"}', "bad_message"),
        ('{"type": "kick"}', "bad_message"),
        ('{"type": "state", "audio": NaN}', "bad_message"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays_open(call, frame, code):
    ana, bob = await call("ana", "bob")
    await bob.send(frame)
    assert (await bob.receive_type("error"))["code"] == code
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}
    assert await ana.nothing()


async def test_binary_frames_are_refused(call):
    (ana,) = await call("ana")
    await ana.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await ana.receive_type("error"))["code"] == "bad_message"


async def test_frames_over_64_kib_are_refused_and_not_relayed(call):
    ana, bob = await call("ana", "bob")
    huge = {
        "type": "sdp",
        "to": ana.peer_id,
        "description": {"type": "offer", "sdp": "a" * (64 * 1024)},
    }
    await bob.send(huge)
    assert (await bob.receive_type("error"))["code"] == "too_large"
    assert await ana.nothing()


async def test_an_ice_trickle_burst_of_fifty_candidates_passes(call):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "sdp", "to": ana.peer_id, "description": OFFER})
    for index in range(50):
        await bob.send(
            {"type": "ice", "to": ana.peer_id, "candidate": {**CANDIDATE, "sdpMLineIndex": index}}
        )
    assert (await ana.receive_type("sdp"))["from"] == bob.peer_id
    for index in range(50):
        assert (await ana.receive_type("ice"))["candidate"]["sdpMLineIndex"] == index
    assert await bob.nothing()


async def test_a_flooding_client_is_rate_limited_then_closed_with_4429(call):
    ana, bob = await call("ana", "bob")
    for _ in range(400):
        await bob.send({"type": "ping"})
    codes = []
    while True:
        output = await bob.communicator.receive_output(timeout=2)
        if output["type"] == "websocket.close":
            break
        codes.append(json.loads(output["text"]).get("code", "pong"))
    assert output["code"] == 4429
    assert "rate_limited" in codes and codes.count("pong") < 200
    await bob.close()  # The client's side of the close handshake, as a browser would answer.
    assert await ana.receive_type("peer-left") == {
        "type": "peer-left",
        "peer_id": bob.peer_id,
        "reason": "connection-lost",
    }


async def test_a_flood_in_one_room_does_not_slow_another_room(call, connect, make_room, people):
    other = await sync_to_async(make_room)("Quiet", owner=people["cy"])
    _ana, bob = await call("ana", "bob")
    quiet = await connect(other.slug, people["cy"])
    flood = asyncio.ensure_future(_flood(bob))
    latencies = []
    for _ in range(20):
        started = time.perf_counter()
        await quiet.send({"type": "ping"})
        assert await quiet.receive() == {"type": "pong"}
        latencies.append(time.perf_counter() - started)
    await flood
    # The flood is parsed and refused on the same event loop; the quiet room must not queue
    # behind it (a median, because a loaded CI machine adds its own occasional stall).
    assert statistics.median(latencies) < 0.1, latencies
    assert max(latencies) < 1.0, latencies


async def _flood(peer):
    for _ in range(300):
        await peer.send({"type": "chat", "text": "spam"})
        await asyncio.sleep(0)


# --- resume -------------------------------------------------------------------------------------


async def test_resume_within_the_window_keeps_the_peer_id(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    await bob.send({"type": "state", "audio": False})
    await ana.receive_type("state")
    token = bob.welcome["self"]["resume_token"]
    await bob.close()
    assert (await ana.receive_type("peer-left"))["reason"] == "connection-lost"
    again = await connect(room.slug, people["bob"], query=f"resume={token}")
    assert again.peer_id == bob.peer_id
    assert again.welcome["resumed"] is True
    assert again.welcome["self"]["state"]["audio"] is False
    joined = await ana.receive_type("peer-joined")
    assert joined["resumed"] is True and joined["peer"]["peer_id"] == bob.peer_id
    await ana.send({"type": "sdp", "to": bob.peer_id, "description": OFFER})
    assert (await again.receive_type("sdp"))["from"] == ana.peer_id


async def test_resume_while_the_old_socket_lingers_replaces_it(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    token = bob.welcome["self"]["resume_token"]
    again = await connect(room.slug, people["bob"], query=f"resume={token}")
    assert again.peer_id == bob.peer_id and again.welcome["resumed"] is True
    assert await bob.closed_with() == 4412
    joined = await ana.receive_type("peer-joined")
    assert joined["resumed"] is True
    await ana.send({"type": "ping"})
    assert await ana.receive() == {"type": "pong"}
    open_rows = await sync_to_async(Participant.objects.filter(left_at__isnull=True).count)()
    assert open_rows == 2


async def test_resume_token_of_another_user_or_room_gives_a_fresh_peer(
    call, connect, make_room, room, people
):
    ana, bob = await call("ana", "bob")
    token = bob.welcome["self"]["resume_token"]
    await bob.close()
    await ana.receive_type("peer-left")
    thief = await connect(room.slug, people["cy"], query=f"resume={token}")
    assert thief.peer_id != bob.peer_id and thief.welcome["resumed"] is False
    other = await sync_to_async(make_room)("Elsewhere", owner=people["bob"])
    elsewhere = await connect(other.slug, people["bob"], query=f"resume={token}")
    assert elsewhere.peer_id != bob.peer_id
    forged = await connect(room.slug, people["bob"], query=f"resume={token[:-2]}xx")
    assert forged.peer_id != bob.peer_id


async def test_resume_after_the_window_or_after_leave_gives_a_fresh_peer(
    call, connect, room, people
):
    ana, bob, cy = await call("ana", "bob", "cy")
    bob_token = bob.welcome["self"]["resume_token"]
    cy_token = cy.welcome["self"]["resume_token"]
    await bob.close()
    await cy.send({"type": "leave"})
    await cy.closed_with()
    long_ago = timezone.now() - timedelta(seconds=61)
    await sync_to_async(Participant.objects.filter(peer_id=bob.peer_id).update)(left_at=long_ago)
    late = await connect(room.slug, people["bob"], query=f"resume={bob_token}")
    assert late.peer_id != bob.peer_id and late.welcome["resumed"] is False
    after_leave = await connect(room.slug, people["cy"], query=f"resume={cy_token}")
    assert after_leave.peer_id != cy.peer_id


async def test_kicked_peer_cannot_resume(call, connect, room, people):
    ana, bob = await call("ana", "bob")
    await ana.send({"type": "kick", "peer_id": bob.peer_id})
    await bob.closed_with()
    again = await connect(
        room.slug, people["bob"], query=f"resume={bob.welcome['self']['resume_token']}"
    )
    assert again.peer_id != bob.peer_id


# --- presence sweep -----------------------------------------------------------------------------


async def test_sweep_ends_peers_of_a_dead_process_and_tells_the_room(call, room, people):
    ana, bob = await call("ana", "bob")
    # A row whose process died: nobody touches it any more, so its last_seen grows old.
    ghost = await sync_to_async(Participant.objects.create)(
        room=room,
        user=people["cy"],
        peer_id="ghost-peer",
        channel_name="specific.dead!x",
        role="member",
        last_seen=timezone.now() - timedelta(minutes=5),
    )
    ended = await presence.presence_keeper().beat()
    assert ended == [(room.pk, "ghost-peer")]
    for peer in (ana, bob):
        assert await peer.receive_type("peer-left") == {
            "type": "peer-left",
            "peer_id": "ghost-peer",
            "reason": "connection-lost",
        }
    await sync_to_async(ghost.refresh_from_db)()
    assert ghost.left_at is not None
    # The living were touched by the same beat and stay.
    alive = await sync_to_async(Participant.objects.filter(left_at__isnull=True).count)()
    assert alive == 2


async def test_stale_peers_are_not_in_welcome(connect, room, people):
    await sync_to_async(Participant.objects.create)(
        room=room,
        user=people["cy"],
        peer_id="ghost-peer",
        channel_name="specific.dead!x",
        role="member",
        last_seen=timezone.now() - timedelta(minutes=5),
    )
    bob = await connect(room.slug, people["bob"])
    assert bob.welcome["peers"] == []


async def test_rows_of_a_previous_in_memory_process_are_ended_but_resumable(
    connect, room, people, monkeypatch
):
    ana = await connect(room.slug, people["ana"])
    token = ana.welcome["self"]["resume_token"]
    # Simulate a restart: the row predates the process, and the process has not looked yet.
    await sync_to_async(Participant.objects.filter(peer_id=ana.peer_id).update)(
        joined_at=timezone.now() - timedelta(seconds=30)
    )
    monkeypatch.setattr(presence, "PROCESS_STARTED_AT", timezone.now())
    monkeypatch.setattr(presence, "_predecessor_rows_ended", False)
    bob = await connect(room.slug, people["bob"])
    assert bob.welcome["peers"] == []
    row = await sync_to_async(Participant.objects.get)(peer_id=ana.peer_id)
    assert row.leave_reason == "connection-lost"
    back = await connect(room.slug, people["ana"], query=f"resume={token}")
    assert back.peer_id == ana.peer_id and back.welcome["resumed"] is True


async def test_relay_to_a_full_queue_answers_busy_and_keeps_the_socket(call, monkeypatch):
    from channels.exceptions import ChannelFull

    ana, bob = await call("ana", "bob")
    layer = get_channel_layer()
    real_send = layer.send

    async def full_for_ana(channel, message):
        if (delivery_for(message).frame or {}).get("type") == "sdp":
            raise ChannelFull(channel)
        await real_send(channel, message)

    monkeypatch.setattr(layer, "send", full_for_ana)
    await bob.send({"type": "sdp", "to": ana.peer_id, "description": OFFER})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("busy", "sdp")
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}


async def test_a_socket_swept_behind_its_back_is_closed_4408_and_can_resume(
    call, connect, room, people
):
    ana, bob = await call("ana", "bob")
    # Another process swept bob's row (this one had stalled past the stale limit).
    await sync_to_async(Participant.objects.filter(peer_id=bob.peer_id).update)(
        left_at=timezone.now(), leave_reason="connection-lost"
    )
    await presence.presence_keeper().beat()
    assert await bob.closed_with() == 4408
    await bob.close()
    assert await ana.nothing()  # Its peer-left was the sweeper's to send, not repeated here.
    back = await connect(
        room.slug, people["bob"], query=f"resume={bob.welcome['self']['resume_token']}"
    )
    assert back.peer_id == bob.peer_id and back.welcome["resumed"] is True
    assert (await ana.receive_type("peer-joined"))["resumed"] is True


async def test_a_frame_for_a_client_that_already_left_does_not_end_the_consumer():
    from autobahn.exception import Disconnected

    from signaling.consumer import RoomConsumer

    async def gone(message):
        raise Disconnected("Attempt to send on a closed protocol")

    consumer = RoomConsumer()
    consumer.base_send = gone
    await consumer.send(text_data='{"type": "pong"}')
    assert consumer.closing is True
