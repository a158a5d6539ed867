"""signaling.wire: the one home of close codes, error codes and server frames."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accounts.models import User
from rooms import access, moderation
from rooms.models import Participant, Room
from signaling import wire


def test_every_refusal_of_the_access_rule_has_its_contract_close_code():
    assert wire.refusal_close_code(access.NOT_AUTHENTICATED) == 4401
    assert wire.refusal_close_code(access.FORBIDDEN) == 4403
    assert wire.refusal_close_code(access.ROOM_NOT_FOUND) == 4404
    assert wire.refusal_close_code(access.ROOM_LOCKED) == 4423
    assert wire.refusal_close_code(wire.ROOM_FULL) == 4409
    assert wire.refusal_close_code(wire.TOO_MANY_CONNECTIONS) == 4413
    assert wire.refusal_close_code(None) == 1000


def test_close_codes_are_distinct():
    codes = {name: value for name, value in vars(wire).items() if name.startswith("CLOSE_")}
    assert len(set(codes.values())) == len(codes)


def test_every_moderation_refusal_has_an_error_code():
    assert wire.MODERATION_REFUSAL_CODES == {
        moderation.REFUSED_SELF: "bad_message",
        moderation.REFUSED_OWNER: "forbidden",
    }


def test_a_kick_frame_says_reason_and_ban_only_when_there_are_some():
    by = {"id": 1, "username": "ana", "display_name": "Ana"}
    assert wire.kicked_frame(by=by, reason="", banned=False) == {"type": "kicked", "by": by}
    assert wire.kicked_frame(by=by, reason="spam", banned=True) == {
        "type": "kicked",
        "by": by,
        "reason": "spam",
        "banned": True,
    }


def _welcome(**extra) -> dict:
    ana = User(pk=1, username="ana", display_name="Ana")
    me = Participant(peer_id="p1", user=ana, role="owner", state={})
    room = Room(slug="weekly-sync", name="Weekly Sync", max_participants=8)
    return wire.welcome_frame(
        me=me, resumed=False, resume_token="t", room=room, peers=[], chat=[], **extra
    )


def test_the_welcome_says_how_the_call_carries_media_and_how_many_videos_an_sfu_peer_gets(
    settings,
):
    settings.SFU_LAST_N = 6
    assert _welcome(media=wire.media_json(mode="sfu"))["media"] == {"mode": "sfu", "last_n": 6}
    # A caller that says nothing of media (no SFU in this deployment) welcomes into a mesh.
    assert _welcome()["media"] == {"mode": "mesh", "last_n": 6}


def test_the_media_mode_frame_tells_a_running_call_where_it_moves(settings):
    settings.SFU_LAST_N = 9
    assert wire.media_mode_frame(mode="sfu") == {
        "type": "media-mode",
        "media": {"mode": "sfu", "last_n": 9},
    }


def test_the_sfu_error_code_is_its_own():
    others = {
        value
        for name, value in vars(wire).items()
        if name.isupper() and isinstance(value, str) and name != "SFU_UNAVAILABLE"
    }
    assert wire.SFU_UNAVAILABLE == "sfu_unavailable"
    assert wire.SFU_UNAVAILABLE not in others


# A dict with a "type" that is not a channel-layer event (those are dotted, signaling/events.py)
# and not a session description's type (offer, answer: the SDP handed to Janus).
_FRAME_LITERAL = re.compile(r"""["']type["']\s*:\s*f?["']([^"'.]*)["']""")


def test_every_frame_for_the_client_is_built_in_the_wire_module():
    """The wire format lives in one module (docs/server.md): a frame literal anywhere else in
    signaling/ is a frame built out of place."""
    signaling_dir = Path(wire.__file__).parent
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(signaling_dir.rglob("*.py"))
        if path.name != "wire.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for match in _FRAME_LITERAL.finditer(line)
        if match.group(1) not in ("offer", "answer")
    ]
    assert offenders == []


def test_sfu_frames_name_feeds_by_peer_and_kind_and_carry_no_janus_ids():
    assert wire.sfu_feeds_frame(feeds=[("p1", "camera"), ("p2", "screen")]) == {
        "type": "sfu-feeds",
        "feeds": [{"peer_id": "p1", "feed": "camera"}, {"peer_id": "p2", "feed": "screen"}],
    }
    janus_candidate = {
        "candidate": "candidate:1 1 udp 1 10.0.0.1 4000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "extra": "dropped",
    }
    assert wire.sfu_trickle_frame(target="subscriber", candidate=janus_candidate) == {
        "type": "sfu-trickle",
        "target": "subscriber",
        "candidate": {"candidate": janus_candidate["candidate"], "sdpMid": "0", "sdpMLineIndex": 0},
    }
    assert wire.sfu_trickle_frame(target="camera", candidate=None)["candidate"] is None
    assert wire.sfu_status_frame(status="ready") == {"type": "sfu-ready"}
    with pytest.raises(ValueError):
        wire.sfu_status_frame(status="anything")
