"""The signaling socket ``/ws/rooms/<slug>/``: transport only.

Connect admits through ``signaling.admission``; each frame is checked by the flood guard, parsed
by ``signaling.protocol`` and dispatched through an explicit allow-list of handlers; the rules
live in the presence and moderation services. See docs/protocol.md for the contract.

Relays find their target without the database: the consumer keeps ``roster``, peer id to channel
name for its room, filled from the database once at admission and then kept current by the
``join``/``leave`` fields of the room group's events. An ``sdp`` or ``ice`` frame is one dict
lookup and one ``channel_layer.send`` to that channel, whatever the room's size.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from rooms import moderation
from rooms.services import chat_message_create
from signaling import presence, protocol
from signaling.admission import chat_json, room_by_slug, socket_admit
from signaling.events import LAYER_BUSY_ERRORS, deliver_event, room_group
from signaling.ratelimit import ALLOW, DISCONNECT, FloodGuard

logger = logging.getLogger(__name__)

CLOSE_RATE_LIMITED = 4429
# A resumed peer's older socket, if the server still had it, is closed with this code; the
# client must not try to resume from it (the peer lives on in the newer socket).
CLOSE_REPLACED = 4412
CLOSE_LEFT = 1000


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """One participant's signaling socket in one room."""

    participant = None
    room = None
    peer_id: str | None = None
    group_name = ""
    role: str = ""
    closing = False

    # --- lifecycle ------------------------------------------------------------------------------

    async def connect(self) -> None:
        self.roster: dict[str, str] = {}
        self.flood_guard = FloodGuard()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        slug = self.scope["url_route"]["kwargs"]["slug"]
        room = await database_sync_to_async(room_by_slug)(slug=slug)
        if room is not None:
            self.group_name = room_group(room.pk)
            await self.channel_layer.group_add(self.group_name, self.channel_name)
        admission = await database_sync_to_async(socket_admit)(
            user=self.scope.get("user"),
            room=room,
            channel_name=self.channel_name,
            invite_token=(query.get("invite") or [None])[0],
            resume_token=(query.get("resume") or [None])[0],
        )
        await self.accept()
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
        presence.presence_keeper().add(self.participant.pk, self.channel_name)
        await self.send_json(admission.welcome)

        peer = dict(admission.welcome["self"])
        peer.pop("resume_token")
        announced = {"peer_id": peer["peer_id"], "user": peer["user"], "role": peer["role"]}
        announced["state"] = peer["state"]
        frame: dict[str, Any] = {"type": "peer-joined", "peer": announced}
        if join.resumed:
            frame["resumed"] = True
        await self.channel_layer.group_send(
            self.group_name,
            deliver_event(frame, exclude=self.peer_id, join={self.peer_id: self.channel_name}),
        )
        if join.replaced_channel:
            await self.channel_layer.send(
                join.replaced_channel, deliver_event(close=CLOSE_REPLACED)
            )

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)
        if self.participant is None:
            return
        presence.presence_keeper().discard(self.participant.pk)
        ended = await database_sync_to_async(presence.participant_leave)(
            participant_id=self.participant.pk, reason=presence.REASON_CONNECTION_LOST
        )
        if ended:
            await self._announce_left(presence.REASON_CONNECTION_LOST)

    # --- frames from the client -----------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.participant is None or self.closing:
            return
        verdict = self.flood_guard.check()
        if verdict != ALLOW:
            await self._send_error(protocol.RATE_LIMITED, "Slow down: too many messages.")
            if verdict == DISCONNECT:
                await self._close(CLOSE_RATE_LIMITED)
            return
        try:
            if text_data is None:
                raise protocol.ProtocolError(
                    protocol.BAD_MESSAGE, "Frames must be JSON text, not binary."
                )
            message = protocol.parse_frame(text_data)
            handler = self.HANDLERS[message.type]
            if message.type in protocol.MODERATION_TYPES and not moderation.can_moderate(
                role=self.role
            ):
                raise protocol.ProtocolError(
                    protocol.FORBIDDEN,
                    "Only the room's owner and moderators can do this.",
                    ref=message.type,
                )
            await handler(self, message.fields)
        except protocol.ProtocolError as error:
            await self.send_json(error.as_frame())
        except moderation.ModerationRefused as refused:
            await self._send_error(refused.code, refused.message, ref=message.type)

    async def handle_relay(self, kind: str, fields: dict[str, Any]) -> None:
        target = fields.pop("to")
        channel = self.roster.get(target)
        if target == self.peer_id or channel is None:
            raise protocol.ProtocolError(
                protocol.UNKNOWN_PEER, "No such peer in this room.", ref=kind
            )
        frame = {"type": kind, "from": self.peer_id, **fields}
        try:
            await self.channel_layer.send(channel, deliver_event(frame))
        except LAYER_BUSY_ERRORS as full:
            # The target's queue (its whole process's, with Redis) is full: tell the sender
            # rather than fail its socket; it may retry, and ICE restarts recover lost frames.
            raise protocol.ProtocolError(
                protocol.BUSY, "The server is too busy to deliver this now.", ref=kind
            ) from full

    async def handle_sdp(self, fields: dict[str, Any]) -> None:
        await self.handle_relay("sdp", fields)

    async def handle_ice(self, fields: dict[str, Any]) -> None:
        await self.handle_relay("ice", fields)

    async def handle_chat(self, fields: dict[str, Any]) -> None:
        frame = await database_sync_to_async(_chat_store)(
            room=self.room, user=self.scope["user"], text=fields["text"], peer_id=self.peer_id
        )
        await self.channel_layer.group_send(self.group_name, deliver_event(frame))

    async def handle_state(self, fields: dict[str, Any]) -> None:
        state = await database_sync_to_async(presence.participant_state_update)(
            participant_id=self.participant.pk, state=fields["state"]
        )
        frame = {"type": "state", "peer_id": self.peer_id, "state": state}
        await self.channel_layer.group_send(
            self.group_name, deliver_event(frame, exclude=self.peer_id)
        )

    async def handle_kick(self, fields: dict[str, Any]) -> None:
        await database_sync_to_async(_moderate_peer)(
            consumer_participant=self.participant,
            peer_id=fields["peer_id"],
            action="kick",
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

    async def handle_ping(self, fields: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def handle_leave(self, fields: dict[str, Any]) -> None:
        ended = await database_sync_to_async(presence.participant_leave)(
            participant_id=self.participant.pk, reason=presence.REASON_LEFT
        )
        if ended:
            await self._announce_left(presence.REASON_LEFT)
        await self._close(CLOSE_LEFT)

    HANDLERS = {
        "sdp": handle_sdp,
        "ice": handle_ice,
        "chat": handle_chat,
        "state": handle_state,
        "kick": handle_kick,
        "mute": handle_mute,
        "lock": handle_lock,
        "end": handle_end,
        "ping": handle_ping,
        "leave": handle_leave,
    }

    # --- events from the channel layer ----------------------------------------------------------

    async def signal_deliver(self, event: dict[str, Any]) -> None:
        """Handle a ``signal.deliver`` event: roster updates, a frame, maybe a close."""
        if self.closing or self.peer_id is None:
            return
        frame = event.get("frame")
        joined = event.get("join")
        if joined:
            for peer_id, channel in joined.items():
                if peer_id == self.peer_id:
                    continue
                already_known = self.roster.get(peer_id) == channel
                self.roster[peer_id] = channel
                # A peer seen both in the welcome roster and in its own announcement (they
                # joined at the same moment) is announced to the client only once.
                if already_known and frame and frame.get("type") == "peer-joined":
                    frame = None
        left = event.get("leave")
        if left:
            self.roster.pop(left, None)
        new_role = (event.get("roles") or {}).get(self.peer_id)
        if new_role:
            self.role = self.participant.role = new_role
        if event.get("exclude") == self.peer_id:
            return
        if frame is not None:
            await self.send_json(frame)
        if event.get("close"):
            await self._close(event["close"])

    # --- helpers --------------------------------------------------------------------------------

    async def _announce_left(self, reason: str) -> None:
        frame = {"type": "peer-left", "peer_id": self.peer_id, "reason": reason}
        await self.channel_layer.group_send(
            self.group_name, deliver_event(frame, exclude=self.peer_id, leave=self.peer_id)
        )

    async def _send_error(self, code: str, message: str, ref: str | None = None) -> None:
        await self.send_json(protocol.ProtocolError(code, message, ref).as_frame())

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


def _chat_store(*, room, user, text: str, peer_id: str) -> dict[str, Any]:
    try:
        message = chat_message_create(room=room, user=user, text=text, peer_id=peer_id)
    except ValueError as exc:
        raise protocol.ProtocolError(protocol.BAD_MESSAGE, str(exc), ref="chat") from exc
    message.user = user
    return {"type": "chat", **chat_json(message)}


def _moderate_peer(*, consumer_participant, peer_id: str, action: str, by, reason: str = ""):
    target = presence.participant_connected(room=consumer_participant.room, peer_id=peer_id)
    if target is None:
        raise protocol.ProtocolError(protocol.UNKNOWN_PEER, "No such peer in this room.", action)
    moderation.moderation_check_target(actor=consumer_participant, target=target)
    if action == "kick":
        moderation.participant_kick(participant=target, by=by, reason=reason)
    else:
        moderation.participant_ask_mute(participant=target, by=by)
