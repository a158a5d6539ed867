"""signaling.sfu against a real Janus started from deploy/janus/ (the API only, no media).

Publishers show up in Janus's own ``publishers`` lists only once they send media, which needs a
real WebRTC offer (tests/browser/test_sfu.py has those). Here a separate handle asks VideoRoom's
``listparticipants`` what each peer's handles did instead.
"""

from __future__ import annotations

import asyncio
import secrets

import pytest

from signaling import media_mode, sfu
from signaling.janus import JanusConnection, JanusUnavailable
from signaling.media_mode import SFU, CallMedia
from signaling.sfu import SfuPeer, SfuRefused, feed_display, feed_id, feed_of_display
from tests.support import tools
from tests.support.janus import Janus

pytestmark = pytest.mark.janus


@pytest.fixture(scope="module")
def janus(tmp_path_factory):
    with Janus(tmp_path_factory.mktemp("janus")) as server:
        yield server


@pytest.fixture
async def fresh_pool():
    """A pool of this test's own: its connections belong to this test's event loop."""
    sfu._pool = None
    media_mode._unhealthy_nodes.clear()
    yield
    if sfu._pool is not None:
        await sfu._pool.close()
    sfu._pool = None
    media_mode._unhealthy_nodes.clear()


@pytest.fixture
def janus_settings(settings, janus, fresh_pool):
    settings.JANUS_URLS = [janus.url]
    settings.JANUS_API_SECRET = janus.api_secret
    settings.JANUS_ADMIN_KEY = janus.admin_key
    return settings


@pytest.fixture
async def admin(janus):
    """A handle of the test's own on the VideoRoom plugin, to look at what the peers did."""
    connection = await JanusConnection(janus.url, api_secret=janus.api_secret).connect()
    session = await connection.create_session()
    yield await session.attach()
    await connection.close()


@pytest.fixture
def call(janus) -> CallMedia:
    return CallMedia(
        mode=SFU,
        node=janus.url,
        room=secrets.randbelow(2**40) + 1,
        secret=secrets.token_hex(16),
    )


@pytest.fixture
async def make_peer(janus_settings):
    """``make_peer(peer_id, call)`` → an ``SfuPeer`` whose frames to its browser are ``.sent``."""
    peers: list[SfuPeer] = []

    def make(peer_id: str, media: CallMedia) -> SfuPeer:
        sent: list[dict] = []

        async def send(frame: dict) -> None:
            sent.append(frame)

        peer = SfuPeer(peer_id=peer_id, media=media, send=send)
        peer.sent = sent
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        await peer.close()


async def room_exists(admin, room: int) -> bool:
    return (await admin.request({"request": "exists", "room": room})).data["exists"]


async def participants(admin, room: int) -> dict[int, str]:
    """Who is joined in the VideoRoom, as Janus lists them: feed id -> display."""
    reply = await admin.request({"request": "listparticipants", "room": room})
    return {entry["id"]: entry.get("display", "") for entry in reply.data["participants"]}


async def eventually(check, timeout: float = 3.0):
    """``await check()`` until it is truthy (Janus acts on a session's end a moment later)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


# --- feed ids and displays ----------------------------------------------------------------------


def test_a_feed_id_is_stable_numeric_below_2_to_the_52_and_distinct_per_kind():
    for peer_id in ("a", "Xy_3-kP9qLm2ZtWv", "x" * 64):
        camera, screen = feed_id(peer_id, "camera"), feed_id(peer_id, "screen")
        assert camera == feed_id(peer_id, "camera")
        assert camera != screen
        assert 0 < camera < 2**52 and 0 < screen < 2**52
    ids = {feed_id(f"peer{index}", kind) for index in range(500) for kind in sfu.FEED_KINDS}
    assert len(ids) == 1000


def test_a_feed_display_names_its_peer_and_kind_and_foreign_displays_are_refused():
    for peer_id in ("Xy_3-kP9qLm2ZtWv", "with:colon"):
        for kind in sfu.FEED_KINDS:
            assert feed_display(peer_id, kind) == f"{peer_id}:{kind}"
            assert feed_of_display(feed_display(peer_id, kind)) == (peer_id, kind)
    for foreign in ("Ana", "", None, ":camera", "p:microphone", "p:", "camera"):
        assert feed_of_display(foreign) is None, foreign


# --- one peer's handles on a real Janus ---------------------------------------------------------


async def test_the_first_peer_creates_the_private_room_and_joins_as_a_silent_publisher(
    make_peer, call, admin
):
    assert not await room_exists(admin, call.room)
    ana = make_peer("ana-peer", call)
    await ana.start()
    assert await room_exists(admin, call.room)
    assert await participants(admin, call.room) == {
        feed_id("ana-peer", "camera"): "ana-peer:camera"
    }
    # Nobody publishes yet: the browser is told of no feeds.
    assert ana.sent == [{"type": "sfu-feeds", "feeds": []}]
    # The room is private: Janus does not list it to whoever asks.
    listed = (await admin.request({"request": "list"})).data["list"]
    assert call.room not in {room["room"] for room in listed}


async def test_a_second_peer_joins_the_same_room_and_each_leaves_with_its_session(
    make_peer, call, admin
):
    ana, bob = make_peer("ana-peer", call), make_peer("bob-peer", call)
    await ana.start()
    await bob.start()
    assert await participants(admin, call.room) == {
        feed_id("ana-peer", "camera"): "ana-peer:camera",
        feed_id("bob-peer", "camera"): "bob-peer:camera",
    }
    await ana.close()

    async def only_bob():
        listed = await participants(admin, call.room)
        return listed if list(listed) == [feed_id("bob-peer", "camera")] else None

    assert await eventually(only_bob)
    assert ana.session is None and not ana.publishers


async def test_peers_starting_at_once_in_a_missing_room_all_join_it(make_peer, call, admin):
    peers = [make_peer(f"peer-{index}", call) for index in range(4)]
    await asyncio.gather(*(peer.start() for peer in peers))
    assert set(await participants(admin, call.room)) == {
        feed_id(f"peer-{index}", "camera") for index in range(4)
    }


async def test_videoroom_destroy_removes_the_room_and_is_harmless_when_it_is_gone(
    make_peer, call, admin
):
    await make_peer("ana-peer", call).start()
    assert await room_exists(admin, call.room)
    await sfu.videoroom_destroy(call)
    assert not await room_exists(admin, call.room)
    await sfu.videoroom_destroy(call)
    await sfu.videoroom_destroy(CallMedia())


async def test_subscribing_to_feeds_nobody_publishes_offers_nothing(make_peer, call):
    ana, bob = make_peer("ana-peer", call), make_peer("bob-peer", call)
    await ana.start()
    await bob.start()
    ana.sent.clear()
    # Bob is joined but sends no media, "nobody" is not in the call, and Ana's own camera is
    # not hers to receive.
    await ana.subscribe(
        feeds=[("bob-peer", "camera"), ("nobody", "camera"), ("ana-peer", "camera")]
    )
    assert ana.sent == [{"type": "sfu-offer", "sdp": None, "streams": []}]
    assert ana.subscriber is None


async def test_a_candidate_for_a_connection_the_peer_does_not_have_is_refused(make_peer, call):
    ana = make_peer("ana-peer", call)
    await ana.start()
    for target in ("screen", "subscriber"):
        with pytest.raises(SfuRefused):
            await ana.trickle(target=target, candidate=None)


async def test_a_peer_whose_earlier_socket_is_still_joined_takes_its_feed_over(
    make_peer, call, admin
):
    earlier = make_peer("ana-peer", call)
    await earlier.start()
    # The same peer resumes on a new socket before the old one left the room.
    resumed = make_peer("ana-peer", call)
    await resumed.start()
    camera = feed_id("ana-peer", "camera")
    assert await participants(admin, call.room) == {camera: "ana-peer:camera"}
    assert resumed.sent == [{"type": "sfu-feeds", "feeds": []}]
    # The feed is the new socket's: the old socket leaving does not take it away.
    await earlier.close()
    await asyncio.sleep(0.3)
    assert await participants(admin, call.room) == {camera: "ana-peer:camera"}
    await resumed.close()

    async def empty():
        return await participants(admin, call.room) == {}

    assert await eventually(empty)


# --- the pool's view of each node's health ------------------------------------------------------


async def test_the_pool_marks_a_node_unhealthy_when_it_is_unreachable_and_healthy_once_it_answers(
    janus_settings, tmp_path
):
    port = tools.free_port()
    node = f"ws://127.0.0.1:{port}"
    pool = sfu.janus_pool()
    with pytest.raises(JanusUnavailable):
        await pool.connection(node)
    assert node in media_mode._unhealthy_nodes
    with Janus(tmp_path, port=port) as revived:
        janus_settings.JANUS_API_SECRET = revived.api_secret
        connection = await pool.connection(node)
        assert connection.connected
        assert node not in media_mode._unhealthy_nodes
        assert await pool.connection(node) is connection, "one connection per node"
        revived.kill()

        async def marked_lost():
            return node in media_mode._unhealthy_nodes

        assert await eventually(marked_lost)
    assert node not in pool.connections
