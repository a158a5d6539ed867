"""The server side of SFU mode: each peer's Janus session and handles, driven from its socket.

Browsers never talk to Janus. A peer in an SFU call has one ``SfuPeer`` in its consumer, which
holds its Janus session on the call's node (``JanusPool``: one connection per node and
process) and in it:

- a *camera* publisher handle, joined at once (even before it publishes anything: a publisher
  hears of everyone else's feeds through it), publishing microphone and camera;
- a *screen* publisher handle while the peer shares its screen: a second feed, so the others
  can show it in the spotlight with its own description;
- one *subscriber* handle: a single multistream PeerConnection carrying every feed the browser
  asked for.

The browser names feeds by peer id and kind (``camera``/``screen``) and its own handles by
role; it never sees a Janus id. The server forces the room, each feed's id (derived from the
peer id) and display (``<peer_id>:<kind>``), so a browser can act only on its own handles and
can subscribe only to feeds of its own call. See docs/protocol.md ("SFU mode").
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from signaling import media_mode, wire
from signaling.janus import (
    JanusConnection,
    JanusError,
    JanusHandle,
    JanusSession,
    JanusUnavailable,
)
from signaling.media_mode import CallMedia

logger = logging.getLogger(__name__)

FEED_KINDS = ("camera", "screen")
# Janus's VideoRoom error codes this module acts on (janus_videoroom.c).
NO_SUCH_ROOM = 426
ROOM_EXISTS = 427
ID_EXISTS = 436
# How long a subscription change waits for the browser's answer to the previous offer.
ANSWER_WAIT_SECONDS = 10.0

Send = Callable[[dict[str, Any]], Awaitable[None]]


class SfuRefused(Exception):
    """A browser's SFU request cannot be done (bad feed, nothing published); told to it."""


def feed_id(peer_id: str, kind: str) -> int:
    """The VideoRoom feed id of a peer's camera or screen: stable, numeric, below 2**52."""
    base = int.from_bytes(hashlib.sha256(peer_id.encode()).digest()[:6], "big")
    return (base << 2) | FEED_KINDS.index(kind)


def feed_display(peer_id: str, kind: str) -> str:
    return f"{peer_id}:{kind}"


def feed_of_display(display: str) -> tuple[str, str] | None:
    """``(peer_id, kind)`` from a feed's display, or None for a display meet did not set."""
    peer_id, _, kind = (display or "").rpartition(":")
    return (peer_id, kind) if peer_id and kind in FEED_KINDS else None


# --- the connections to the Janus nodes ----------------------------------------------------------


class JanusPool:
    """One ``JanusConnection`` per node for this process, reconnected on demand.

    Whoever uses a node registers a listener for its loss (``watch``); when the connection
    drops every listener hears it, the node is marked unhealthy (it takes no new calls) until
    a new connection succeeds.
    """

    def __init__(self) -> None:
        self.connections: dict[str, JanusConnection] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.watchers: dict[str, set[Callable[[], Awaitable[None]]]] = {}

    async def connection(self, node: str) -> JanusConnection:
        lock = self.locks.setdefault(node, asyncio.Lock())
        async with lock:
            existing = self.connections.get(node)
            if existing is not None and existing.connected:
                return existing
            connection = JanusConnection(
                node, api_secret=settings.JANUS_API_SECRET, on_lost=self._lost
            )
            try:
                await connection.connect()
            except JanusUnavailable:
                media_mode.node_health_set(node=node, healthy=False)
                raise
            media_mode.node_health_set(node=node, healthy=True)
            self.connections[node] = connection
            return connection

    def watch(self, node: str, listener: Callable[[], Awaitable[None]]) -> None:
        self.watchers.setdefault(node, set()).add(listener)

    def unwatch(self, node: str, listener: Callable[[], Awaitable[None]]) -> None:
        self.watchers.get(node, set()).discard(listener)

    async def _lost(self, connection: JanusConnection) -> None:
        node = connection.url
        if self.connections.get(node) is connection:
            del self.connections[node]
        media_mode.node_health_set(node=node, healthy=False)
        logger.warning("Lost the connection to Janus at %s", node)
        for listener in list(self.watchers.get(node, ())):
            asyncio.ensure_future(listener())

    async def close(self) -> None:
        for connection in list(self.connections.values()):
            await connection.close()
        self.connections.clear()


_pool: JanusPool | None = None


def janus_pool() -> JanusPool:
    global _pool
    if _pool is None:
        _pool = JanusPool()
    return _pool


async def videoroom_ensure(handle: JanusHandle, media: CallMedia) -> None:
    """Create the call's VideoRoom on its node unless it exists (several peers race to it)."""
    try:
        await handle.request(
            {
                "request": "create",
                "room": media.room,
                "admin_key": settings.JANUS_ADMIN_KEY,
                "secret": media.secret,
                "is_private": True,
                "permanent": False,
                "publishers": settings.SFU_MAX_PUBLISHERS,
                "bitrate": settings.SFU_PUBLISHER_BITRATE,
                "fir_freq": 10,
                "videocodec": "vp8",
                "audiocodec": "opus",
                "notify_joining": False,
                "audiolevel_event": True,
                "audio_active_packets": 50,
                "audio_level_average": 40,
                "lock_record": True,
            }
        )
    except JanusError as error:
        if error.code != ROOM_EXISTS:
            raise


async def videoroom_destroy(media: CallMedia) -> None:
    """Destroy a call's VideoRoom (the call ended or emptied); harmless when already gone."""
    if not media.node or not media.room:
        return
    try:
        connection = await janus_pool().connection(media.node)
        session = await connection.create_session()
    except (JanusUnavailable, JanusError):
        return
    try:
        handle = await session.attach()
        with contextlib.suppress(JanusError):
            await handle.request({"request": "destroy", "room": media.room, "secret": media.secret})
    except (JanusUnavailable, JanusError):
        pass
    finally:
        await session.destroy()


# --- which socket holds which peer's session ------------------------------------------------------

# Every SfuPeer of this process by peer id. A socket that resumes a peer in this process takes
# the peer's session over, whether the old socket is still open (the server had not noticed the
# drop) or already gone; a session whose socket dropped is kept for the resume window. The
# browser's connections to Janus stay up throughout, so its media never stops (docs/protocol.md).
# A resume on another process opens a new session instead (the browser publishes again) and the
# old one expires here.
_sessions: dict[str, SfuPeer] = {}


async def _nowhere(frame: dict[str, Any]) -> None:
    """Where a kept session's frames go while its browser has no socket."""


def sfu_register(peer: SfuPeer, *, owner: str) -> None:
    """``peer`` is this process's session for its peer id, used by the socket ``owner``."""
    peer.owner = owner
    earlier = _sessions.get(peer.peer_id)
    if earlier is not None and earlier is not peer:
        earlier.cancel_expiry()
        asyncio.get_running_loop().create_task(earlier.close())
    _sessions[peer.peer_id] = peer


def sfu_take_over(peer_id: str, *, media: CallMedia, owner: str, send: Send) -> SfuPeer | None:
    """The session of ``peer_id`` in the same call, now the socket ``owner``'s; or None."""
    peer = _sessions.get(peer_id)
    if peer is None or peer.closed or peer.session is None:
        return None
    if (peer.media.node, peer.media.room) != (media.node, media.room):
        return None
    peer.cancel_expiry()
    peer.owner = owner
    peer.send = send
    return peer


def sfu_keep(peer: SfuPeer, *, seconds: float) -> None:
    """The socket of ``peer`` dropped: keep its session ``seconds`` for a resume, then close it."""
    loop = asyncio.get_running_loop()
    peer.send = _nowhere
    peer.owner = ""

    def expire() -> None:
        peer.expiry = None
        if not peer.owner:
            loop.create_task(peer.close())

    peer.cancel_expiry()
    peer.expiry = loop.call_later(seconds, expire)


# --- one peer's handles --------------------------------------------------------------------------


class SfuPeer:
    """One browser's presence in the call's VideoRoom; see the module docstring.

    ``send`` delivers a frame to this peer's browser (the consumer's ``send_json``).
    """

    def __init__(self, *, peer_id: str, media: CallMedia, send: Send) -> None:
        self.peer_id = peer_id
        self.media = media
        self.send = send
        self.session: JanusSession | None = None
        self.publishers: dict[str, JanusHandle] = {}
        self.subscriber: JanusHandle | None = None
        # Feeds of the call as Janus announced them: feed id -> (peer id, kind).
        self.feeds: dict[int, tuple[str, str]] = {}
        # Each feed's streams as its publisher described them: (mid, "audio" | "video").
        self.feed_streams: dict[int, list[tuple[str, str]]] = {}
        # The (feed, mid) streams the subscriber handle carries now.
        self.subscribed: set[tuple[int, str]] = set()
        # Feeds this browser publishes now, and the mids of its microphone on the camera feed
        # (what an enforced mute names).
        self.published: set[str] = set()
        self.audio_mids: dict[str, list[str]] = {}
        # Set while a moderator's mute is enforced on this peer's microphone and screen sound;
        # it belongs to the session, so it survives a resumed socket taking the session over.
        self.muted = False
        # The subscriber's video mids per feed, for layer choices, and its streams as last
        # told to the browser.
        self.video_mids: dict[int, list[str]] = {}
        self.streams: list[dict[str, Any]] = []
        # The subscriber handle's last offer: sent again to a resumed socket if unanswered.
        self.last_offer: dict[str, Any] | None = None
        # The channel name of the socket using this session ("" while it is kept for a resume).
        self.owner = ""
        self.expiry: asyncio.TimerHandle | None = None
        self.lock = asyncio.Lock()
        self.answered = asyncio.Event()
        self.answered.set()
        self.closed = False

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the session, make sure the room exists, join as a (silent) publisher."""
        async with self.lock:
            connection = await janus_pool().connection(self.media.node)
            janus_pool().watch(self.media.node, self._on_node_lost)
            if self.session is not None:
                # A start that failed half way (recover() starts again): its session goes.
                stale, self.session = self.session, None
                await stale.destroy()
            self.publishers.clear()
            self.session = await connection.create_session()
            camera = await self._join_publisher("camera")
            self.publishers["camera"] = camera
        await self._send_feeds()

    async def _join_publisher(self, kind: str) -> JanusHandle:
        async def listener(message: dict[str, Any]) -> None:
            if message.get("janus") == "trickle":
                await self._forward_trickle(kind, message)
            else:
                await self._on_publisher_event(message)

        handle = await self._joined().attach(listener=listener)
        join = {
            "request": "join",
            "ptype": "publisher",
            "room": self.media.room,
            "id": feed_id(self.peer_id, kind),
            "display": feed_display(self.peer_id, kind),
        }
        for attempt in range(3):
            try:
                reply = await handle.send(join)
                break
            except JanusError as error:
                if error.code == NO_SUCH_ROOM and attempt < 2:
                    await videoroom_ensure(handle, self.media)
                elif error.code == ID_EXISTS and attempt < 2:
                    # This peer's earlier socket (a resume) has not left yet: its handle goes.
                    await self._kick_feed(handle, join["id"])
                else:
                    raise
        self._note_publishers(reply.data.get("publishers") or [])
        return handle

    async def _kick_feed(self, handle: JanusHandle, feed: int) -> None:
        with contextlib.suppress(JanusError):
            await handle.request(
                {
                    "request": "kick",
                    "room": self.media.room,
                    "secret": self.media.secret,
                    "id": feed,
                }
            )

    def cancel_expiry(self) -> None:
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None

    async def close(self) -> None:
        """Leave: the session goes, and with it every handle and PeerConnection on Janus."""
        self.closed = True
        self.cancel_expiry()
        if _sessions.get(self.peer_id) is self:
            del _sessions[self.peer_id]
        janus_pool().unwatch(self.media.node, self._on_node_lost)
        if self.session is not None:
            session, self.session = self.session, None
            await session.destroy()
        self.publishers.clear()
        self.subscriber = None

    # --- requests from the browser -------------------------------------------------------------

    def _joined(self) -> JanusSession:
        """The session, or ``SfuRefused`` while there is none (Janus down, or rejoining)."""
        if self.session is None or self.closed:
            raise SfuRefused("Not joined to the media server now.")
        return self.session

    async def publish(self, *, kind: str, sdp: str) -> None:
        """Publish the browser's offer on the camera or screen feed; the answer goes back."""
        async with self.lock:
            self._joined()
            handle = self.publishers.get(kind)
            if handle is None:
                handle = await self._join_publisher(kind)
                self.publishers[kind] = handle
            reply = await handle.send(
                {"request": "publish" if kind not in self.published else "configure"},
                jsep={"type": "offer", "sdp": sdp},
            )
            self.published.add(kind)
            self.audio_mids[kind] = [
                str(stream["mid"])
                for stream in reply.data.get("streams") or []
                if stream.get("type") == "audio" and "mid" in stream
            ]
        if reply.jsep is None:
            raise SfuRefused("Janus did not answer the offer.")
        await self.send(wire.sfu_answer_frame(feed=kind, sdp=reply.jsep["sdp"]))
        if self.muted:
            # A feed published while a mute holds (a screen with sound, a republish after a
            # Janus restart) is muted too.
            await self.moderate_audio(muted=True)

    async def unpublish(self, *, kind: str) -> None:
        """Stop a feed: the screen's handle goes; the camera stops publishing but stays."""
        async with self.lock:
            handle = self.publishers.get(kind)
            if handle is None:
                return
            self.published.discard(kind)
            if kind == "screen":
                del self.publishers[kind]
                await handle.detach()
            else:
                with contextlib.suppress(JanusError):
                    await handle.send({"request": "unpublish"})

    def _streams_wanted(self, feeds: list[tuple[str, str]]) -> set[tuple[int, str]]:
        """(feed, mid) of every stream to receive: the videos asked for (last-N is the
        browser's choice) and every camera's microphone, always, so nobody goes unheard."""
        videos = {(peer_id, kind) for peer_id, kind in feeds if peer_id != self.peer_id}
        wanted = set()
        for feed, named in self.feeds.items():
            for mid, media in self.feed_streams.get(feed, ()):
                if named in videos or (named[1] == "camera" and media == "audio"):
                    wanted.add((feed, mid))
        return wanted

    async def subscribe(self, *, feeds: list[tuple[str, str]]) -> None:
        """Receive these feeds' videos (others' cameras and screens) and every microphone."""
        # One renegotiation at a time: Janus's previous offer must be answered first.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.answered.wait(), ANSWER_WAIT_SECONDS)
        async with self.lock:
            session = self._joined()
            wanted = self._streams_wanted(feeds)
            if self.subscriber is None:
                if not wanted:
                    await self.send(wire.sfu_offer_frame(sdp=None, streams=[]))
                    return
                self.subscriber = await session.attach(listener=self._on_subscriber_event)
                reply = await self.subscriber.send(
                    {
                        "request": "join",
                        "ptype": "subscriber",
                        "room": self.media.room,
                        "streams": [{"feed": feed, "mid": mid} for feed, mid in sorted(wanted)],
                        "use_msid": True,
                    }
                )
            else:
                add, drop = wanted - self.subscribed, self.subscribed - wanted
                if not add and not drop:
                    # Nothing to renegotiate; the browser still hears back (it waits for an
                    # answer before asking again), with what it receives unchanged.
                    await self.send(wire.sfu_offer_frame(sdp=None, streams=self.streams))
                    return
                request: dict[str, Any] = {"request": "update"}
                if add:
                    request["subscribe"] = [{"feed": feed, "mid": mid} for feed, mid in sorted(add)]
                if drop:
                    request["unsubscribe"] = [
                        {"feed": feed, "mid": mid} for feed, mid in sorted(drop)
                    ]
                reply = await self.subscriber.send(request)
            self.subscribed = wanted
            await self._forward_offer(reply.data, reply.jsep)

    async def answer(self, *, sdp: str) -> None:
        """The browser's answer to the subscriber's offer: Janus starts sending."""
        async with self.lock:
            if self.subscriber is None:
                raise SfuRefused("There is no subscription to answer.")
            await self.subscriber.send({"request": "start"}, jsep={"type": "answer", "sdp": sdp})
        self.answered.set()

    async def trickle(self, *, target: str, candidate: dict[str, Any] | None) -> None:
        handle = self.subscriber if target == "subscriber" else self.publishers.get(target)
        if handle is None:
            raise SfuRefused(f"No {target} connection to send a candidate for.")
        await handle.trickle(candidate)

    async def configure_layers(self, *, layers: list[tuple[str, str, int | None]]) -> None:
        """Choose, per subscribed feed, the simulcast layer (0-2) or pause it (None)."""
        async with self.lock:
            if self.subscriber is None:
                return
            streams = []
            for peer_id, kind, layer in layers:
                feed = next(
                    (key for key, value in self.feeds.items() if value == (peer_id, kind)), None
                )
                if feed is None or feed not in self.video_mids:
                    continue
                mids = self.video_mids.get(feed, [])
                for mid in mids:
                    if layer is None:
                        streams.append({"mid": mid, "send": False})
                    else:
                        streams.append({"mid": mid, "send": True, "substream": layer})
            if streams:
                await self.subscriber.send({"request": "configure", "streams": streams})

    async def moderate_audio(self, *, muted: bool) -> None:
        """Stop (or restart) forwarding this peer's sound to everyone, its microphone and its
        shared screen's: an enforced mute."""
        self.muted = muted
        handle = self.publishers.get("camera")
        if handle is None:
            return
        for kind, mids in self.audio_mids.items():
            for mid in mids:
                with contextlib.suppress(JanusError):
                    await handle.request(
                        {
                            "request": "moderate",
                            "room": self.media.room,
                            "secret": self.media.secret,
                            "id": feed_id(self.peer_id, kind),
                            "mid": mid,
                            "mute": muted,
                        }
                    )

    # --- events from Janus ---------------------------------------------------------------------

    def _note_publishers(self, publishers: list[dict[str, Any]]) -> bool:
        changed = False
        for publisher in publishers:
            named = feed_of_display(publisher.get("display", ""))
            feed = publisher.get("id")
            if named is None or not isinstance(feed, int) or named[0] == self.peer_id:
                continue
            streams = [
                (str(stream["mid"]), stream.get("type", ""))
                for stream in publisher.get("streams") or []
                if "mid" in stream and not stream.get("disabled")
            ]
            if self.feeds.get(feed) != named or self.feed_streams.get(feed) != streams:
                self.feeds[feed] = named
                self.feed_streams[feed] = streams
                changed = True
        return changed

    async def _send_feeds(self) -> None:
        await self.send(wire.sfu_feeds_frame(feeds=list(self.feeds.values())))

    async def _on_publisher_event(self, message: dict[str, Any]) -> None:
        data = (message.get("plugindata") or {}).get("data") or {}
        if message.get("janus") != "event" or self.closed:
            return
        changed = self._note_publishers(data.get("publishers") or [])
        for key in ("unpublished", "leaving"):
            gone = data.get(key)
            if isinstance(gone, int) and gone in self.feeds:
                del self.feeds[gone]
                self.feed_streams.pop(gone, None)
                # Janus drops a gone feed's streams from the subscription by itself.
                self.subscribed = {stream for stream in self.subscribed if stream[0] != gone}
                changed = True
        if changed:
            await self._send_feeds()
        if "talking" in data.get("videoroom", ""):
            named = self.feeds.get(data.get("id"))
            if named is not None:
                talking = data["videoroom"] == "talking"
                await self.send(wire.sfu_talking_frame(peer_id=named[0], talking=talking))

    async def _forward_trickle(self, target: str, message: dict[str, Any]) -> None:
        """One of Janus's own ICE candidates (it trickles them), for the browser's connection."""
        candidate = message.get("candidate") or {}
        if self.closed:
            return
        ended = candidate.get("completed")
        await self.send(
            wire.sfu_trickle_frame(target=target, candidate=None if ended else candidate)
        )

    async def _on_subscriber_event(self, message: dict[str, Any]) -> None:
        if message.get("janus") == "trickle":
            await self._forward_trickle("subscriber", message)
            return
        if message.get("janus") != "event" or self.closed:
            return
        data = (message.get("plugindata") or {}).get("data") or {}
        jsep = message.get("jsep")
        if jsep is not None and jsep.get("type") == "offer":
            # Janus renegotiates on its own when a subscribed feed goes away.
            await self._forward_offer(data, jsep)

    async def _forward_offer(self, data: dict[str, Any], jsep: dict[str, Any] | None) -> None:
        streams = []
        video_mids: dict[int, list[str]] = {}
        for stream in data.get("streams") or []:
            feed = stream.get("feed_id")
            named = self.feeds.get(feed) or feed_of_display(stream.get("feed_display", ""))
            if named is None or not stream.get("active", True):
                continue
            streams.append(
                wire.sfu_stream_json(
                    mid=str(stream.get("mid")),
                    peer_id=named[0],
                    feed=named[1],
                    kind=stream.get("type"),
                )
            )
            if stream.get("type") == "video":
                video_mids.setdefault(feed, []).append(str(stream.get("mid")))
        self.video_mids = video_mids
        self.streams = streams
        if jsep is None:
            return
        self.answered.clear()
        self.last_offer = wire.sfu_offer_frame(sdp=jsep["sdp"], streams=streams)
        await self.send(self.last_offer)

    async def resync(self) -> None:
        """After a resume took this session over: what the browser may have missed meanwhile
        (the feeds now, and Janus's offer if one is still waiting for its answer)."""
        await self._send_feeds()
        if not self.answered.is_set() and self.last_offer is not None:
            await self.send(self.last_offer)

    async def _on_node_lost(self) -> None:
        """Janus died or restarted: the session is gone; the browser republishes from scratch."""
        if self.closed:
            return
        self.session = None
        self.publishers.clear()
        self.subscriber = None
        self.subscribed = set()
        self.feeds.clear()
        self.feed_streams.clear()
        self.answered.set()
        self.streams = []
        await self.send(wire.sfu_status_frame(status="reset"))
        asyncio.ensure_future(self.recover())

    async def recover(self) -> None:
        """Reconnect to the node (it may take seconds to come back) and join the room again;
        the browser hears ``sfu-ready`` (publish again) or, past SFU_RECOVERY_SECONDS,
        ``sfu-failed``."""
        delay = 0.25
        deadline = asyncio.get_running_loop().time() + settings.SFU_RECOVERY_SECONDS
        while not self.closed and asyncio.get_running_loop().time() < deadline:
            try:
                await self.start()
                await self.send(wire.sfu_status_frame(status="ready"))
                return
            except (JanusUnavailable, JanusError) as error:
                logger.info("Janus at %s not back yet: %s", self.media.node, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if not self.closed:
            await self.send(wire.sfu_status_frame(status="failed"))
