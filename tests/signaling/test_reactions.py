"""Reactions: an allowed emoji goes to everyone in the room, its sender included, stamped with
the sender's peer id; nothing is stored; a burst past the reaction rate is refused with
``rate_limited`` and the socket stays open."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_reaction_reaches_everyone_including_its_sender(connect, room, people):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("peer-joined")
    await bob.send({"type": "reaction", "emoji": "🎉", "peer_id": ana.peer_id})
    expected = {"type": "reaction", "peer_id": bob.peer_id, "emoji": "🎉"}
    assert await ana.receive_type("reaction") == expected
    assert await bob.receive_type("reaction") == expected


async def test_an_emoji_outside_the_allow_list_is_bad_message_and_not_passed_on(
    connect, room, people
):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("peer-joined")
    await bob.send({"type": "reaction", "emoji": "💩"})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("bad_message", "reaction")
    assert await ana.nothing()
    await bob.send({"type": "ping"})
    assert await bob.receive() == {"type": "pong"}


async def test_reactions_past_their_burst_are_rate_limited_and_the_socket_stays_open(
    connect, room, people
):
    ana = await connect(room.slug, people["ana"])
    bob = await connect(room.slug, people["bob"])
    await ana.receive_type("peer-joined")
    for _ in range(5):
        await bob.send({"type": "reaction", "emoji": "👍"})
        await ana.receive_type("reaction")
        await bob.receive_type("reaction")
    await bob.send({"type": "reaction", "emoji": "👍"})
    error = await bob.receive_type("error")
    assert (error["code"], error["ref"]) == ("rate_limited", "reaction")
    assert await ana.nothing()
    # Chat has its own allowance, untouched by reactions.
    await bob.send({"type": "chat", "text": "still here"})
    assert (await ana.receive_type("chat"))["text"] == "still here"
