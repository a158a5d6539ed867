"""The socket's user, read from its session in the admission's own database call.

Channels' ``AuthMiddleware`` reads the session and the user in a database call of their own
before the consumer starts: one more trip to the database thread for every join, on top of the
admission's. ``DeferredAuthMiddleware`` puts a lazy user in the scope instead, with the same rule
(Channels' ``get_user``: the session's user if its auth hash still matches, else anonymous,
``accounts.selectors.session_user``), and the admission reads it in its single database call
(signaling/admission.py).

Nothing may touch ``scope["user"]`` from async code before the admission has read it; the
consumer replaces it with the resolved user (or guest) right after. The admission reads the
user's row in the same statement as the room (``deferred_user_id`` says which row, and
``scope_user`` takes the row read), so the user costs no round trip of its own.
"""

from __future__ import annotations

from channels.middleware import BaseMiddleware
from django.utils.functional import LazyObject, SimpleLazyObject, empty

from accounts.selectors import session_model_user_id, session_user


class DeferredUser(SimpleLazyObject):
    """``DeferredAuthMiddleware``'s user: the session's, read on first use."""


def deferred_user(scope) -> DeferredUser:
    """The lazy user of a scope with a ``session``, as ``DeferredAuthMiddleware`` sets it."""
    return DeferredUser(lambda: session_user(scope["session"]))


class DeferredAuthMiddleware(BaseMiddleware):
    """``scope["user"]``: a lazy user, read from the session on first use (in a sync thread)."""

    async def __call__(self, scope, receive, send):
        if "session" not in scope:
            raise ValueError("DeferredAuthMiddleware needs SessionMiddleware above it.")
        scope = dict(scope)
        if "user" not in scope:
            scope["user"] = deferred_user(scope)
        return await super().__call__(scope, receive, send)


def deferred_user_id(scope):
    """The id of the user row the scope's deferred user still needs, or None.

    None when the user is not ``DeferredAuthMiddleware``'s, is read already, or needs no row
    read by meet (nobody logged in, or another backend than ``ModelBackend``).
    """
    user = scope.get("user")
    if not isinstance(user, DeferredUser) or user._wrapped is not empty:
        return None
    return session_model_user_id(scope["session"])


def scope_user(scope, *, user_row=empty):
    """The scope's user itself, read now if it is still deferred.

    Not the lazy proxy: each attribute read through it is a Python call of its own, and the
    admission reads the user's id and role many times over. ``user_row`` is the row of
    ``deferred_user_id`` when the caller read it already (None if there was none); Channels'
    rule (``session_user``) still judges it.
    """
    user = scope.get("user")
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            if user_row is empty:
                user._setup()
            else:
                user._wrapped = session_user(scope["session"], read_user=lambda _pk: user_row)
        return user._wrapped
    return user
