"""The project's in-memory layer: same delivery, expiry sweep at most once per interval."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsLayer
from channels.layers import get_channel_layer

from signaling.layers import InMemoryChannelLayer


def test_standalone_uses_the_project_layer():
    assert isinstance(get_channel_layer(), InMemoryChannelLayer)


async def test_messages_and_groups_are_delivered_as_before():
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.1", first)
    await layer.group_add("room.1", second)
    await layer.group_send("room.1", {"type": "x", "n": 1})
    await layer.send(second, {"type": "x", "n": 2})
    assert (await layer.receive(first))["n"] == 1
    assert [(await layer.receive(second))["n"] for _ in range(2)] == [1, 2]


async def test_a_full_channel_refuses_a_send_and_misses_a_broadcast_the_others_get():
    layer = InMemoryChannelLayer(capacity=1)
    full, other = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.1", full)
    await layer.group_add("room.1", other)
    await layer.send(full, {"type": "x", "n": 1})
    with pytest.raises(ChannelFull):
        await layer.send(full, {"type": "x", "n": 2})
    await layer.group_send("room.1", {"type": "x", "n": 3})
    assert (await layer.receive(full))["n"] == 1
    assert (await layer.receive(other))["n"] == 3
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(layer.receive(full), 0.05)


async def test_each_receiver_gets_its_own_copy_of_a_message():
    layer = InMemoryChannelLayer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.1", first)
    await layer.group_add("room.1", second)
    sent = {"type": "x", "peer": {"state": {"audio": True}}}
    await layer.group_send("room.1", sent)
    received = await layer.receive(first)
    received["peer"]["state"]["audio"] = False
    assert (await layer.receive(second))["peer"]["state"]["audio"] is True
    assert sent["peer"]["state"]["audio"] is True


async def test_the_full_sweep_runs_at_most_once_per_interval(monkeypatch):
    layer = InMemoryChannelLayer()
    sweeps = []
    monkeypatch.setattr(ChannelsLayer, "_clean_expired", lambda self: sweeps.append(1))
    channel = await layer.new_channel()
    for _ in range(200):
        await layer.send(channel, {"type": "x"})
        await layer.receive(channel)
    assert len(sweeps) == 1


async def test_expired_messages_are_still_dropped_after_the_interval():
    layer = InMemoryChannelLayer(expiry=0.01)
    layer.clean_interval = 0.05
    stale, fresh = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room.1", stale)
    await layer.send(stale, {"type": "old"})
    await asyncio.sleep(0.1)
    await layer.send(fresh, {"type": "new"})
    assert (await layer.receive(fresh))["type"] == "new"
    assert stale not in layer.channels
    assert stale not in layer.groups.get("room.1", {})


async def test_redis_pubsub_layer_discards_a_one_off_channel():
    from signaling.layers import RedisPubSubChannelLayer
    from tests.support import tools

    layer = RedisPubSubChannelLayer(hosts=[tools.redis_url()], prefix="meet-test-layers")
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "x", "n": 1})
        assert (await layer.receive(channel))["n"] == 1
        await layer.discard_channel(channel)
        assert channel not in layer._get_layer().channels
        assert channel not in layer._get_layer()._shards[0]._subscribed_to
    finally:
        await layer.flush()


async def test_a_channel_keeps_one_queue_while_its_receiver_lives():
    # Channels' receive dropped an emptied queue and the next receive made another: a queue,
    # four deques and an event per relayed message for the garbage collector.
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    queue = layer.channels[channel]
    for n in range(3):
        await layer.send(channel, {"type": "x", "n": n})
        assert (await receiving)["n"] == n
        receiving = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0)
        assert layer.channels[channel] is queue
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    assert channel not in layer.channels


async def test_a_cancelled_receive_leaves_undelivered_messages_to_expire():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    receiving = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    await layer.send(channel, {"type": "x", "n": 1})
    receiving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await receiving
    assert layer.channels[channel].qsize() == 1


async def test_discard_channel_forgets_a_one_off_channel():
    layer = InMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "x", "n": 1})
    assert (await layer.receive(channel))["n"] == 1
    await layer.discard_channel(channel)
    assert channel not in layer.channels
