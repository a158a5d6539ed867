"""Resume tokens: a signed promise that a client may come back as the same peer.

The token is signed with the project's secret (``django.core.signing``) and names the user, the
room and the peer id, so it is useless to anyone else and in any other room. It does not expire
by itself: the window (``RESUME_WINDOW_SECONDS``, 60 s by default) is counted from the moment
the peer was last seen, which the presence table knows (see ``signaling.presence.participant_join``,
which decides whether a resume is allowed).
"""

from __future__ import annotations

from django.core import signing

RESUME_SALT = "meet.signaling.resume"
# Tokens older than a day are refused outright even if a matching row still looks fresh.
RESUME_TOKEN_MAX_AGE = 24 * 3600


def resume_token_make(*, user_id: int, room_id: int, peer_id: str) -> str:
    """A signed token binding ``peer_id`` to this user and room."""
    return signing.dumps({"u": user_id, "r": room_id, "p": peer_id}, salt=RESUME_SALT)


def resume_token_peer_id(*, token: str, user_id: int, room_id: int) -> str | None:
    """The peer id in ``token`` if it is genuine and was made for this user and room, else None."""
    if not token or len(token) > 512:
        return None
    try:
        data = signing.loads(token, salt=RESUME_SALT, max_age=RESUME_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id or data.get("r") != room_id:
        return None
    peer_id = data.get("p")
    return peer_id if isinstance(peer_id, str) and peer_id else None
