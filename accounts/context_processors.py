"""Template context from accounts: the signup policy, so pages offer signup only when open."""

from __future__ import annotations

from accounts.signup import signup_policy


def signup(request) -> dict[str, str]:
    """``signup_policy``: ``open``, ``invite`` or ``closed`` (the ``SIGNUP`` setting)."""
    return {"signup_policy": signup_policy()}
