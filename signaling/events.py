"""What travels on the channel layer between server processes, and how to send it.

The layer carries facts, not frames (as the Channels docs advise): each event is a high-level
type such as ``participant.kicked`` or ``room.locked`` with the data of what happened, handled
by the consumer method of the same name (``RoomConsumer.participant_kicked``). ``delivery_for``
turns an event into what the receiving socket does, building the frame with ``signaling.wire``:

- ``frame``: sent to the client as is, unless the receiving peer is ``exclude``;
- ``join`` and ``leave``: update the receiving consumer's roster of the room (peer id to
  channel name, which is how relays find their target without a database query);
- ``roles``: peers' new roles (the consumer of that peer checks moderation rights against it);
- ``close``: close the socket with that code after the frame;
- ``hosts_only``: only the owner's and moderators' sockets send the frame (lobby knocks).

A knocker's socket (in the lobby, not yet in the call) handles its own events: ``lobby.decided``
when a host admits or denies it; the room's events tell it only whether a host is present.

``LayerCallNotifier`` is ``rooms.live``'s ``CallNotifier``: it turns what the rooms services
decided (a kick, a lock, an ended call) into these events. Services call the synchronous
helpers; the consumer awaits the layer itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from accounts.selectors import user_json
from rooms.models import REASON_KICKED
from signaling import metrics, wire

if TYPE_CHECKING:
    from rooms.models import LobbyKnock, Participant, Room

logger = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - channels-redis (and so redis) is a dependency
    RedisError = ChannelFull

# A send that fails for one of these is a busy or unreachable layer, not a bug: the caller
# answers ``busy`` (a relay) or logs it (a service), and the socket lives on.
LAYER_BUSY_ERRORS: tuple[type[Exception], ...] = (ChannelFull, RedisError)


def room_group(room_id: int) -> str:
    """The channel-layer group every consumer of a room joins."""
    return f"room.{room_id}"


# --- the events ---------------------------------------------------------------------------------


def peer_joined_event(*, peer: dict[str, Any], resumed: bool, channel: str) -> dict[str, Any]:
    """A peer (``wire.peer_json``) was admitted on ``channel``; to the room."""
    return {"type": "peer.joined", "peer": peer, "resumed": resumed, "channel": channel}


def peer_left_event(*, peer_id: str, reason: str) -> dict[str, Any]:
    """A peer's row ended (``reason`` as ``peer-left`` says it); to the room."""
    return {"type": "peer.left", "peer_id": peer_id, "reason": reason}


def peer_state_event(*, peer_id: str, state: dict[str, bool]) -> dict[str, Any]:
    """A peer's full state after a change; to the room."""
    return {"type": "peer.state", "peer_id": peer_id, "state": state}


def peer_signal_event(*, kind: str, sender: str, fields: dict[str, Any]) -> dict[str, Any]:
    """An ``sdp`` or ``ice`` message from ``sender``; to the target's channel.

    The frame travels already encoded (``text``): the receiving socket sends it as it is, so a
    relay is encoded once, by the sender's process, and the layer carries one string.
    """
    frame = wire.relay_frame(kind=kind, sender=sender, fields=fields)
    return {"type": "peer.signal", "text": wire.encode_frame(frame)}


def chat_message_event(*, message: dict[str, Any]) -> dict[str, Any]:
    """A stored chat message (``wire.chat_json``); to the room."""
    return {"type": "chat.message", "message": message}


def peer_reaction_event(*, peer_id: str, emoji: str) -> dict[str, Any]:
    """A peer reacted with an emoji; to the room, the sender included."""
    return {"type": "peer.reaction", "peer_id": peer_id, "emoji": emoji}


def participant_kicked_event(
    *, by: dict[str, Any] | None, reason: str, banned: bool
) -> dict[str, Any]:
    """The receiving participant was removed (``by`` is ``user_json``); to its channel."""
    return {"type": "participant.kicked", "by": by, "reason": reason, "banned": banned}


def participant_mute_requested_event(*, by: dict[str, Any] | None) -> dict[str, Any]:
    """A moderator asks the receiving participant to mute; to its channel."""
    return {"type": "participant.mute_requested", "by": by}


def participant_role_changed_event(*, peer_id: str, role: str) -> dict[str, Any]:
    """A peer has a new role; to the room."""
    return {"type": "participant.role_changed", "peer_id": peer_id, "role": role}


def room_locked_event(*, locked: bool) -> dict[str, Any]:
    """The room's lock changed; to the room."""
    return {"type": "room.locked", "locked": locked}


def call_media_changed_event(*, media) -> dict[str, Any]:
    """The call moved to the SFU (``media_mode.CallMedia``); to the room.

    Each consumer joins the VideoRoom for its peer, so the event carries where it is; it
    travels only between meet's processes, never to a browser.
    """
    return {
        "type": "call.media_changed",
        "mode": media.mode,
        "node": media.node,
        "room": media.room,
        "secret": media.secret,
    }


def call_ended_event(*, by: dict[str, Any] | None) -> dict[str, Any]:
    """The call was ended for everyone; to the room."""
    return {"type": "call.ended", "by": by}


def knock_added_event(*, knock: dict[str, Any]) -> dict[str, Any]:
    """Someone knocks (``wire.knock_json``); to the room, shown to hosts only."""
    return {"type": "lobby.knocked", "knock": knock}


def knock_ended_event(
    *, knock_id: int, status: str, by: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A knock stopped waiting; to the room, shown to hosts only."""
    return {"type": "lobby.knock_ended", "knock_id": knock_id, "status": status, "by": by}


def knock_decided_event(*, status: str, by: dict[str, Any] | None) -> dict[str, Any]:
    """A host admitted or denied the receiving knocker; to its channel."""
    return {"type": "lobby.decided", "status": status, "by": by}


def socket_replaced_event() -> dict[str, Any]:
    """The receiving socket's peer resumed on a newer socket; to the old one's channel."""
    return {"type": "socket.replaced"}


def socket_lost_event() -> dict[str, Any]:
    """The receiving socket's row was swept behind its back; to its channel."""
    return {"type": "socket.lost"}


# --- what each event makes the receiving socket do ----------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What one event asks of the consumer that receives it (see the module docstring)."""

    frame: dict[str, Any] | None = None
    exclude: str | None = None
    close: int | None = None
    join: dict[str, str] | None = None
    leave: str | None = None
    roles: dict[str, str] | None = None
    hosts_only: bool = False


def _peer_joined(event: dict[str, Any]) -> Delivery:
    peer_id = event["peer"]["peer_id"]
    return Delivery(
        frame=wire.peer_joined_frame(peer=event["peer"], resumed=event["resumed"]),
        exclude=peer_id,
        join={peer_id: event["channel"]},
    )


def _peer_left(event: dict[str, Any]) -> Delivery:
    peer_id = event["peer_id"]
    frame = wire.peer_left_frame(peer_id=peer_id, reason=event["reason"])
    return Delivery(frame=frame, exclude=peer_id, leave=peer_id)


def _peer_state(event: dict[str, Any]) -> Delivery:
    frame = wire.state_frame(peer_id=event["peer_id"], state=event["state"])
    return Delivery(frame=frame, exclude=event["peer_id"])


def _peer_signal(event: dict[str, Any]) -> Delivery:
    # The consumer sends ``text`` directly; this general form is for anything else that reads
    # events (tests, tools).
    return Delivery(frame=orjson.loads(event["text"]))


def _chat_message(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.chat_frame(message=event["message"]))


def _peer_reaction(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.reaction_frame(peer_id=event["peer_id"], emoji=event["emoji"]))


def _participant_kicked(event: dict[str, Any]) -> Delivery:
    frame = wire.kicked_frame(by=event["by"], reason=event["reason"], banned=event["banned"])
    return Delivery(frame=frame, close=wire.CLOSE_KICKED)


def _participant_mute_requested(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.mute_request_frame(by=event["by"]))


def _participant_role_changed(event: dict[str, Any]) -> Delivery:
    peer_id, role = event["peer_id"], event["role"]
    return Delivery(frame=wire.role_frame(peer_id=peer_id, role=role), roles={peer_id: role})


def _room_locked(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.room_frame(locked=event["locked"]))


def _call_ended(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.room_ended_frame(by=event["by"]), close=wire.CLOSE_ROOM_ENDED)


def _knock_added(event: dict[str, Any]) -> Delivery:
    return Delivery(frame=wire.knock_frame(knock=event["knock"]), hosts_only=True)


def _knock_ended(event: dict[str, Any]) -> Delivery:
    frame = wire.knock_ended_frame(
        knock_id=event["knock_id"], status=event["status"], by=event["by"]
    )
    return Delivery(frame=frame, hosts_only=True)


def _socket_replaced(event: dict[str, Any]) -> Delivery:
    return Delivery(close=wire.CLOSE_REPLACED)


def _socket_lost(event: dict[str, Any]) -> Delivery:
    return Delivery(close=wire.CLOSE_LOST)


DELIVERIES: dict[str, Callable[[dict[str, Any]], Delivery]] = {
    "peer.joined": _peer_joined,
    "peer.left": _peer_left,
    "peer.state": _peer_state,
    "peer.signal": _peer_signal,
    "chat.message": _chat_message,
    "peer.reaction": _peer_reaction,
    "participant.kicked": _participant_kicked,
    "participant.mute_requested": _participant_mute_requested,
    "participant.role_changed": _participant_role_changed,
    "room.locked": _room_locked,
    "call.ended": _call_ended,
    "lobby.knocked": _knock_added,
    "lobby.knock_ended": _knock_ended,
    "socket.replaced": _socket_replaced,
    "socket.lost": _socket_lost,
}


def delivery_for(event: dict[str, Any]) -> Delivery:
    """What the socket receiving ``event`` does: the frame it sends, roster changes, a close."""
    return DELIVERIES[event["type"]](event)


# --- sending from synchronous code --------------------------------------------------------------


def send_to_room(room_id: int, event: dict[str, Any]) -> None:
    """Send ``event`` to every consumer of the room, in every process (synchronous callers)."""
    async_to_sync(get_channel_layer().group_send)(room_group(room_id), event)


def send_to_channel(channel_name: str, event: dict[str, Any]) -> bool:
    """Send ``event`` to one consumer by its channel name, in whichever process holds it.

    Returns False when the channel's queue is full (that process is far behind); the caller's
    database change stands and the sweep or the socket's own close finishes the job.
    """
    if not channel_name:
        return False
    try:
        async_to_sync(get_channel_layer().send)(channel_name, event)
    except LAYER_BUSY_ERRORS:
        metrics.LAYER_ERRORS.inc()
        logger.warning("Could not send %s to %s", event["type"], channel_name)
        return False
    return True


class LayerCallNotifier:
    """``rooms.live.CallNotifier`` over the channel layer; registered in SignalingConfig.ready()."""

    def participant_kicked(
        self, *, participant: Participant, by, reason: str, banned: bool, ended: bool
    ) -> None:
        event = participant_kicked_event(by=user_json(by), reason=reason, banned=banned)
        send_to_channel(participant.channel_name, event)
        if ended:
            left = peer_left_event(peer_id=participant.peer_id, reason=REASON_KICKED)
            send_to_room(participant.room_id, left)

    def participant_mute_requested(self, *, participant: Participant, by) -> None:
        event = participant_mute_requested_event(by=user_json(by))
        send_to_channel(participant.channel_name, event)

    def room_locked(self, *, room: Room) -> None:
        send_to_room(room.pk, room_locked_event(locked=room.is_locked))

    def call_ended(self, *, room: Room, by) -> None:
        send_to_room(room.pk, call_ended_event(by=user_json(by)))

    def role_changed(self, *, participant: Participant) -> None:
        event = participant_role_changed_event(peer_id=participant.peer_id, role=participant.role)
        send_to_room(participant.room_id, event)

    def knock_added(self, *, knock: LobbyKnock) -> None:
        send_to_room(knock.room_id, knock_added_event(knock=wire.knock_json(knock)))

    def knock_ended(self, *, knock: LobbyKnock, status: str, by=None) -> None:
        by_json = user_json(by) if by is not None else None
        send_to_room(knock.room_id, knock_ended_event(knock_id=knock.pk, status=status, by=by_json))
        if status in ("admitted", "denied"):
            send_to_channel(knock.channel_name, knock_decided_event(status=status, by=by_json))
