"""The socket's user, read from its session in the admission's own database call.

Channels' ``AuthMiddleware`` reads the session and the user in a database call of their own
before the consumer starts: one more trip to the database thread for every join, on top of the
admission's. ``DeferredAuthMiddleware`` puts a lazy user in the scope instead, with the same rule
(Channels' ``get_user``: the session's user if its auth hash still matches, else anonymous,
``accounts.selectors.session_user``), and the admission reads it in its single database call
(signaling/admission.py).

Nothing may touch ``scope["user"]`` from async code before the admission has read it; the
consumer replaces it with the resolved user (or guest) right after.
"""

from __future__ import annotations

from channels.middleware import BaseMiddleware
from django.utils.functional import LazyObject, SimpleLazyObject, empty

from accounts.selectors import session_user


class DeferredAuthMiddleware(BaseMiddleware):
    """``scope["user"]``: a lazy user, read from the session on first use (in a sync thread)."""

    async def __call__(self, scope, receive, send):
        if "session" not in scope:
            raise ValueError("DeferredAuthMiddleware needs SessionMiddleware above it.")
        scope = dict(scope)
        if "user" not in scope:
            scope["user"] = SimpleLazyObject(lambda: session_user(scope["session"]))
        return await super().__call__(scope, receive, send)


def scope_user(scope):
    """The scope's user itself, read now if it is still deferred.

    Not the lazy proxy: each attribute read through it is a Python call of its own, and the
    admission reads the user's id and role many times over.
    """
    user = scope.get("user")
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        return user._wrapped
    return user
