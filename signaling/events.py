"""What travels on the channel layer between server processes, and how to send it.

Every event has the one type ``signal.deliver``, handled by ``RoomConsumer.signal_deliver``:
``frame`` is sent to the client as is (unless the receiving peer is ``exclude``), ``join`` and
``leave`` update the receiving consumer's roster of the room (peer id to channel name, which is
how relays find their target without a database query), ``roles`` gives peers a new role (the
consumer of that peer checks moderation rights against it), and ``close`` closes the socket with
that code after the frame. Services call the synchronous helpers; the consumer awaits the layer
itself.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

try:
    from redis.exceptions import RedisError
except ImportError:  # pragma: no cover - channels-redis (and so redis) is a dependency
    RedisError = ChannelFull

# A send that fails for one of these is a busy or unreachable layer, not a bug: the caller
# answers ``busy`` (a relay) or logs it (a service), and the socket lives on.
LAYER_BUSY_ERRORS: tuple[type[Exception], ...] = (ChannelFull, RedisError)

EVENT_TYPE = "signal.deliver"


def room_group(room_id: int) -> str:
    """The channel-layer group every consumer of a room joins."""
    return f"room.{room_id}"


def deliver_event(
    frame: dict[str, Any] | None = None,
    *,
    exclude: str | None = None,
    close: int | None = None,
    join: dict[str, str] | None = None,
    leave: str | None = None,
    roles: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Build one ``signal.deliver`` event; see the module docstring for the fields."""
    event: dict[str, Any] = {"type": EVENT_TYPE}
    if frame is not None:
        event["frame"] = frame
    if exclude is not None:
        event["exclude"] = exclude
    if close is not None:
        event["close"] = close
    if join is not None:
        event["join"] = join
    if leave is not None:
        event["leave"] = leave
    if roles is not None:
        event["roles"] = roles
    return event


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
        logger.warning("Could not send %s to %s", event.get("frame", {}).get("type"), channel_name)
        return False
    return True
