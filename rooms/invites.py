"""Room invites as accounts sees them: whether a link is some open room's current invite.

accounts must not import rooms, so rooms hands this check to accounts when the app loads
(rooms/apps.py); ``SIGNUP=invite`` lets a visitor sign up only when it answers yes.
"""

from __future__ import annotations

from django.urls import Resolver404, resolve
from django.utils.crypto import constant_time_compare

from rooms.selectors import room_get_by_slug


def room_invite_is_current(*, path: str, token: str) -> bool:
    """Whether ``path`` is an open room's page and ``token`` that room's current invite token.

    A rotated token, a closed room or a path that is not a room page all answer no.
    """
    try:
        match = resolve(path)
    except Resolver404:
        return False
    if match.view_name != "rooms:detail" or not token:
        return False
    room = room_get_by_slug(slug=match.kwargs["slug"])
    if room is None or room.is_closed:
        return False
    return constant_time_compare(room.invite_token, token)
