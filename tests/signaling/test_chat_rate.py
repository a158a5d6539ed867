"""Chat has its own rate per socket (``CHAT_RATE_BURST``, ``CHAT_RATE_PER_SECOND``), below the
frame flood guard: past it a chat is refused with ``rate_limited``, nothing is stored, and the
socket stays open."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from rooms.models import ChatMessage

pytestmark = pytest.mark.django_db(transaction=True)


async def test_chat_past_its_burst_is_refused_unstored_and_the_socket_stays_open(
    connect, room, people, settings
):
    settings.CHAT_RATE_BURST = 5
    settings.CHAT_RATE_PER_SECOND = 1.0
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("peer-joined")
    for number in range(5):
        await bob.send({"type": "chat", "text": f"message {number}"})
        assert (await ana.receive_type("chat"))["text"] == f"message {number}"
        await bob.receive_type("chat")
    await bob.send({"type": "chat", "text": "one too many"})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("rate_limited", "chat")
    assert await ana.nothing()
    texts = await sync_to_async(list)(ChatMessage.objects.values_list("text", flat=True))
    assert "one too many" not in texts and len(texts) == 5
    # Other frames are not held back by the chat rate.
    await bob.send({"type": "state", "hand": True})
    assert (await ana.receive_type("state"))["state"]["hand"] is True
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}


async def test_chat_is_allowed_again_as_the_rate_refills(connect, room, people, settings):
    settings.CHAT_RATE_BURST = 2
    settings.CHAT_RATE_PER_SECOND = 10.0
    ana = await connect(room.slug, people["ana"])
    for text in ("one", "two"):
        await ana.send({"type": "chat", "text": text})
        await ana.receive_type("chat")
    await ana.send({"type": "chat", "text": "three"})
    assert (await ana.receive_type("error"))["code"] == "rate_limited"
    await asyncio.sleep(0.25)  # Two and a half tokens at 10 per second.
    await ana.send({"type": "chat", "text": "four"})
    assert (await ana.receive_type("chat"))["text"] == "four"
