"""The signaling socket ``/ws/rooms/<slug>/``: transport only.

Connect admits through ``signaling.admission``; each frame is checked by the flood guard, parsed
by ``signaling.protocol`` and dispatched through an explicit allow-list of handlers; the rules
live in the presence and moderation services. Every frame sent is built by ``signaling.wire``.
See docs/protocol.md for the contract and docs/server.md for the layers.

The channel layer brings facts (``signaling.events``: ``peer.joined``, ``participant.kicked``,
``room.locked``...), each handled by the method of the same name, which applies
``events.delivery_for`` to it.

Relays find their target without the database: the consumer keeps ``roster``, peer id to channel
name for its room, filled from the database once at admission and then kept current by the
``peer.joined``/``peer.left`` events of the room group. An ``sdp`` or ``ice`` frame is one dict
lookup and one ``channel_layer.send`` to that channel, whatever the room's size.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from rooms import lobby, moderation, services
from rooms.models import REASON_CONNECTION_LOST, REASON_LEFT
from rooms.selectors import room_id_by_slug
from signaling import events, media_mode, metrics, presence, protocol, receive_loop, sfu, wire
from signaling.admission import socket_admit, socket_admit_visitor
from signaling.events import LAYER_BUSY_ERRORS, room_group
from signaling.i18n import socket_language
from signaling.ratelimit import ALLOW, DISCONNECT, FloodGuard, TokenBucket

logger = logging.getLogger(__name__)

# Reactions: a burst of five, then one a second (issue #15); fixed, unlike chat's settings,
# since nothing is stored and no operator has asked to tune them.
REACTION_RATE_BURST = 5
REACTION_RATE_PER_SECOND = 1.0


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """One participant's signaling socket in one room."""

    participant = None
    room = None
    peer_id: str | None = None
    group_name = ""
    role: str = ""
    closing = False
    # Set once ``participant_leave`` ran for this socket's row, so it runs once per socket.
    participant_ended = False
    # While this socket waits in the lobby: its knock, the hosts in the call (peer id to role
    # is not needed, only who they are) and the task that ends the knock when nobody answers.
    knock = None
    knock_expiry = None
    # In an SFU call: this peer's Janus handles (signaling.sfu) and the task that opens them.
    sfu: sfu.SfuPeer | None = None
    sfu_starting: asyncio.Task | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch, without its database thread hop for every message.

        Channels runs ``close_old_connections`` on the database thread before each message it
        dispatches, as Django does around a request. Here that hop cost more than the relay it
        preceded (a third of the server's CPU under load), and it buys nothing:
        ``database_sync_to_async``, the only way this consumer reaches the database, already
        closes stale connections around every call.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    @classmethod
    async def encode_json(cls, content: dict[str, Any]) -> str:
        return wire.encode_frame(content)

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self._serve(scope, receive, send)
        finally:
            # Whatever ends this consumer (even an error no handler caught, after which daphne
            # closes 1011 and never calls disconnect), its row must stop being refreshed, so
            # the sweep ends it instead of it sitting in every welcome as a ghost.
            if self.participant is not None:
                presence.presence_keeper().discard(self.participant.pk)

    async def _serve(self, scope, receive, send) -> None:
        """Channels' ``AsyncConsumer.__call__`` (channels is pinned) with another receive loop.

        ``signaling.receive_loop`` replaces ``channels.utils.await_many_dispatch``, which
        rebuilt its waiting tasks for every message and so stalled the relay in the garbage
        collector (see that module).
        """
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        try:
            await receive_loop.await_many_dispatch(sources, self.dispatch)
        except StopConsumer:
            pass

    async def connect(self) -> None:
        started = time.monotonic()
        # The language of the pages, for what this socket says in words (signaling/i18n.py).
        self.language = socket_language(self.scope)
        self.roster: dict[str, str] = {}
        # Peers whose peer-left the keeper's roster check already told the client (the layer's
        # own announcement was late or lost): if it arrives after all, it is not repeated.
        self.told_left: set[str] = set()
        self.flood_guard = FloodGuard()
        # Chat has its own, slower bucket: every chat is a database row and a room broadcast.
        self.chat_rate = TokenBucket(settings.CHAT_RATE_BURST, settings.CHAT_RATE_PER_SECOND)
        # Reactions too: each is a room broadcast, and a stream of them would bury the tiles.
        self.reaction_rate = TokenBucket(REACTION_RATE_BURST, REACTION_RATE_PER_SECOND)
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room_id = await room_id_for_slug(slug)
        if room_id is not None:
            self.group_name = room_group(room_id)
            await self.channel_layer.group_add(self.group_name, self.channel_name)
        # One trip to the database for the whole admission. On PostgreSQL it runs off the single
        # database thread, so a join storm is not serialised behind it (each worker thread has
        # its own connection); SQLite takes one writer at a time anyway, and its busy handler
        # sleeps up to 100 ms a try when threads contend, so there it stays on that thread.
        # A refusal's words are made in the admission, so it runs in the socket's language.
        with translation.override(self.language):
            user, invite_token, admission = await database_sync_to_async(
                socket_admit_visitor, thread_sensitive=not ADMISSIONS_IN_PARALLEL
            )(
                scope=self.scope,
                slug=slug,
                channel_name=self.channel_name,
                query_invite=(query.get("invite") or [None])[0],
                resume_token=(query.get("resume") or [None])[0],
            )
        # A guest acts as its guest identity from here on: chat, moderation's ``by``, bans.
        self.scope["user"] = user
        self.invite_token = invite_token
        admitted_room = admission.room
        if admitted_room is not None and admitted_room.pk != room_id:
            # The slug was freed (its room deleted) and taken by a new room since it was
            # remembered: follow the room actually admitted to.
            _ROOM_IDS[slug] = admitted_room.pk
            if self.group_name:
                await self.channel_layer.group_discard(self.group_name, self.channel_name)
            self.group_name = room_group(admitted_room.pk)
            await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        metrics.admission_counted(refusal=admission.refusal)
        if admission.knock is not None:
            await self._wait_in_lobby(admission)
            metrics.ADMISSION_SECONDS.observe(time.monotonic() - started)
            return
        await self._enter_call(admission)
        metrics.ADMISSION_SECONDS.observe(time.monotonic() - started)

    async def _enter_call(self, admission) -> None:
        """Send the welcome of an admitted socket and announce it, or send its refusal."""
        if admission.refusal:
            if self.group_name:
                await self.channel_layer.group_discard(self.group_name, self.channel_name)
                self.group_name = ""
            await self._send_error(admission.refusal, admission.message)
            await self._close(admission.close_code)
            return

        join = admission.join
        self.participant = join.participant
        self.room = admission.room
        self.peer_id = join.participant.peer_id
        self.role = join.participant.role
        self.roster = dict(admission.roster)
        presence.presence_keeper().add(self.participant.pk, self.channel_name, consumer=self)
        media = join.media
        if media.on_sfu and join.resumed:
            # A resume in the process that holds this peer's Janus session takes it over.
            self.sfu = sfu.sfu_take_over(
                self.peer_id, media=media, owner=self.channel_name, send=self._sfu_send
            )
            if self.sfu is not None:
                admission.welcome["media"] = wire.media_json(mode=media.mode, kept=True)
        await self.send_json(admission.welcome)
        if self.sfu is not None:
            await self.sfu.resync()
        if not admission.roster and not join.resumed:
            # Nobody else was in the room: this peer starts a call.
            (metrics.CALLS_STARTED_SFU if media.on_sfu else metrics.CALLS_STARTED_MESH).inc()
        if media.retired is not None:
            asyncio.ensure_future(sfu.videoroom_destroy(media.retired))
        if media.on_sfu:
            self._sfu_open(media)

        if media.switched:
            # This peer's arrival moved the call to the SFU: everyone else follows, before they
            # hear of the newcomer, so nobody opens a mesh connection to it.
            await self.channel_layer.group_send(
                self.group_name, events.call_media_changed_event(media=media)
            )
        joined = events.peer_joined_event(
            peer=wire.peer_json(join.participant), resumed=join.resumed, channel=self.channel_name
        )
        try:
            await self.channel_layer.group_send(self.group_name, joined)
        except Exception:
            metrics.LAYER_ERRORS.inc()
            # Nobody can learn of this peer, so it cannot be in the call: end it now and let
            # the client resume, rather than keep a peer the others never see.
            logger.exception("Could not announce peer %s; closing its socket", self.peer_id)
            await self._fail()
            return
        if join.replaced_channel:
            try:
                await self.channel_layer.send(join.replaced_channel, events.socket_replaced_event())
            except LAYER_BUSY_ERRORS:
                metrics.LAYER_ERRORS.inc()
                # The old row is already ended; its socket goes when its client notices.
                logger.warning("Could not close the replaced socket of peer %s", self.peer_id)

    # --- the lobby ------------------------------------------------------------------------------

    async def _wait_in_lobby(self, admission) -> None:
        """Hold this socket in the lobby: tell the client, and end the knock if nobody answers."""
        self.knock = admission.knock
        self.room = admission.room
        self.hosts = set(admission.hosts)
        await self._send_lobby_status()
        self.knock_expiry = asyncio.ensure_future(self._expire_knock_later())

    async def _send_lobby_status(self) -> None:
        await self.send_json(
            wire.lobby_frame(
                hosts_present=bool(self.hosts),
                timeout_seconds=settings.LOBBY_KNOCK_TIMEOUT_SECONDS,
            )
        )

    async def _expire_knock_later(self) -> None:
        await asyncio.sleep(settings.LOBBY_KNOCK_TIMEOUT_SECONDS)
        expired = await database_sync_to_async(lobby.knock_expire)(
            room=self.room, knock_id=self.knock.pk
        )
        if expired is None or self.closing:
            return  # A host decided meanwhile: that decision's event follows.
        self.knock = None
        await self._send_error(
            wire.KNOCK_EXPIRED,
            _("Nobody let you in in time. You can ask to join again."),
        )
        await self._close(wire.CLOSE_KNOCK_EXPIRED)

    async def _hosts_changed(
        self,
        *,
        joined: dict | None = None,
        left: str | None = None,
        role: tuple[str, str] | None = None,
        clear: bool = False,
    ) -> None:
        """Keep a knocker's view of who could let it in, and tell the client when it changes."""
        before = bool(self.hosts)
        if clear:
            self.hosts.clear()
        if joined is not None and moderation.can_moderate(role=joined["role"]):
            self.hosts.add(joined["peer_id"])
        if left is not None:
            self.hosts.discard(left)
        if role is not None:
            peer_id, new_role = role
            if moderation.can_moderate(role=new_role):
                self.hosts.add(peer_id)
            else:
                self.hosts.discard(peer_id)
        if bool(self.hosts) != before and not self.closing:
            await self._send_lobby_status()

    async def lobby_decided(self, event: dict[str, Any]) -> None:
        """A host admitted or denied this knocker."""
        if self.knock is None or self.closing:
            return
        self.knock = None
        if self.knock_expiry is not None:
            self.knock_expiry.cancel()
        if event["status"] != "admitted":
            await self._send_error(
                wire.LOBBY_DENIED, _("The host did not let you into this meeting.")
            )
            await self._close(wire.CLOSE_LOBBY_DENIED)
            return
        with translation.override(self.language):
            admission = await database_sync_to_async(socket_admit)(
                user=self.scope["user"],
                room=self.room,
                channel_name=self.channel_name,
                invite_token=self.invite_token,
                admitted=True,
            )
        await self._enter_call(admission)

    async def lobby_knocked(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def lobby_knock_ended(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def disconnect(self, code: int) -> None:
        if self.knock_expiry is not None:
            self.knock_expiry.cancel()
        if self.knock is not None:
            knock, self.knock = self.knock, None
            try:
                await database_sync_to_async(lobby.knock_withdraw)(
                    room=self.room, knock_id=knock.pk
                )
            except Exception:
                logger.exception("Could not withdraw knock %s", knock.pk)
        # The row is ended before any layer call: with Redis down those raise, and a row left
        # open (and refreshed by the keeper) would be a ghost in every welcome until a restart.
        await self._end_participant(REASON_CONNECTION_LOST)
        if self.sfu is not None:
            if self.sfu.owner != self.channel_name:
                self.sfu = None  # A resumed socket took the session over.
            elif not self.closing and self.sfu_starting is None:
                # The socket dropped (the server did not close it): the browser may resume
                # within the window, and its connections to Janus carry on meanwhile.
                sfu.sfu_keep(self.sfu, seconds=settings.RESUME_WINDOW_SECONDS)
                self.sfu = None
            else:
                await self._sfu_close()
            try:
                await self._sfu_release_if_empty()
            except Exception:
                logger.warning("Could not release the SFU room", exc_info=True)
        if self.group_name:
            try:
                await self.channel_layer.group_discard(self.group_name, self.channel_name)
            except Exception:
                metrics.LAYER_ERRORS.inc()
                # The layer's own record of the group is already updated; only Redis's
                # subscription may linger, and messages for an empty group are dropped.
                logger.warning("Could not leave group %s", self.group_name, exc_info=True)

    # --- frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.knock is not None and self.participant is None and not self.closing:
            await self._receive_in_lobby(text_data)
            return
        if self.participant is None or self.closing:
            return
        kind = "frame"
        verdict = self.flood_guard.check()
        if verdict != ALLOW:
            await self._send_error(wire.RATE_LIMITED, _("Slow down: too many messages."))
            if verdict == DISCONNECT:
                await self._close(wire.CLOSE_RATE_LIMITED)
            return
        try:
            if text_data is None:
                raise protocol.ProtocolError(
                    wire.BAD_MESSAGE, _("Frames must be JSON, not binary.")
                )
            message = protocol.parse_frame(text_data)
            kind = message.type
            handler = self.HANDLERS[message.type]
            if message.type in protocol.MODERATION_TYPES and not moderation.can_moderate(
                role=self.role
            ):
                raise protocol.ProtocolError(
                    wire.FORBIDDEN,
                    _("Only the room's owner and moderators can do this."),
                    ref=message.type,
                )
            await handler(self, message.fields)
        except protocol.ProtocolError as error:
            metrics.error_sent(code=error.code)
            with translation.override(self.language):
                frame = error.as_frame()
            await self.send_json(frame)
        except moderation.ModerationRefused as refused:
            code = wire.MODERATION_REFUSAL_CODES[refused.reason]
            await self._send_error(code, refused.message, ref=message.type)
        except LAYER_BUSY_ERRORS:
            metrics.LAYER_ERRORS.inc()
            # The channel layer (Redis) is unreachable: what was stored stands, nobody heard it.
            # The socket stays open; the layer reconnects on its own when Redis is back.
            logger.warning("Could not broadcast %s from peer %s", kind, self.peer_id)
            await self._send_error(
                wire.NOT_DELIVERED,
                _("The server could not pass this on to the others; try again."),
                ref=kind,
            )
        except Exception:
            logger.exception("Handling %s from peer %s failed", kind, self.peer_id)
            await self._fail()

    async def _receive_in_lobby(self, text_data: str | None) -> None:
        """A knocker may only ping (its page notices a dead socket that way) until let in."""
        if self.flood_guard.check() != ALLOW:
            await self._send_error(wire.RATE_LIMITED, _("Slow down: too many messages."))
            return
        try:
            message = protocol.parse_frame(text_data or "")
        except protocol.ProtocolError as error:
            with translation.override(self.language):
                frame = error.as_frame()
            await self.send_json(frame)
            return
        if message.type == "ping":
            await self.send_json(wire.pong_frame())
            return
        await self._send_error(
            wire.IN_LOBBY, _("You are waiting to be let in; wait for the host."), ref=message.type
        )

    async def handle_relay(self, kind: str, fields: dict[str, Any]) -> None:
        target = fields.pop("to")
        channel = self.roster.get(target)
        if target == self.peer_id or channel is None:
            raise protocol.ProtocolError(
                wire.UNKNOWN_PEER, _("No such peer in this room."), ref=kind
            )
        event = events.peer_signal_event(kind=kind, sender=self.peer_id, fields=fields)
        try:
            await self.channel_layer.send(channel, event)
        except LAYER_BUSY_ERRORS as full:
            metrics.LAYER_ERRORS.inc()
            # The target's queue (its whole process's, with Redis) is full: tell the sender
            # rather than fail its socket; it may retry, and ICE restarts recover lost frames.
            raise protocol.ProtocolError(
                wire.BUSY, _("The server is too busy to deliver this now."), ref=kind
            ) from full
        metrics.RELAYS.inc()

    async def handle_sdp(self, fields: dict[str, Any]) -> None:
        await self.handle_relay("sdp", fields)

    async def handle_ice(self, fields: dict[str, Any]) -> None:
        await self.handle_relay("ice", fields)

    async def handle_chat(self, fields: dict[str, Any]) -> None:
        if not self.chat_rate.take():
            raise protocol.ProtocolError(
                wire.RATE_LIMITED,
                _("Slow down: you are sending chat messages too quickly."),
                ref="chat",
            )
        message = await database_sync_to_async(_chat_store)(
            room=self.room, user=self.scope["user"], text=fields["text"], peer_id=self.peer_id
        )
        event = events.chat_message_event(message=wire.chat_json(message))
        try:
            await self.channel_layer.group_send(self.group_name, event)
        except LAYER_BUSY_ERRORS as failure:
            metrics.LAYER_ERRORS.inc()
            # Hidden, not kept: nobody received it and its sender is told it was not delivered,
            # so showing it in later joiners' history would contradict what the sender saw.
            # Hidden rather than deleted, like a moderated message, so the record stays.
            await database_sync_to_async(services.chat_message_hide)(message=message)
            raise protocol.ProtocolError(
                wire.NOT_DELIVERED,
                _("Your message could not be delivered; send it again."),
                ref="chat",
            ) from failure

    async def handle_reaction(self, fields: dict[str, Any]) -> None:
        if not self.reaction_rate.take():
            raise protocol.ProtocolError(
                wire.RATE_LIMITED,
                _("Slow down: you are sending reactions too quickly."),
                ref="reaction",
            )
        event = events.peer_reaction_event(peer_id=self.peer_id, emoji=fields["emoji"])
        await self.channel_layer.group_send(self.group_name, event)

    async def handle_state(self, fields: dict[str, Any]) -> None:
        state = await database_sync_to_async(presence.participant_state_update)(
            participant_id=self.participant.pk, state=fields["state"]
        )
        event = events.peer_state_event(peer_id=self.peer_id, state=state)
        await self.channel_layer.group_send(self.group_name, event)
        if self.sfu is not None and self.sfu.muted and fields["state"].get("audio") is True:
            # The person unmuted themselves: the SFU forwards their sound again.
            await self.sfu.moderate_audio(muted=False)

    async def handle_kick(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(_moderate_peer)(
            consumer_participant=self.participant,
            peer_id=fields["peer_id"],
            action="kick",
            by=self.scope["user"],
            reason=fields["reason"],
        )

    async def handle_ban(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(_moderate_peer)(
            consumer_participant=self.participant,
            peer_id=fields["peer_id"],
            action="ban",
            by=self.scope["user"],
            reason=fields["reason"],
        )

    async def handle_mute(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(_moderate_peer)(
            consumer_participant=self.participant,
            peer_id=fields["peer_id"],
            action="mute",
            by=self.scope["user"],
        )

    async def handle_lock(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(moderation.room_lock)(
            room=self.room, by=self.scope["user"], locked=fields["locked"]
        )

    async def handle_end(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(moderation.room_end)(room=self.room, by=self.scope["user"])
        # Ending the call destroys its VideoRoom at once: no media flows past the end, even to
        # a browser that ignores the close.
        await self._sfu_release_if_empty()

    async def handle_admit(self, fields: dict[str, Any]) -> None:
        by = self.scope["user"]
        if fields["all"]:
            await database_sync_to_async(lobby.knocks_admit_all)(room=self.room, by=by)
            return
        admitted = await database_sync_to_async(lobby.knock_admit)(
            room=self.room, knock_id=fields["knock_id"], by=by
        )
        if admitted is None:
            raise protocol.ProtocolError(
                wire.UNKNOWN_KNOCK, _("That person is no longer waiting."), ref="admit"
            )

    async def handle_deny(self, fields: dict[str, Any]) -> None:
        denied = await database_sync_to_async(lobby.knock_deny)(
            room=self.room, knock_id=fields["knock_id"], by=self.scope["user"]
        )
        if denied is None:
            raise protocol.ProtocolError(
                wire.UNKNOWN_KNOCK, _("That person is no longer waiting."), ref="deny"
            )

    # --- SFU mode: the browser's requests for its own Janus handles (signaling.sfu) -------------

    async def _sfu_request(self, ref: str, action) -> None:
        """Run one SFU request of the browser; a refusal or Janus failure becomes an error."""
        if self.sfu is None:
            raise protocol.ProtocolError(
                wire.SFU_UNAVAILABLE, _("This call does not go through the SFU."), ref=ref
            )
        try:
            if self.sfu_starting is not None:
                await self.sfu_starting
            await action(self.sfu)
        except (sfu.SfuRefused, sfu.JanusError, sfu.JanusUnavailable) as failure:
            logger.info("SFU request %s of peer %s failed: %s", ref, self.peer_id, failure)
            raise protocol.ProtocolError(
                wire.SFU_UNAVAILABLE,
                _("The media server could not do this; try again in a moment."),
                ref=ref,
            ) from failure

    async def handle_sfu_publish(self, fields: dict[str, Any]) -> None:
        await self._sfu_request(
            "sfu-publish", lambda peer: peer.publish(kind=fields["feed"], sdp=fields["sdp"])
        )

    async def handle_sfu_unpublish(self, fields: dict[str, Any]) -> None:
        await self._sfu_request("sfu-unpublish", lambda peer: peer.unpublish(kind=fields["feed"]))

    async def handle_sfu_subscribe(self, fields: dict[str, Any]) -> None:
        await self._sfu_request("sfu-subscribe", lambda peer: peer.subscribe(feeds=fields["feeds"]))

    async def handle_sfu_start(self, fields: dict[str, Any]) -> None:
        await self._sfu_request("sfu-start", lambda peer: peer.answer(sdp=fields["sdp"]))

    async def handle_sfu_trickle(self, fields: dict[str, Any]) -> None:
        await self._sfu_request(
            "sfu-trickle",
            lambda peer: peer.trickle(target=fields["target"], candidate=fields["candidate"]),
        )

    async def handle_sfu_configure(self, fields: dict[str, Any]) -> None:
        await self._sfu_request(
            "sfu-configure", lambda peer: peer.configure_layers(layers=fields["layers"])
        )

    def _sfu_open(self, media: media_mode.CallMedia) -> None:
        """Join the call's VideoRoom on this peer's behalf, in the background."""
        if self.sfu is not None:
            return
        self.sfu = sfu.SfuPeer(peer_id=self.peer_id, media=media, send=self._sfu_send)
        sfu.sfu_register(self.sfu, owner=self.channel_name)
        self.sfu_starting = asyncio.ensure_future(self._sfu_start())

    async def _sfu_start(self) -> None:
        try:
            await self.sfu.start()
        except (sfu.JanusError, sfu.JanusUnavailable) as failure:
            # Janus is down or restarting: keep trying in the background (the browser is told
            # sfu-ready when it can publish, or sfu-failed after SFU_RECOVERY_SECONDS).
            logger.warning("Peer %s could not join the SFU: %s", self.peer_id, failure)
            await self._sfu_send(wire.sfu_status_frame(status="reset"))
            asyncio.ensure_future(self.sfu.recover())
        finally:
            self.sfu_starting = None

    async def _sfu_send(self, frame: dict[str, Any]) -> None:
        if not self.closing:
            await self.send_json(frame)

    async def _sfu_close(self) -> None:
        if self.sfu is None:
            return
        peer, self.sfu = self.sfu, None
        if self.sfu_starting is not None:
            self.sfu_starting.cancel()
        try:
            await peer.close()
        except Exception:
            logger.warning("Could not leave the SFU for peer %s", self.peer_id, exc_info=True)

    async def _sfu_release_if_empty(self) -> None:
        """The last one out destroys the call's VideoRoom."""
        if self.room is None:
            return
        media = await database_sync_to_async(media_mode.call_media_release_if_empty)(
            room_id=self.room.pk
        )
        if media is not None:
            await sfu.videoroom_destroy(media)

    async def handle_ping(self, fields: dict[str, Any]) -> None:
        await self.send_json(wire.pong_frame())

    async def handle_leave(self, fields: dict[str, Any]) -> None:
        await self._end_participant(REASON_LEFT)
        await self._close(wire.CLOSE_LEFT)

    HANDLERS = {
        "sdp": handle_sdp,
        "ice": handle_ice,
        "chat": handle_chat,
        "state": handle_state,
        "reaction": handle_reaction,
        "kick": handle_kick,
        "ban": handle_ban,
        "mute": handle_mute,
        "lock": handle_lock,
        "end": handle_end,
        "ping": handle_ping,
        "leave": handle_leave,
        "admit": handle_admit,
        "deny": handle_deny,
        "sfu-publish": handle_sfu_publish,
        "sfu-unpublish": handle_sfu_unpublish,
        "sfu-subscribe": handle_sfu_subscribe,
        "sfu-start": handle_sfu_start,
        "sfu-trickle": handle_sfu_trickle,
        "sfu-configure": handle_sfu_configure,
    }

    # --- events from the channel layer ----------------------------------------------------------

    # One method per event type of signaling.events (Channels calls ``peer.joined`` as
    # ``peer_joined``); each turns the fact into a frame, roster changes and maybe a close.

    async def peer_joined(self, event: dict[str, Any]) -> None:
        if self.knock is not None:
            await self._hosts_changed(joined=event["peer"])
            return
        await self._deliver(events.delivery_for(event))

    async def peer_left(self, event: dict[str, Any]) -> None:
        if self.knock is not None:
            await self._hosts_changed(left=event["peer_id"])
            return
        await self._deliver(events.delivery_for(event))

    async def peer_state(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def peer_signal(self, event: dict[str, Any]) -> None:
        # The hot path: a relay arrives encoded and leaves as it came (events.peer_signal_event).
        if self.closing or self.peer_id is None:
            return
        await self.send(text_data=event["text"])

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def peer_reaction(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def participant_kicked(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def participant_mute_requested(self, event: dict[str, Any]) -> None:
        if self.sfu is not None and not self.closing:
            # In an SFU call a mute is enforced: Janus stops forwarding this peer's sound.
            await self.sfu.moderate_audio(muted=True)
        await self._deliver(events.delivery_for(event))

    async def call_media_changed(self, event: dict[str, Any]) -> None:
        """The call moved to the SFU: tell the client, and join the VideoRoom for it."""
        if self.knock is not None or self.closing or self.peer_id is None:
            return
        media = media_mode.CallMedia(
            mode=event["mode"], node=event["node"], room=event["room"], secret=event["secret"]
        )
        await self.send_json(wire.media_mode_frame(mode=media.mode))
        if media.on_sfu:
            self._sfu_open(media)

    async def participant_role_changed(self, event: dict[str, Any]) -> None:
        if self.knock is not None:
            await self._hosts_changed(role=(event["peer_id"], event["role"]))
            return
        await self._deliver(events.delivery_for(event))

    async def room_locked(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def call_ended(self, event: dict[str, Any]) -> None:
        if self.knock is not None:
            # The call ended for everyone, hosts included (their rows ended without a peer-left):
            # the knocker keeps waiting for the next host, and is told nobody is there now.
            await self._hosts_changed(clear=True)
            return
        await self._deliver(events.delivery_for(event))

    async def socket_replaced(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def socket_lost(self, event: dict[str, Any]) -> None:
        await self._deliver(events.delivery_for(event))

    async def _deliver(self, delivery: events.Delivery) -> None:
        """Apply one event's delivery: roster updates, a frame, maybe a close."""
        if self.closing or self.peer_id is None:
            return
        frame = delivery.frame
        joined = delivery.join
        if joined:
            for peer_id, channel in joined.items():
                if peer_id == self.peer_id:
                    continue
                self.told_left.discard(peer_id)
                already_known = self.roster.get(peer_id) == channel
                self.roster[peer_id] = channel
                # A peer seen both in the welcome roster and in its own announcement (they
                # joined at the same moment) is announced to the client only once.
                if already_known and frame and frame.get("type") == "peer-joined":
                    frame = None
        left = delivery.leave
        if left:
            if left in self.told_left and left not in self.roster:
                self.told_left.discard(left)
                frame = None
            self.roster.pop(left, None)
        new_role = (delivery.roles or {}).get(self.peer_id)
        if new_role:
            self.role = self.participant.role = new_role
        if delivery.exclude == self.peer_id:
            return
        if delivery.hosts_only and not moderation.can_moderate(role=self.role):
            return
        if frame is not None:
            await self.send_json(frame)
        if delivery.close:
            await self._close(delivery.close)

    # --- helpers --------------------------------------------------------------------------------

    async def _end_participant(self, reason: str) -> None:
        """End this socket's row once and tell the room; survives a failing database or layer.

        The keeper lets go of the row first: if the database is down the row is no longer
        refreshed, so a living process sweeps (and announces) it after the stale limit. If only
        the layer is down, every process's keeper finds the ended row at its next beat and
        tells its own sockets (``PresenceKeeper.check_rosters``).
        """
        if self.participant is None or self.participant_ended:
            return
        keeper = presence.presence_keeper()
        keeper.discard(self.participant.pk)
        try:
            ended = await database_sync_to_async(services.participant_leave)(
                participant_id=self.participant.pk, reason=reason
            )
        except Exception:
            logger.exception("Could not end peer %s; the sweep will", self.peer_id)
            return
        self.participant_ended = True
        if not ended:
            return
        event = events.peer_left_event(peer_id=self.peer_id, reason=reason)
        try:
            await self.channel_layer.group_send(self.group_name, event)
        except Exception:
            metrics.LAYER_ERRORS.inc()
            # Each process's keeper finds the ended row at its next beat and tells its sockets.
            logger.warning("Could not announce that peer %s left", self.peer_id)

    async def peer_gone(self, peer_id: str, channel_name: str, reason: str) -> None:
        """The keeper found ``peer_id``'s row ended: tell the client, unless already told."""
        if self.closing or self.roster.get(peer_id) != channel_name:
            # Already announced, or the peer came back on a newer socket since the check.
            return
        del self.roster[peer_id]
        self.told_left.add(peer_id)
        await self.send_json(wire.peer_left_frame(peer_id=peer_id, reason=reason))

    async def close_lost(self) -> None:
        """Close with ``CLOSE_LOST`` (row swept behind its back) when the layer cannot carry it."""
        await self._close(wire.CLOSE_LOST)

    async def _fail(self) -> None:
        """After an unforeseen failure: end the participant as lost and close 1011."""
        await self._end_participant(REASON_CONNECTION_LOST)
        await self._close(wire.CLOSE_SERVER_ERROR)

    async def _send_error(self, code: str, message: str, ref: str | None = None) -> None:
        metrics.error_sent(code=code)
        # ``message`` may be a lazy translation: it is put into words in the socket's language.
        with translation.override(self.language):
            frame = wire.error_frame(code=code, message=message, ref=ref)
        await self.send_json(frame)

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    async def send(self, text_data=None, bytes_data=None, close=False) -> None:
        """Send a frame, unless the client has already gone.

        Events queued for a socket can be handled after its client disconnected; daphne then
        raises ``Disconnected``. Letting that escape would end the consumer before its
        ``disconnect`` runs, and the others would hear ``peer-left`` only from the sweep.
        """
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            self.closing = True


# Admissions run in parallel threads where the database takes parallel writers.
ADMISSIONS_IN_PARALLEL = connection.vendor != "sqlite"

# Room ids by slug, for the group a socket joins before its admission: a slug never changes
# and never moves to another room, so the first join of each room in this process looks it up
# and the rest do not. Bounded: past the limit it starts afresh.
_ROOM_IDS: dict[str, int] = {}
_ROOM_IDS_LIMIT = 10_000
# Lookups on their way, by slug: a room's peers join together (the top of the hour), and all
# of them wait for the one lookup instead of each making its own (issue #14).
_ROOM_ID_LOOKUPS: dict[str, asyncio.Future] = {}


async def room_id_for_slug(slug: str) -> int | None:
    """The id of the room with ``slug`` (None when there is none), from memory when known."""
    room_id = _ROOM_IDS.get(slug)
    if room_id is not None:
        return room_id
    lookup = _ROOM_ID_LOOKUPS.get(slug)
    if lookup is None:
        lookup = _ROOM_ID_LOOKUPS[slug] = asyncio.ensure_future(_room_id_lookup(slug))
        lookup.add_done_callback(lambda _done: _ROOM_ID_LOOKUPS.pop(slug, None))
    # Shielded: a socket that goes away while waiting does not cancel the others' lookup.
    return await asyncio.shield(lookup)


async def _room_id_lookup(slug: str) -> int | None:
    room_id = await database_sync_to_async(room_id_by_slug)(slug=slug)
    if room_id is not None:
        if len(_ROOM_IDS) >= _ROOM_IDS_LIMIT:
            _ROOM_IDS.clear()
        _ROOM_IDS[slug] = room_id
    return room_id


def _chat_store(*, room, user, text: str, peer_id: str):
    try:
        message = services.chat_message_create(room=room, user=user, text=text, peer_id=peer_id)
    except ValueError as exc:
        raise protocol.ProtocolError(wire.BAD_MESSAGE, str(exc), ref="chat") from exc
    message.user = user
    return message


def _moderate_peer(*, consumer_participant, peer_id: str, action: str, by, reason: str = ""):
    target = presence.participant_connected(room=consumer_participant.room, peer_id=peer_id)
    if target is None:
        raise protocol.ProtocolError(wire.UNKNOWN_PEER, _("No such peer in this room."), action)
    moderation.moderation_check_target(actor=consumer_participant, target=target)
    if action == "kick":
        moderation.participant_kick(participant=target, by=by, reason=reason)
    elif action == "ban":
        # The ban is on the user, so every socket they have in the room is removed with it.
        moderation.room_ban_user(room=target.room, user=target.user, by=by, reason=reason)
    else:
        moderation.participant_ask_mute(participant=target, by=by)
