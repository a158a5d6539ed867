"""The WebSocket's session: Channels' ``SessionMiddleware`` without its per-frame send wrapper.

Channels' ``SessionMiddleware`` hands the application a ``send`` that, on every message, reads
the session's ``modified`` flag and ``is_empty()`` through its lazy proxy, and only then looks
at whether the message is one it acts on: ``http.response.start``, to save a modified session
and set its cookie. A WebSocket never sends that, so on a socket the wrapper only costs: about
3 % of the server's CPU while relaying (py-spy under ``./run bench``, two processes over
Redis, 2026-12-03). Here a WebSocket still gets its session in ``scope["session"]``, and the
server's own ``send``; any other scope gets Channels' wrapper, as before.

``channels`` is pinned exactly. On an upgrade, ``tests/signaling/test_sessions.py`` fails if
Channels' wrapper starts acting on a WebSocket message.
"""

from __future__ import annotations

from channels.sessions import InstanceSessionWrapper, SessionMiddleware


class WebSocketSessionMiddleware(SessionMiddleware):
    """``channels.sessions.SessionMiddleware`` that leaves a WebSocket's ``send`` unwrapped."""

    async def __call__(self, scope, receive, send):
        wrapper = InstanceSessionWrapper(scope, send)
        await wrapper.resolve_session()
        if scope["type"] != "websocket":
            send = wrapper.send
        return await self.inner(wrapper.scope, receive, send)
