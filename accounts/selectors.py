"""Reads about accounts."""

from __future__ import annotations

from typing import Any


def user_json(user) -> dict[str, Any]:
    """A user as the protocol and the room page show it: id, username and display name.

    ``user`` may be None (a chat message whose author was deleted).
    """
    if user is None:
        return {"id": None, "username": "", "display_name": ""}
    return {"id": user.pk, "username": user.username, "display_name": user.shown_name}
