"""A WebSocket gets its session in the scope and the server's own ``send``, unwrapped."""

from __future__ import annotations

import inspect

from channels.sessions import CookieMiddleware, InstanceSessionWrapper
from django.conf import settings

from signaling.sessions import WebSocketSessionMiddleware


def test_channels_wrapper_acts_on_no_websocket_message():
    # What makes skipping it for a socket safe: if a new Channels saves sessions or sets cookies
    # on a WebSocket message, this fails and signaling/sessions.py must follow.
    acted_on = {
        *InstanceSessionWrapper.save_message_types,
        *InstanceSessionWrapper.cookie_response_message_types,
    }
    assert acted_on == {"http.response.start"}
    source = inspect.getsource(InstanceSessionWrapper.send)
    assert "self.save_message_types" in source
    assert "self.cookie_response_message_types" in source


async def _called_with(scope_type: str, cookie: str = ""):
    seen = {}

    async def inner(scope, receive, send):
        seen["scope"], seen["send"] = scope, send

    async def server_send(message):
        pass

    app = CookieMiddleware(WebSocketSessionMiddleware(inner))
    headers = [(b"cookie", cookie.encode())] if cookie else []
    await app({"type": scope_type, "headers": headers}, None, server_send)
    return seen, server_send


async def test_a_websocket_gets_the_server_send_and_its_session():
    key = "k" * 32
    seen, server_send = await _called_with(
        "websocket", cookie=f"{settings.SESSION_COOKIE_NAME}={key}"
    )
    assert seen["send"] is server_send
    assert seen["scope"]["session"].session_key == key


async def test_any_other_scope_keeps_channels_wrapper():
    seen, server_send = await _called_with("http")
    assert seen["send"] is not server_send
    assert seen["send"].__self__.__class__ is InstanceSessionWrapper
