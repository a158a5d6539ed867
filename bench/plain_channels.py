"""The plainest Channels relay, the benchmark's yardstick (``--configs plain``).

daphne and Channels with the in-memory layer and nothing of meet: no session, user, database,
origin check, validation or flood guard. A socket is accepted at once and told its peer id (its
channel name); a frame's ``to`` names the channel it is relayed to, as text. What this server
takes for the join storm and the relays is the floor that daphne and Channels themselves set on
the machine of the day, so meet's figures can be read against it (issue #14's table measured
this relay beside meet's).

Run by ``bench/signaling_load.py`` as ``daphne bench.plain_channels:application``.
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meet.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

if type(get_channel_layer()).__name__ != "InMemoryChannelLayer":
    raise RuntimeError("The plain relay measures the in-memory layer: run it without REDIS_URL.")


class PlainRelay(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.send(json.dumps({"type": "welcome", "self": {"peer_id": self.channel_name}}))

    async def receive(self, text_data=None, bytes_data=None) -> None:
        frame = json.loads(text_data)
        await self.channel_layer.send(frame["to"], {"type": "relay", "text": text_data})

    async def relay(self, event) -> None:
        await self.send(event["text"])


async def plain_http(scope, receive, send) -> None:
    """200 for every page: the benchmark's health check and its room-page loads."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter(
    {
        "http": plain_http,
        "websocket": URLRouter([path("ws/rooms/<slug:slug>/", PlainRelay.as_asgi())]),
    }
)
