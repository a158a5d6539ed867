"""The project's Redis pub/sub layer: local delivery without Redis, order, one copy per member.

Two layer objects on one event loop stand for two server processes: each makes its own loop
layer, subscriber connection and origin, as a process does.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels_redis.pubsub import RedisPubSubChannelLayer as EarlierRedisPubSubChannelLayer

from signaling.layers import RedisPubSubChannelLayer
from tests.support import tools
from tests.support.redis_server import RedisServer

WAIT = 5  # seconds: Redis on loopback answers in milliseconds; this only bounds a failure


@pytest.fixture
async def processes():
    prefix = f"meet-test-{uuid.uuid4().hex[:8]}"
    layers = [RedisPubSubChannelLayer(hosts=[tools.redis_url()], prefix=prefix) for _ in range(2)]
    try:
        yield layers
    finally:
        for layer in layers:
            await layer.flush()


def record_publishes(layer) -> list[str]:
    """The Redis channels ``layer`` publishes to from now on, in order."""
    shard = layer._get_layer()._shards[0]
    published: list[str] = []
    publish = shard.publish

    async def recording_publish(channel, message):
        published.append(channel)
        await publish(channel, message)

    shard.publish = recording_publish
    return published


async def next_n(layer, channel) -> int:
    return (await asyncio.wait_for(layer.receive(channel), WAIT))["n"]


async def nothing_more(layer, channel) -> bool:
    try:
        await asyncio.wait_for(layer.receive(channel), 0.3)
    except TimeoutError:
        return True
    return False


async def test_a_message_for_a_consumer_of_the_same_process_does_not_go_through_redis(processes):
    here, _ = processes
    channel = await here.new_channel()
    published = record_publishes(here)
    await here.send(channel, {"type": "x", "n": 1, "tuple": (1, 2)})
    message = await asyncio.wait_for(here.receive(channel), WAIT)
    # Serialised as through Redis: the receiver gets its own copy, in the same format.
    assert message == {"type": "x", "n": 1, "tuple": [1, 2]}
    assert published == []


async def test_a_message_for_another_process_goes_through_redis(processes):
    here, there = processes
    channel = await there.new_channel()
    published = record_publishes(here)
    await here.send(channel, {"type": "x", "n": 1})
    assert await next_n(there, channel) == 1
    assert published == [channel]


async def test_the_health_checks_channel_still_goes_through_redis(processes):
    # Its round trip is what proves Redis answers (meet/health.py).
    here, _ = processes
    channel = await here.new_channel("healthz.")
    published = record_publishes(here)
    await here.send(channel, {"type": "x", "n": 1})
    assert await next_n(here, channel) == 1
    assert published == [channel]
    await here.discard_channel(channel)


async def test_a_group_message_reaches_every_member_once_in_both_processes(processes):
    here, there = processes
    mine, theirs = await here.new_channel(), await there.new_channel()
    await here.group_add("room.1", mine)
    await there.group_add("room.1", theirs)

    await here.group_send("room.1", {"type": "x", "n": 1})
    assert await asyncio.wait_for(there.receive(theirs), WAIT) == {"type": "x", "n": 1}
    assert await asyncio.wait_for(here.receive(mine), WAIT) == {"type": "x", "n": 1}
    # Redis sent the echo of 1 to this process before 2 (it had published 1 first): the next
    # message is 2, not a second 1. The same the other way round.
    await there.group_send("room.1", {"type": "x", "n": 2})
    assert await next_n(here, mine) == 2
    assert await next_n(there, theirs) == 2
    await here.group_send("room.1", {"type": "x", "n": 3})
    assert await next_n(there, theirs) == 3
    assert await next_n(here, mine) == 3
    assert await nothing_more(here, mine)
    assert await nothing_more(there, theirs)


async def test_a_senders_group_and_direct_messages_reach_each_receiver_in_order(processes):
    here, there = processes
    receiver_here, other_here = await here.new_channel(), await here.new_channel()
    receiver_there = await there.new_channel()
    await here.group_add("room.1", receiver_here)
    await here.group_add("room.1", other_here)
    await there.group_add("room.1", receiver_there)

    await here.group_send("room.1", {"type": "x", "n": 1})
    await here.send(receiver_here, {"type": "x", "n": 2})
    await here.send(receiver_there, {"type": "x", "n": 3})
    await here.group_send("room.1", {"type": "x", "n": 4})

    assert [await next_n(here, receiver_here) for _ in range(3)] == [1, 2, 4]
    assert [await next_n(here, other_here) for _ in range(2)] == [1, 4]
    assert [await next_n(there, receiver_there) for _ in range(3)] == [1, 3, 4]
    assert await nothing_more(here, receiver_here)
    assert await nothing_more(there, receiver_there)


async def test_a_group_message_from_another_event_loop_of_the_process_is_delivered_once(
    processes,
):
    # Sync code (admin actions, signaling/events.py) sends through async_to_sync: on a loop of
    # its own, with a loop layer and an origin of its own, so this loop's members hear it.
    here, _ = processes
    member = await here.new_channel()
    await here.group_add("room.1", member)
    await asyncio.to_thread(async_to_sync(here.group_send), "room.1", {"type": "x", "n": 7})
    assert await next_n(here, member) == 7
    assert await nothing_more(here, member)


async def test_during_a_rolling_upgrade_each_version_reads_the_others_group_messages():
    # Processes of the previous release (channels-redis's own layer) and of this one share
    # Redis while the workers restart one after the other.
    prefix = f"meet-test-{uuid.uuid4().hex[:8]}"
    new = RedisPubSubChannelLayer(hosts=[tools.redis_url()], prefix=prefix)
    earlier = EarlierRedisPubSubChannelLayer(hosts=[tools.redis_url()], prefix=prefix)
    try:
        member_new, member_earlier = await new.new_channel(), await earlier.new_channel()
        await new.group_add("room.1", member_new)
        await earlier.group_add("room.1", member_earlier)

        await earlier.group_send("room.1", {"type": "x", "n": 1})
        assert await next_n(new, member_new) == 1
        assert await next_n(earlier, member_earlier) == 1
        await new.group_send("room.1", {"type": "x", "n": 2})
        message = await asyncio.wait_for(earlier.receive(member_earlier), WAIT)
        assert (message["type"], message["n"]) == ("x", 2)  # and an origin it ignores
        assert await next_n(new, member_new) == 2
        assert await nothing_more(new, member_new)
    finally:
        await new.flush()
        await earlier.flush()


async def test_a_member_that_left_gets_no_more_group_messages(processes):
    here, there = processes
    member, stays = await here.new_channel(), await there.new_channel()
    await here.group_add("room.1", member)
    await there.group_add("room.1", stays)
    await here.group_discard("room.1", member)
    await here.group_send("room.1", {"type": "x", "n": 1})
    assert await next_n(there, stays) == 1
    assert await nothing_more(here, member)


async def test_with_redis_down_a_group_message_reaches_nobody_and_the_sender_hears_why(tmp_path):
    # The consumer tells a chat's sender "not delivered" when the layer raises: no member of
    # the sender's own process may have been given it meanwhile.
    redis = RedisServer(workdir=tmp_path / "redis").start()
    layer = RedisPubSubChannelLayer(hosts=[redis.url], prefix="meet-test-down")
    try:
        member = await layer.new_channel()
        await layer.group_add("room.1", member)
        redis.stop()
        with pytest.raises(Exception):  # noqa: B017,PT011 - whatever redis-py raises
            await asyncio.wait_for(layer.group_send("room.1", {"type": "x", "n": 1}), 30)
        await asyncio.sleep(0.3)
        assert layer._get_layer().channels[member].empty()
        # Between two consumers of this process a direct message still arrives.
        await layer.send(member, {"type": "x", "n": 2})
        assert await next_n(layer, member) == 2
    finally:
        redis.stop()
        layer._layers.clear()  # its connections point at a stopped server


async def test_a_process_left_with_no_subscription_hears_again_once_it_subscribes(processes):
    # The receiving task waits on Redis without a timeout: when the last channel goes, the
    # unsubscribe's reply wakes it, and it waits for a subscription again.
    here, there = processes
    first = await here.new_channel()
    await there.send(first, {"type": "x", "n": 1})
    assert await next_n(here, first) == 1
    await here.discard_channel(first)
    await asyncio.sleep(0.3)
    assert not here._get_layer()._shards[0]._pubsub.subscribed
    second = await here.new_channel()
    await asyncio.sleep(0.3)  # Redis holds the subscription (sent on another connection)
    await there.send(second, {"type": "x", "n": 2})
    assert await next_n(here, second) == 2
