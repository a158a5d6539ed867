"""The signaling wire protocol: parse and validate one client frame, pure and without I/O.

``parse_frame`` turns the text of one WebSocket frame into a ``ClientMessage`` holding only the
validated fields, rebuilt from scratch, so nothing a client adds (a spoofed ``from``, a stray
``peer_id``) can travel further. Anything wrong raises ``ProtocolError`` with the protocol's error
code (``signaling.wire`` lists them all); the consumer answers it with an ``error`` frame and
keeps the connection open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from rooms.models import CHAT_TEXT_MAX_LENGTH, REACTION_EMOJI
from signaling.wire import BAD_MESSAGE, TOO_LARGE, UNKNOWN_TYPE, error_frame

MAX_FRAME_BYTES = 64 * 1024
MAX_PEER_ID_LENGTH = 64
MAX_SDP_LENGTH = MAX_FRAME_BYTES
MAX_CANDIDATE_LENGTH = 1024
MAX_SDP_MID_LENGTH = 256
MAX_REASON_LENGTH = 200

SDP_TYPES = frozenset({"offer", "answer", "pranswer", "rollback"})
STATE_KEYS = ("audio", "video", "screen", "hand")
# ``ban`` is added: a kick that also bans the user from the room (docs/protocol.md).
# ``admit`` and ``deny`` are added for the lobby (issue #12): hosts decide on knocks.
MODERATION_TYPES = frozenset({"kick", "mute", "lock", "end", "ban", "admit", "deny"})
# Added: a ``reaction`` carries one of ``REACTION_EMOJI`` (rooms.models, which the page's
# configuration also offers), so nothing else floats on a tile.
CLIENT_TYPES = frozenset(
    {
        "sdp",
        "ice",
        "chat",
        "state",
        "kick",
        "mute",
        "lock",
        "end",
        "ping",
        "leave",
        "ban",
        "reaction",
        "admit",
        "deny",
        # SFU mode (issue #11): the browser's requests for its own Janus handles.
        "sfu-publish",
        "sfu-unpublish",
        "sfu-subscribe",
        "sfu-start",
        "sfu-trickle",
        "sfu-configure",
    }
)
SFU_FEEDS = ("camera", "screen")
SFU_TARGETS = ("camera", "screen", "subscriber")
# More feeds than any room can hold (SFU_MAX_PUBLISHERS is far below): a list past this is junk.
MAX_SFU_FEEDS = 128


class ProtocolError(Exception):
    """A client sent something the protocol does not allow; answered with an ``error`` frame."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref

    def as_frame(self) -> dict[str, Any]:
        """The ``error`` frame that tells the client what it did wrong."""
        return error_frame(code=self.code, message=self.message, ref=self.ref)


@dataclass(frozen=True)
class ClientMessage:
    """One validated client message: its ``type`` and only the fields that type allows."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)


def decode_json(text: str | bytes) -> Any:
    """Decode one frame's JSON strictly, or raise ``ProtocolError`` (``bad_message``).

    orjson is strict already: ``NaN`` and ``Infinity`` (not JSON; relaying them would break
    ``JSON.parse`` in every browser), nesting deeper than 1,024, lone surrogates and integers
    beyond 64 bits are all refused.
    """
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, RecursionError, UnicodeDecodeError) as exc:
        raise ProtocolError(BAD_MESSAGE, "The frame is not valid JSON.") from exc


def frame_size(text: str) -> int:
    """The frame's size in bytes as it travelled, UTF-8 encoded."""
    return len(text.encode("utf-8", errors="surrogatepass"))


def frame_too_large(text: str) -> bool:
    """Whether ``text`` is over ``MAX_FRAME_BYTES`` in UTF-8, encoding it only when unsure.

    A character takes 1 to 4 bytes, so most frames are decided by their length alone; the
    relay path is spared an encode of every SDP.
    """
    length = len(text)
    if length * 4 <= MAX_FRAME_BYTES:
        return False
    if length > MAX_FRAME_BYTES:
        return True
    return frame_size(text) > MAX_FRAME_BYTES


def parse_frame(text: str) -> ClientMessage:
    """Parse and validate the text of one client frame.

    Raises ``ProtocolError`` with ``too_large`` for frames over 64 KiB, ``bad_message`` for
    anything that is not a JSON object with a string ``type`` or has a wrong field, and
    ``unknown_type`` for a type the protocol does not define.
    """
    if not isinstance(text, str):
        raise ProtocolError(BAD_MESSAGE, "Frames must be JSON text, not binary.")
    if frame_too_large(text):
        raise ProtocolError(TOO_LARGE, f"Frames may be at most {MAX_FRAME_BYTES} bytes.")
    return validate_message(decode_json(text))


def validate_message(data: Any) -> ClientMessage:
    """Validate an already decoded frame; see ``parse_frame``."""
    if not isinstance(data, dict):
        raise ProtocolError(BAD_MESSAGE, "A frame must be a JSON object.")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(BAD_MESSAGE, "A frame needs a string field 'type'.")
    if kind not in CLIENT_TYPES:
        raise ProtocolError(UNKNOWN_TYPE, f"Unknown message type {kind[:40]!r}.", ref=kind[:40])
    return ClientMessage(type=kind, fields=_VALIDATORS[kind](data))


# --- field checks -------------------------------------------------------------------------------


def _bad(kind: str, message: str) -> ProtocolError:
    return ProtocolError(BAD_MESSAGE, message, ref=kind)


def _string(data: dict, key: str, kind: str, *, max_length: int, min_length: int = 0) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise _bad(kind, f"'{key}' must be a string.")
    if not min_length <= len(value) <= max_length:
        raise _bad(kind, f"'{key}' must be {min_length} to {max_length} characters long.")
    return value


def _optional_string(data: dict, key: str, kind: str, *, max_length: int) -> str | None:
    if data.get(key) is None:
        return None
    return _string(data, key, kind, max_length=max_length)


def _peer_id(data: dict, key: str, kind: str) -> str:
    return _string(data, key, kind, max_length=MAX_PEER_ID_LENGTH, min_length=1)


def _boolean(data: dict, key: str, kind: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise _bad(kind, f"'{key}' must be true or false.")
    return value


def _optional_index(data: dict, key: str, kind: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    # bool is a subclass of int in Python but not a line index on the wire.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _bad(kind, f"'{key}' must be a small non-negative integer or null.")
    return value


# --- one validator per message type -------------------------------------------------------------


def _validate_sdp(data: dict) -> dict[str, Any]:
    description = data.get("description")
    if not isinstance(description, dict):
        raise _bad("sdp", "'description' must be an object with 'type' and 'sdp'.")
    sdp_type = description.get("type")
    if sdp_type not in SDP_TYPES:
        raise _bad("sdp", "'description.type' must be offer, answer, pranswer or rollback.")
    # A rollback carries no session description; every other type must.
    if sdp_type == "rollback" and description.get("sdp") in (None, ""):
        sdp = ""
    else:
        sdp = _string(description, "sdp", "sdp", max_length=MAX_SDP_LENGTH, min_length=1)
    return {"to": _peer_id(data, "to", "sdp"), "description": {"type": sdp_type, "sdp": sdp}}


def _candidate(data: dict, kind: str) -> dict[str, Any] | None:
    """The ``candidate`` field of an ``ice`` or ``sfu-trickle`` frame (null: end of candidates)."""
    if "candidate" not in data:
        raise _bad(kind, "'candidate' is required (an object, or null for end of candidates).")
    candidate = data["candidate"]
    if candidate is None:
        return None
    if not isinstance(candidate, dict):
        raise _bad(kind, "'candidate' must be an object or null.")
    return {
        "candidate": _string(candidate, "candidate", kind, max_length=MAX_CANDIDATE_LENGTH),
        "sdpMid": _optional_string(candidate, "sdpMid", kind, max_length=MAX_SDP_MID_LENGTH),
        "sdpMLineIndex": _optional_index(candidate, "sdpMLineIndex", kind),
        "usernameFragment": _optional_string(
            candidate, "usernameFragment", kind, max_length=MAX_SDP_MID_LENGTH
        ),
    }


def _validate_ice(data: dict) -> dict[str, Any]:
    to = _peer_id(data, "to", "ice")
    return {"to": to, "candidate": _candidate(data, "ice")}


def _validate_chat(data: dict) -> dict[str, Any]:
    text = data.get("text")
    if not isinstance(text, str):
        raise _bad("chat", "'text' must be a string.")
    text = text.strip()
    if not 1 <= len(text) <= CHAT_TEXT_MAX_LENGTH:
        # The one message here a person may meet (the page checks the length first); the
        # others speak to client authors and stay in English, like the error codes.
        message = _("Chat messages must be 1 to {limit} characters long.")
        raise _bad("chat", format_lazy(message, limit=CHAT_TEXT_MAX_LENGTH))
    return {"text": text}


def _validate_reaction(data: dict) -> dict[str, Any]:
    emoji = data.get("emoji")
    if emoji not in REACTION_EMOJI:
        raise _bad("reaction", f"'emoji' must be one of {' '.join(REACTION_EMOJI)}.")
    return {"emoji": emoji}


def _validate_state(data: dict) -> dict[str, Any]:
    state = {key: _boolean(data, key, "state") for key in STATE_KEYS if key in data}
    if not state:
        raise _bad("state", f"'state' needs at least one of {', '.join(STATE_KEYS)}.")
    return {"state": state}


def _validate_kick(data: dict) -> dict[str, Any]:
    reason = _optional_string(data, "reason", "kick", max_length=MAX_REASON_LENGTH)
    return {"peer_id": _peer_id(data, "peer_id", "kick"), "reason": reason or ""}


def _validate_ban(data: dict) -> dict[str, Any]:
    reason = _optional_string(data, "reason", "ban", max_length=MAX_REASON_LENGTH)
    return {"peer_id": _peer_id(data, "peer_id", "ban"), "reason": (reason or "").strip()}


def _validate_mute(data: dict) -> dict[str, Any]:
    return {"peer_id": _peer_id(data, "peer_id", "mute")}


def _validate_lock(data: dict) -> dict[str, Any]:
    return {"locked": _boolean(data, "locked", "lock")}


def _knock_id(data: dict, kind: str) -> int:
    value = data.get("knock_id")
    # bool is an int in Python; True is no knock id.
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise _bad(kind, "knock_id must be a positive integer.")
    return value


def _validate_admit(data: dict) -> dict[str, Any]:
    # Either one knock (``knock_id``) or everyone waiting (``all: true``).
    if data.get("all") is True and "knock_id" not in data:
        return {"knock_id": None, "all": True}
    if "all" in data and data["all"] is not False:
        raise _bad("admit", "all must be true (and alone) or absent.")
    return {"knock_id": _knock_id(data, "admit"), "all": False}


def _validate_deny(data: dict) -> dict[str, Any]:
    return {"knock_id": _knock_id(data, "deny")}


def _sfu_feed(data: dict, kind: str) -> str:
    feed = data.get("feed")
    if feed not in SFU_FEEDS:
        raise _bad(kind, "'feed' must be camera or screen.")
    return feed


def _validate_sfu_publish(data: dict) -> dict[str, Any]:
    return {
        "feed": _sfu_feed(data, "sfu-publish"),
        "sdp": _string(data, "sdp", "sfu-publish", max_length=MAX_SDP_LENGTH, min_length=1),
    }


def _validate_sfu_unpublish(data: dict) -> dict[str, Any]:
    return {"feed": _sfu_feed(data, "sfu-unpublish")}


def _sfu_feed_list(data: dict, key: str, kind: str) -> list[dict]:
    items = data.get(key)
    if not isinstance(items, list) or len(items) > MAX_SFU_FEEDS:
        raise _bad(kind, f"'{key}' must be a list of at most {MAX_SFU_FEEDS} feeds.")
    for item in items:
        if not isinstance(item, dict):
            raise _bad(kind, f"Each of '{key}' must be an object with 'peer_id' and 'feed'.")
    return items


def _validate_sfu_subscribe(data: dict) -> dict[str, Any]:
    feeds = _sfu_feed_list(data, "feeds", "sfu-subscribe")
    return {
        "feeds": [
            (_peer_id(item, "peer_id", "sfu-subscribe"), _sfu_feed(item, "sfu-subscribe"))
            for item in feeds
        ]
    }


def _validate_sfu_start(data: dict) -> dict[str, Any]:
    return {"sdp": _string(data, "sdp", "sfu-start", max_length=MAX_SDP_LENGTH, min_length=1)}


def _validate_sfu_trickle(data: dict) -> dict[str, Any]:
    target = data.get("target")
    if target not in SFU_TARGETS:
        raise _bad("sfu-trickle", "'target' must be camera, screen or subscriber.")
    # The same candidate rules as a mesh ``ice`` frame; ``to`` is not part of this one.
    return {"target": target, "candidate": _candidate(data, "sfu-trickle")}


def _validate_sfu_configure(data: dict) -> dict[str, Any]:
    layers = []
    for item in _sfu_feed_list(data, "layers", "sfu-configure"):
        layer = item.get("layer")
        # Janus wants an integer substream: 1.0 (equal to 1 in Python) is refused too.
        if layer is not None and (type(layer) is not int or layer not in (0, 1, 2)):
            raise _bad("sfu-configure", "'layer' must be 0, 1, 2 or null (paused).")
        layers.append(
            (_peer_id(item, "peer_id", "sfu-configure"), _sfu_feed(item, "sfu-configure"), layer)
        )
    return {"layers": layers}


def _no_fields(data: dict) -> dict[str, Any]:
    return {}


_VALIDATORS = {
    "sdp": _validate_sdp,
    "ice": _validate_ice,
    "chat": _validate_chat,
    "state": _validate_state,
    "reaction": _validate_reaction,
    "kick": _validate_kick,
    "ban": _validate_ban,
    "mute": _validate_mute,
    "lock": _validate_lock,
    "end": _no_fields,
    "ping": _no_fields,
    "leave": _no_fields,
    "admit": _validate_admit,
    "deny": _validate_deny,
    "sfu-publish": _validate_sfu_publish,
    "sfu-unpublish": _validate_sfu_unpublish,
    "sfu-subscribe": _validate_sfu_subscribe,
    "sfu-start": _validate_sfu_start,
    "sfu-trickle": _validate_sfu_trickle,
    "sfu-configure": _validate_sfu_configure,
}
