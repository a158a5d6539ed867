"""signaling.wire: the one home of close codes, error codes and server frames."""

from __future__ import annotations

from rooms import access, moderation
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
