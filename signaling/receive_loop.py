"""A consumer's receive loop that keeps its waiting state, instead of rebuilding it per message.

Channels' ``await_many_dispatch`` (``channels.utils``) waits on the socket and the channel layer
with ``asyncio.wait`` and, after every message, starts a new task for the source it came from.
So each message replaced about forty objects the garbage collector tracks: a task, its
coroutine and context, ``asyncio.wait``'s waiter, its callback closure and set of tasks, the
futures and their iterators. With 1,000 sockets waiting, the youngest generation held about
43,000 of them, yet CPython's trigger never fired: its count rises with each allocation and
falls with each deallocation, and the replaced objects, already in an older generation, were
freed as fast as new ones were made. So a young collection came only every few seconds and
then walked all 43,000 (20-30 ms on the benchmark's machine, the relay's p99 stalls; measured
with ``gc.get_objects(0)`` grouped by type while ``bench/signaling_load.py`` relayed 1,500
messages a second, see docs/performance.md).

Here each source has one reader task for the consumer's whole life, which hands what it
receives to the consumer's own task through a queue of one. Per message, only the awaits
themselves are new. What Channels promises is kept:

- ``dispatch`` runs in the consumer's task, one message at a time, each source's messages in
  the order they came, and the sources in the order their messages came.
- Reading stays bounded: while a message is dispatched, at most one more waits in the queue
  and one in each reader's hand (Channels holds one per source, in its finished task), so a
  consumer that falls behind still leaves the rest in the layer's queue, where its capacity
  applies.
- An error from a source (or from ``dispatch``, ``StopConsumer`` included) ends the loop, and
  the readers are cancelled and awaited on the way out, as Channels' tasks are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Source = Callable[[], Awaitable[Any]]


async def await_many_dispatch(
    sources: list[Source], dispatch: Callable[[Any], Awaitable[None]]
) -> None:
    """Await messages from every source and ``dispatch`` each, one at a time."""
    # An item is (message, None) or (None, the error its source raised).
    handoff: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue(maxsize=1)
    loop = asyncio.get_running_loop()
    readers = [loop.create_task(_read(source, handoff)) for source in sources]
    try:
        while True:
            message, error = await handoff.get()
            if error is not None:
                raise error
            await dispatch(message)
    finally:
        for reader in readers:
            reader.cancel()
        for reader in readers:
            try:
                await reader
            except asyncio.CancelledError:
                pass


async def _read(source: Source, handoff: asyncio.Queue) -> None:
    """Receive from ``source`` until cancelled (``CancelledError`` is not an ``Exception``, so
    it ends the reader as it should); any other failure is handed over and ends the reader."""
    while True:
        try:
            message = await source()
        except Exception as error:  # noqa: BLE001 - handed to the consumer's task, which raises it
            await handoff.put((None, error))
            return
        # Waits while the queue holds a message the dispatcher has not taken yet.
        await handoff.put((message, None))
