"""Random frames thrown at a live consumer: it never crashes, never relays an invalid message
and never delivers anything into another room."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signaling import protocol
from tests.signaling.test_protocol import json_values
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)

TARGETS = ["@ana", "@bob", "@cy", "nobody"]
DESCRIPTIONS = st.fixed_dictionaries(
    {"type": st.sampled_from(["offer", "answer", "pranswer", "rollback", "bogus"])},
    optional={"sdp": st.text(max_size=30) | st.integers()},
)
CANDIDATES = st.none() | st.fixed_dictionaries(
    {"candidate": st.text(max_size=30) | st.integers()},
    optional={
        "sdpMid": st.none() | st.text(max_size=3) | st.integers(),
        "sdpMLineIndex": st.none() | st.integers(-2, 70000) | st.booleans(),
        "usernameFragment": st.none() | st.text(max_size=5),
    },
)
RELAYS = st.fixed_dictionaries(
    {"type": st.sampled_from(["sdp", "ice"]), "to": st.sampled_from(TARGETS) | json_values},
    optional={
        "description": DESCRIPTIONS | json_values,
        "candidate": CANDIDATES | json_values,
        "from": st.sampled_from(TARGETS),
    },
)
OTHERS = st.fixed_dictionaries(
    {"type": st.sampled_from(["chat", "state", "kick", "mute", "lock", "ping", "teleport"])},
    optional={
        "text": json_values,
        "audio": json_values,
        "hand": st.booleans(),
        "peer_id": st.sampled_from(TARGETS),
        "locked": json_values,
    },
)
FRAMES = st.lists(
    RELAYS.map(json.dumps)
    | OTHERS.map(json.dumps)
    | json_values.map(json.dumps)
    | st.text(min_size=1, max_size=40),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def cast(make_user, make_room):
    ana, bob, cy = make_user("ana"), make_user("bob"), make_user("cy")
    room = make_room("Main", owner=ana)
    other = make_room("Other", owner=cy)
    return {
        "slugs": {"ana": room.slug, "bob": room.slug, "cy": other.slug},
        "keys": {
            name: session_key_for(user) for name, user in (("ana", ana), ("bob", bob), ("cy", cy))
        },
    }


async def _drain(communicator) -> list[dict]:
    frames = []
    while not await communicator.receive_nothing(timeout=0.05):
        output = await communicator.receive_output()
        if output["type"] == "websocket.send":
            frames.append(json.loads(output["text"]))
    return frames


async def _scenario(cast, raw_frames: list[str]) -> None:
    from meet.asgi import application

    await get_channel_layer().flush()
    sockets, peer_ids = {}, {}
    for name in ("ana", "bob", "cy"):
        communicator = WebsocketCommunicator(
            application,
            f"/ws/rooms/{cast['slugs'][name]}/",
            headers=[
                (b"origin", b"http://localhost"),
                (b"host", b"localhost"),
                (b"cookie", f"sessionid={cast['keys'][name]}".encode()),
            ],
        )
        connected, _ = await communicator.connect()
        assert connected
        sockets[name] = communicator
        welcome = await communicator.receive_json_from()
        assert welcome["type"] == "welcome", welcome
        peer_ids[name] = welcome["self"]["peer_id"]
    try:
        await _exchange(sockets, peer_ids, raw_frames)
    finally:
        for communicator in sockets.values():
            await communicator.disconnect()


async def _exchange(sockets, peer_ids, raw_frames: list[str]) -> None:
    await _drain(sockets["ana"])  # bob's peer-joined

    expected_relays = []
    for raw in raw_frames:
        for placeholder in ("ana", "bob", "cy"):
            raw = raw.replace(f"@{placeholder}", peer_ids[placeholder])
        await sockets["bob"].send_to(text_data=raw)
        try:
            message = protocol.parse_frame(raw)
        except protocol.ProtocolError:
            continue
        if message.type in ("sdp", "ice") and message.fields["to"] == peer_ids["ana"]:
            relayed = {"type": message.type, "from": peer_ids["bob"], **message.fields}
            relayed.pop("to")
            expected_relays.append(relayed)

    to_ana = await _drain(sockets["ana"])
    to_bob = await _drain(sockets["bob"])
    to_cy = await _drain(sockets["cy"])
    assert to_cy == [], "something crossed into another room"
    assert [f for f in to_ana if f["type"] in ("sdp", "ice")] == expected_relays
    assert all(f["type"] in ("sdp", "ice", "chat", "state") for f in to_ana), to_ana
    assert all(f["type"] in ("error", "pong", "chat") for f in to_bob), to_bob


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw_frames=FRAMES)
def test_random_frames_never_crash_never_relay_invalid_never_cross_rooms(cast, raw_frames):
    async_to_sync(_scenario)(cast, raw_frames)
