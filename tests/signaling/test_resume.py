"""Resume tokens are signed and bound to one user, one room and one peer id."""

from __future__ import annotations

from django.core import signing

from signaling.resume import RESUME_SALT, resume_token_make, resume_token_peer_id


def test_token_round_trips_for_its_user_and_room():
    token = resume_token_make(user_id=1, room_id=2, peer_id="peer-a")
    assert resume_token_peer_id(token=token, user_id=1, room_id=2) == "peer-a"


def test_token_is_refused_for_another_user_or_room():
    token = resume_token_make(user_id=1, room_id=2, peer_id="peer-a")
    assert resume_token_peer_id(token=token, user_id=9, room_id=2) is None
    assert resume_token_peer_id(token=token, user_id=1, room_id=9) is None


def test_tampered_forged_or_junk_tokens_are_refused():
    token = resume_token_make(user_id=1, room_id=2, peer_id="peer-a")
    # The signature's last character changed (to another one: one token in 64 ends in "A").
    tampered = token[:-1] + ("B" if token.endswith("A") else "A")
    assert resume_token_peer_id(token=tampered, user_id=1, room_id=2) is None
    forged = signing.dumps({"u": 1, "r": 2, "p": "peer-a"}, salt="another-salt")
    assert resume_token_peer_id(token=forged, user_id=1, room_id=2) is None
    wrong_shape = signing.dumps(["peer-a"], salt=RESUME_SALT)
    assert resume_token_peer_id(token=wrong_shape, user_id=1, room_id=2) is None
    for junk in ("", "x", "a:b:c", "z" * 1000):
        assert resume_token_peer_id(token=junk, user_id=1, room_id=2) is None
