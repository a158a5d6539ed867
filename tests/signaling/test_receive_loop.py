"""The consumer's receive loop: Channels' promises, with one reader task per source for life."""

from __future__ import annotations

import asyncio

import pytest
from channels.exceptions import StopConsumer

from signaling.receive_loop import await_many_dispatch
from tests.support.tasks import tasks_started


class Source:
    """A source fed by the test, counting how many of its messages were taken."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.taken = 0

    async def __call__(self):
        message = await self.queue.get()
        self.taken += 1
        if isinstance(message, BaseException):
            raise message
        return message


def run_loop(sources, dispatch) -> asyncio.Task:
    return asyncio.get_running_loop().create_task(await_many_dispatch(sources, dispatch))


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_each_source_is_dispatched_in_order_and_the_sources_as_they_came():
    socket, layer = Source(), Source()
    seen = []

    async def dispatch(message):
        seen.append(message)

    loop = run_loop([socket, layer], dispatch)
    for message in ("s1", "s2"):
        socket.queue.put_nowait(message)
    await settle()
    layer.queue.put_nowait("l1")
    await settle()
    socket.queue.put_nowait("s3")
    layer.queue.put_nowait("l2")
    await settle()
    assert seen == ["s1", "s2", "l1", "s3", "l2"]
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_one_message_is_dispatched_at_a_time():
    source = Source()
    running, most_at_once, seen = 0, 0, []

    async def dispatch(message):
        nonlocal running, most_at_once
        running += 1
        most_at_once = max(most_at_once, running)
        await asyncio.sleep(0.001)
        seen.append(message)
        running -= 1

    loop = run_loop([source], dispatch)
    for n in range(20):
        source.queue.put_nowait(n)
    while len(seen) < 20:
        await asyncio.sleep(0.005)
    assert most_at_once == 1
    assert seen == list(range(20))
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_a_slow_dispatch_leaves_the_backlog_in_the_source():
    # What the consumer has not read stays in the layer, where the channel's capacity applies.
    source = Source()
    release = asyncio.Event()

    async def dispatch(message):
        await release.wait()

    loop = run_loop([source], dispatch)
    for n in range(10):
        source.queue.put_nowait(n)
    await settle()
    # One in dispatch, one waiting in the hand-over queue, one in the reader's hand.
    assert source.taken == 3
    assert source.queue.qsize() == 7
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop


async def test_an_error_from_a_source_ends_the_loop_with_that_error():
    socket, layer = Source(), Source()

    async def dispatch(message):
        pass

    loop = run_loop([socket, layer], dispatch)
    layer.queue.put_nowait(ValueError("layer broke"))
    with pytest.raises(ValueError, match="layer broke"):
        await asyncio.wait_for(loop, 1)


async def test_an_error_from_dispatch_ends_the_loop_and_stop_consumer_passes_through():
    source = Source()

    async def dispatch(message):
        if message == "stop":
            raise StopConsumer
        raise KeyError(message)

    loop = run_loop([source], dispatch)
    source.queue.put_nowait("boom")
    with pytest.raises(KeyError):
        await asyncio.wait_for(loop, 1)
    loop = run_loop([source], dispatch)
    source.queue.put_nowait("stop")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 1)


async def test_readers_are_cancelled_and_awaited_when_the_loop_ends():
    cancelled = []

    async def waits_forever():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    source = Source()

    async def dispatch(message):
        raise StopConsumer

    before = asyncio.all_tasks()
    loop = run_loop([source, waits_forever], dispatch)
    await settle()
    readers = asyncio.all_tasks() - before - {loop}
    assert len(readers) == 2
    source.queue.put_nowait("last")
    with pytest.raises(StopConsumer):
        await asyncio.wait_for(loop, 1)
    assert cancelled == [True]
    assert all(reader.done() for reader in readers)


async def test_messages_start_no_tasks():
    # Channels' loop started a task per message, and with it a set of objects the garbage
    # collector had to walk (signaling/receive_loop.py); here only the readers are tasks.
    socket, layer = Source(), Source()
    seen = []

    async def dispatch(message):
        seen.append(message)

    with tasks_started() as started:
        running = run_loop([socket, layer], dispatch)
        for n in range(100):
            (socket if n % 2 else layer).queue.put_nowait(n)
            await settle()
    assert len(seen) == 100
    assert len(started) == 3  # the loop itself and one reader per source
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
