"""The wire format, in one place: every close code, every error code, every server→client frame.

docs/protocol.md is the contract these implement. Client frames are parsed in
``signaling.protocol``; everything the server sends is built here, from facts (rows, users,
reasons), so no service and no layer event knows what a frame looks like.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from accounts.selectors import user_json
from rooms.access import FORBIDDEN, NOT_AUTHENTICATED, ROOM_LOCKED, ROOM_NOT_FOUND
from rooms.models import PEER_STATE_DEFAULT
from rooms.moderation import REFUSED_OWNER, REFUSED_SELF

if TYPE_CHECKING:
    from rooms.models import ChatMessage, LobbyKnock, Participant, Room

PROTOCOL_VERSION = 1

# --- close codes --------------------------------------------------------------------------------

CLOSE_LEFT = 1000
# A handler failed in a way the server did not foresee (the database went away, a bug): the
# participant is ended as lost and the socket closed with the standard "internal error", so the
# client resumes instead of lingering as a peer whose frames go nowhere.
CLOSE_SERVER_ERROR = 1011
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_ROOM_NOT_FOUND = 4404
# Added: the server ended this socket's presence (not seen for too long); resume.
CLOSE_LOST = 4408
CLOSE_ROOM_FULL = 4409
CLOSE_KICKED = 4410
CLOSE_ROOM_ENDED = 4411
# A resumed peer's older socket, if the server still had it, is closed with this code; the
# client must not try to resume from it (the peer lives on in the newer socket).
CLOSE_REPLACED = 4412
# Added: the user already holds MAX_SOCKETS_PER_USER sockets in this room.
CLOSE_TOO_MANY_CONNECTIONS = 4413
# The code the consumer's ``disconnect`` sees when signaling.backpressure dropped a client that
# stopped reading. The client itself sees an aborted connection (1006 in browsers): it was not
# reading, so no close frame could reach it.
CLOSE_SEND_BACKLOG = 4414
# Added (issue #12): a host turned this knocker away from the lobby; final.
CLOSE_LOBBY_DENIED = 4416
# Added: nobody answered this knock within LOBBY_KNOCK_TIMEOUT_SECONDS; the knocker may knock again.
CLOSE_KNOCK_EXPIRED = 4417
CLOSE_ROOM_LOCKED = 4423
CLOSE_RATE_LIMITED = 4429
# The worker is stopping on purpose (a rolling restart): the client resumes at once, through the
# proxy, on another worker. autobahn lets an application close only with 1000 or 3000-4999, so
# the standard 1012 ("service restart") cannot be sent; 4503 mirrors HTTP's 503.
CLOSE_SERVICE_RESTART = 4503

# --- error codes --------------------------------------------------------------------------------

# Error codes of the contract (``too_large`` and ``rate_limited`` come from its rules). The
# admission refusals NOT_AUTHENTICATED, FORBIDDEN, ROOM_NOT_FOUND and ROOM_LOCKED are the access
# rule's own (``rooms.access``), shared with the room page and the TURN endpoint.
BAD_MESSAGE = "bad_message"
UNKNOWN_TYPE = "unknown_type"
UNKNOWN_PEER = "unknown_peer"
TOO_LARGE = "too_large"
RATE_LIMITED = "rate_limited"
ROOM_FULL = "room_full"
# Added: the user already holds MAX_SOCKETS_PER_USER sockets in this room.
TOO_MANY_CONNECTIONS = "too_many_connections"
# Added: a relay could not be queued because the target's queue is full.
BUSY = "busy"
# Added: a chat or state change was taken but the channel layer could not broadcast it (Redis
# unreachable); nobody received it, and the client may send it again.
NOT_DELIVERED = "not_delivered"
# Added (issue #12, the lobby): a host turned the knocker away; the knock timed out; an ``admit``
# or ``deny`` named a knock that is not waiting (decided by another host, or gone).
LOBBY_DENIED = "lobby_denied"
KNOCK_EXPIRED = "knock_expired"
UNKNOWN_KNOCK = "unknown_knock"
# Added: a knocker may only ping until it is let in.
IN_LOBBY = "in_lobby"
# Added (issue #11): an SFU request the server could not carry out (no SFU in this call, Janus
# unreachable or refusing); ``ref`` names the request.
SFU_UNAVAILABLE = "sfu_unavailable"

# The close code that follows each refusal of a socket's admission.
REFUSAL_CLOSE_CODES = {
    NOT_AUTHENTICATED: CLOSE_NOT_AUTHENTICATED,
    FORBIDDEN: CLOSE_FORBIDDEN,
    ROOM_NOT_FOUND: CLOSE_ROOM_NOT_FOUND,
    ROOM_LOCKED: CLOSE_ROOM_LOCKED,
    ROOM_FULL: CLOSE_ROOM_FULL,
    TOO_MANY_CONNECTIONS: CLOSE_TOO_MANY_CONNECTIONS,
    LOBBY_DENIED: CLOSE_LOBBY_DENIED,
    KNOCK_EXPIRED: CLOSE_KNOCK_EXPIRED,
}

# The error code for each reason ``rooms.moderation`` refuses an in-room moderation.
MODERATION_REFUSAL_CODES = {REFUSED_SELF: BAD_MESSAGE, REFUSED_OWNER: FORBIDDEN}


def refusal_close_code(refusal: str | None) -> int:
    """The close code after an admission ``refusal`` (a normal close when there is none)."""
    return REFUSAL_CLOSE_CODES[refusal] if refusal else CLOSE_LEFT


# --- encoding ------------------------------------------------------------------------------------


def encode_frame(frame: dict[str, Any]) -> str:
    """A frame as the text sent on the socket (orjson: UTF-8 as is, no spaces).

    A translatable message (a lazy string) is turned into text in the active language.
    """
    return orjson.dumps(frame, default=str).decode()


# --- pieces of frames ---------------------------------------------------------------------------


def timestamp_json(moment) -> str:
    """An aware datetime as the protocol writes it: ISO 8601 in UTC with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def peer_state_json(state: dict[str, bool] | None) -> dict[str, bool]:
    """A peer's full state: the stored keys over the defaults."""
    return {**PEER_STATE_DEFAULT, **(state or {})}


def peer_json(participant: Participant) -> dict[str, Any]:
    """A participant as the protocol's ``peers`` and ``peer-joined`` show it."""
    return {
        "peer_id": participant.peer_id,
        "user": user_json(participant.user),
        "role": participant.role,
        "state": peer_state_json(participant.state),
    }


def chat_json(message: ChatMessage) -> dict[str, Any]:
    """A stored chat message as the protocol's ``chat`` frame and ``welcome.chat`` show it."""
    return {
        "id": message.pk,
        "peer_id": message.peer_id,
        "user": user_json(message.user),
        "text": message.text,
        "sent_at": timestamp_json(message.created_at),
    }


def room_json(room: Room) -> dict[str, Any]:
    """The room as ``welcome.room`` shows it."""
    return {
        "slug": room.slug,
        "name": room.name,
        "locked": room.is_locked,
        "max_participants": room.max_participants,
    }


def knock_json(knock: LobbyKnock) -> dict[str, Any]:
    """A waiting knock as hosts see it: its id, who knocks, with which role, since when, and
    whether they were removed from the call a moment ago (``removed``)."""
    return {
        "id": knock.pk,
        "user": user_json(knock.user),
        "role": knock.role,
        "since": timestamp_json(knock.created_at),
        "removed": knock.after_kick,
    }


# --- server → client frames ---------------------------------------------------------------------


def welcome_frame(
    *,
    me: Participant,
    resumed: bool,
    resume_token: str,
    room: Room,
    peers: list[dict[str, Any]],
    chat: list[dict[str, Any]],
    lobby: list[dict[str, Any]] | None = None,
    media: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The first frame of an admitted socket: who it is, the room, who is there, recent chat.

    ``lobby`` (hosts only) lists the knocks waiting now, as ``knock_json`` shows them.
    ``media`` says how the call carries media (``media_json``).
    """
    frame = {
        "type": "welcome",
        "protocol": PROTOCOL_VERSION,
        "resumed": resumed,
        "self": {**peer_json(me), "resume_token": resume_token},
        "room": room_json(room),
        "peers": peers,
        "chat": chat,
        "media": media or media_json(mode="mesh"),
    }
    if lobby is not None:
        frame["lobby"] = lobby
    return frame


def media_json(*, mode: str, kept: bool = False) -> dict[str, Any]:
    """How the call carries media: ``mesh`` or ``sfu``, and how many videos an SFU peer gets.

    ``kept`` (a resumed socket in an SFU call): the server kept this peer's Janus handles for
    the new socket, so the browser's connections to the SFU carry on as they are.
    """
    frame: dict[str, Any] = {"mode": mode, "last_n": settings.SFU_LAST_N}
    if kept:
        frame["kept"] = True
    return frame


def media_mode_frame(*, mode: str) -> dict[str, Any]:
    """To everyone in a call: it moves to ``mode`` (make-before-break, docs/protocol.md)."""
    return {"type": "media-mode", "media": media_json(mode=mode)}


# --- SFU mode (issue #11) ----------------------------------------------------------------------
# What the server tells a browser about its Janus handles. Feeds and streams are named by peer id
# and feed kind (camera or screen); no Janus id ever reaches a browser.

SFU_STATUSES = ("reset", "ready", "failed")


def sfu_feeds_frame(*, feeds: list[tuple[str, str]]) -> dict[str, Any]:
    """The others' feeds published in the call now, as ``(peer_id, feed)``."""
    return {
        "type": "sfu-feeds",
        "feeds": [{"peer_id": peer_id, "feed": feed} for peer_id, feed in feeds],
    }


def sfu_answer_frame(*, feed: str, sdp: str) -> dict[str, Any]:
    """Janus's answer to the browser's offer for its camera or screen feed."""
    return {"type": "sfu-answer", "feed": feed, "sdp": sdp}


def sfu_stream_json(*, mid: str, peer_id: str, feed: str, kind: str) -> dict[str, Any]:
    """What one ``mid`` of the subscriber connection carries."""
    return {"mid": mid, "peer_id": peer_id, "feed": feed, "kind": kind}


def sfu_offer_frame(*, sdp: str | None, streams: list[dict[str, Any]]) -> dict[str, Any]:
    """Janus's offer for the subscriber connection (``sdp`` None: nothing to renegotiate), and
    what each of its streams carries (``sfu_stream_json``)."""
    return {"type": "sfu-offer", "sdp": sdp, "streams": streams}


def sfu_trickle_frame(*, target: str, candidate: dict[str, Any] | None) -> dict[str, Any]:
    """One of Janus's ICE candidates for the browser's connection ``target`` (None: no more)."""
    if candidate is not None:
        candidate = {
            "candidate": candidate.get("candidate", ""),
            "sdpMid": candidate.get("sdpMid"),
            "sdpMLineIndex": candidate.get("sdpMLineIndex"),
        }
    return {"type": "sfu-trickle", "target": target, "candidate": candidate}


def sfu_talking_frame(*, peer_id: str, talking: bool) -> dict[str, Any]:
    """Janus heard ``peer_id`` start (or stop) talking."""
    return {"type": "sfu-talking", "peer_id": peer_id, "talking": talking}


def sfu_status_frame(*, status: str) -> dict[str, Any]:
    """The server's hold on Janus for this browser: ``reset`` (Janus went away: every connection
    to it is dead), ``ready`` (joined again: publish again) or ``failed`` (gave up)."""
    if status not in SFU_STATUSES:
        raise ValueError(f"unknown SFU status {status!r}")
    return {"type": f"sfu-{status}"}


def lobby_frame(*, hosts_present: bool, timeout_seconds: int) -> dict[str, Any]:
    """To a knocker: it waits in the lobby; whether a host is in the call to let it in."""
    return {
        "type": "lobby",
        "status": "waiting",
        "hosts_present": hosts_present,
        "timeout_seconds": timeout_seconds,
    }


def knock_frame(*, knock: dict[str, Any]) -> dict[str, Any]:
    """To hosts: someone knocks (``knock_json``)."""
    return {"type": "knock", "knock": knock}


def knock_ended_frame(
    *, knock_id: int, status: str, by: dict[str, Any] | None = None
) -> dict[str, Any]:
    """To hosts: a knock stopped waiting (admitted, denied, expired or left)."""
    frame: dict[str, Any] = {"type": "knock-ended", "id": knock_id, "status": status}
    if by is not None:
        frame["by"] = by
    return frame


def peer_joined_frame(*, peer: dict[str, Any], resumed: bool) -> dict[str, Any]:
    """A peer came in (``resumed``: came back within the resume window)."""
    frame: dict[str, Any] = {"type": "peer-joined", "peer": peer}
    if resumed:
        frame["resumed"] = True
    return frame


def peer_left_frame(*, peer_id: str, reason: str) -> dict[str, Any]:
    """A peer went: ``left``, ``kicked`` or ``connection-lost``."""
    return {"type": "peer-left", "peer_id": peer_id, "reason": reason}


def relay_frame(*, kind: str, sender: str, fields: dict[str, Any]) -> dict[str, Any]:
    """An ``sdp`` or ``ice`` frame passed on, stamped with the sender's peer id."""
    return {"type": kind, "from": sender, **fields}


def chat_frame(*, message: dict[str, Any]) -> dict[str, Any]:
    """A chat message (as ``chat_json`` shows it) to everyone in the room."""
    return {"type": "chat", **message}


def reaction_frame(*, peer_id: str, emoji: str) -> dict[str, Any]:
    """A peer reacted with ``emoji`` (one of ``protocol.REACTION_EMOJI``); not stored."""
    return {"type": "reaction", "peer_id": peer_id, "emoji": emoji}


def state_frame(*, peer_id: str, state: dict[str, bool]) -> dict[str, Any]:
    """A peer's full state after a change."""
    return {"type": "state", "peer_id": peer_id, "state": state}


def role_frame(*, peer_id: str, role: str) -> dict[str, Any]:
    """A peer's new role."""
    return {"type": "role", "peer_id": peer_id, "role": role}


def room_frame(*, locked: bool) -> dict[str, Any]:
    """The room's lock changed."""
    return {"type": "room", "locked": locked}


def kicked_frame(*, by: dict[str, Any] | None, reason: str, banned: bool) -> dict[str, Any]:
    """To the removed peer, before ``CLOSE_KICKED``; ``banned`` when the removal is a ban."""
    frame: dict[str, Any] = {"type": "kicked", "by": by}
    if reason:
        frame["reason"] = reason
    if banned:
        frame["banned"] = True
    return frame


def mute_request_frame(*, by: dict[str, Any] | None) -> dict[str, Any]:
    """A moderator asks this peer to turn its microphone off."""
    return {"type": "mute-request", "by": by}


def room_ended_frame(*, by: dict[str, Any] | None) -> dict[str, Any]:
    """The call was ended for everyone, before ``CLOSE_ROOM_ENDED``."""
    return {"type": "room-ended", "by": by}


def error_frame(*, code: str, message: str, ref: str | None = None) -> dict[str, Any]:
    """What a client did wrong, or why it was refused (``ref``: the message type concerned)."""
    # str(): a message may be a lazy translation, rendered in the active language here.
    frame: dict[str, Any] = {"type": "error", "code": code, "message": str(message)}
    if ref is not None:
        frame["ref"] = ref
    return frame


def pong_frame() -> dict[str, Any]:
    """The answer to ``ping``."""
    return {"type": "pong"}
