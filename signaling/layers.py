"""Channel layers: the in-memory one made cheap enough for a thousand peers, and Redis pub/sub.

Channels' ``InMemoryChannelLayer`` walks every channel and every group membership looking for
expired messages on every ``receive`` and ``group_send``: with 1,000 connected peers each relayed
message cost a walk over 1,000 queues, so relay cost grew with the number of peers in the process
(profiled with the load benchmark: a sixth of the server's time). This layer runs the same sweep
at most once per ``clean_interval`` seconds; expiry still happens, at most that much later.
Its ``send`` also built a new ``asyncio.Queue`` on every message (to pass to ``setdefault``) and
its ``group_send`` a task per member; here a queue is made only for a new channel and a group's
members are sent to in a plain loop (``send`` never waits), with the same checks, the same
copy of the message for each receiver and the same ``ChannelFull`` (issue #14). Its
``receive`` built one more queue per call (for ``setdefault`` again) and deleted the channel's
queue whenever a receive emptied it, so a consumer's next receive made a new one: per relayed
message a queue, four deques and an event, objects the garbage collector tracks (see
``signaling/receive_loop.py`` for why that stalled the relay). Here a channel keeps its queue
while its receiver lives; the queue goes when a receive on an empty queue is cancelled (the
consumer closing), on ``discard_channel`` (for one-off channels, like the Redis layer's), or
when the expiry sweep empties it, as before.

Both layers override private internals, so ``channels`` and ``channels-redis`` are pinned exactly
in ``pyproject.toml``. On an upgrade, re-check against the new source:
- ``channels.layers.InMemoryChannelLayer._clean_expired`` still exists, is still the whole
  expiry sweep, and is still called from ``receive``/``group_send`` (not inlined); its
  ``send``, ``group_send`` and ``receive`` still do what the overrides here do (``channels``,
  ``groups``, ``expiry``, ``get_capacity``, queue items of ``(expiry time, message)``);
- ``channels_redis.pubsub.RedisPubSubLoopLayer`` still keeps ``_shards`` (a list of
  ``RedisSingleShardConnection``), ``channels`` (name to queue of serialised bytes),
  ``groups`` (group channel name to member names), ``prefix``, ``channel_layer``,
  ``_get_shard`` and ``_get_group_channel_name``, and its ``send``/``group_send`` still only
  serialise and publish; ``RedisPubSubChannelLayer._get_layer`` still keeps loop layers in
  ``_layers`` made from ``_args``/``_kwargs`` and calls ``channels_redis.utils._wrap_close``;
  the shard still has ``publish``, ``unsubscribe``, ``_ensure_redis`` and ``_redis``, with
  ``host`` and the layer as its constructor's arguments, and its receiving task
  (``_do_receiving``, overridden here) still only reads ``_pubsub`` and hands each of
  redis-py's message dicts to ``_receive_message``;
- then run ``tests/signaling/test_layers.py``, ``tests/signaling/test_multiprocess.py`` and
  ``./run bench`` (its ``redis-1`` and ``redis-2`` configurations exercise the pub/sub layer).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from copy import deepcopy

import channels_redis.pubsub
import channels_redis.utils
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

logger = logging.getLogger(__name__)


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """``channels.layers.InMemoryChannelLayer`` whose expiry sweep runs at most once a second."""

    clean_interval = 1.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next_clean = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now < self._next_clean:
            return
        self._next_clean = now + self.clean_interval
        super()._clean_expired()

    async def flush(self) -> None:
        await super().flush()
        self._next_clean = 0.0

    async def send(self, channel, message) -> None:
        assert isinstance(message, dict), "message is not a dict"
        self.require_valid_channel_name(channel)
        assert "__asgi_channel__" not in message
        self._put(channel, message)

    async def group_send(self, group, message) -> None:
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            try:
                self._put(channel, message)
            except ChannelFull:
                pass  # As Channels' own: a full member misses a broadcast, the rest get it.

    async def receive(self, channel):
        self.require_valid_channel_name(channel)
        self._clean_expired()
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            _, message = await queue.get()
        except asyncio.CancelledError:
            # The receiver is gone (a consumer closing): an empty queue goes with it, as
            # Channels' does; one still holding messages stays until they expire, as there.
            if queue.empty() and self.channels.get(channel) is queue:
                del self.channels[channel]
            raise
        return message

    async def discard_channel(self, channel: str) -> None:
        """Forget a channel made for one round trip (the health check), and what it holds."""
        self.channels.pop(channel, None)

    def _put(self, channel: str, message: dict) -> None:
        queue = self.channels.get(channel)
        if queue is None:
            queue = self.channels[channel] = asyncio.Queue(maxsize=self.get_capacity(channel))
        try:
            queue.put_nowait((time.time() + self.expiry, deepcopy(message)))
        except asyncio.QueueFull:
            raise ChannelFull(channel) from None


# The key of a group message that says which loop layer sent it (_LocalFirstLoopLayer).
ORIGIN_KEY = "__meet_origin__"


class _ConcurrentPublishShard(channels_redis.pubsub.RedisSingleShardConnection):
    """A shard whose publishes do not wait for each other, and go out in pipelines.

    channels-redis holds one lock across every ``PUBLISH`` of a process, so publishes went out
    one round trip at a time and a busy Redis capped a whole process at a few hundred relays a
    second (measured). The lock guards subscriptions and the lazy client; a publish only needs
    the client. Publishes made while others are on their way are sent together, in one
    pipeline on one connection: per message, redis-py's connection checkout, command packing
    and reply read were a quarter of a relay's cost under load (profiled with the benchmark).
    One sender's messages stay in order: each sender awaits its publish before the next, and a
    pipeline keeps the order it was given. A failed pipeline fails every publish in it, so each
    sender hears of it as before.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[tuple[str, bytes, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def publish(self, channel, message):
        self._ensure_redis()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._pending.append((channel, message, done))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, message, _done in batch:
                            pipe.publish(channel, message)
                        await pipe.execute()
                except BaseException as error:  # noqa: BLE001 - every waiting sender hears it
                    for _channel, _message, done in batch:
                        if not done.done():
                            done.set_exception(error)
                    if isinstance(error, asyncio.CancelledError):
                        raise
                else:
                    for _channel, _message, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._flusher = None

    async def _do_receiving(self):
        """channels-redis's receiving task, with a read that waits for a message, not 0.1 s.

        channels-redis reads with a 0.1 s timeout so that its loop wakes when nothing is
        subscribed; that made an ``asyncio.timeout`` (a timer handle, rescheduled) around every
        message read. Here a read waits until Redis sends something: a message, or the reply
        to the last unsubscribe, after which the loop finds nothing subscribed and sleeps as
        before. Reconnecting is redis-py's, as before; ``flush`` cancels the task, as before.
        """
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=None
                    )
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except BaseException:  # noqa: BLE001 - as channels-redis: log, pause, go on
                logger.exception("Unexpected exception in receive task")
                await asyncio.sleep(1)

    def _receive_message(self, message):
        """Queue a message read from Redis for its channel, or for a group's members here.

        A group message carries its sender's origin (``_LocalFirstLoopLayer``): one this loop
        layer sent was delivered to its members when sent, so its echo is dropped.
        """
        if message is None:
            return
        name = message["channel"]
        data = message["data"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        queue = layer.channels.get(name)
        if queue is not None:
            queue.put_nowait(data)
            return
        members = layer.groups.get(name)
        if not members:
            return
        # Read once here to tell an echo (each member's receive reads its own copy again);
        # a message from a process of an earlier version has no origin and is delivered.
        try:
            origin = layer.channel_layer.deserialize(data).get(ORIGIN_KEY)
        except Exception:  # noqa: BLE001 - not ours: each receiver fails on it, as before
            origin = None
        if origin != layer.origin:
            layer.queue_for_members(members, data)


class _LocalFirstLoopLayer(channels_redis.pubsub.RedisPubSubLoopLayer):
    """The pub/sub layer of one event loop, delivering to its own consumers without Redis.

    channels-redis published every message to Redis, even one for a consumer of the same
    process, which then read it back from its subscriber connection: a publish, a read and
    redis-py's per-message machinery for nothing (with two processes, a third of the
    benchmark's relays). Here:

    - a direct send to a consumer channel this loop layer made (``new_channel``'s default
      ``specific.`` prefix) goes straight into its queue;
    - a group send is published for the other processes' members, tagged with this loop
      layer's random origin, and once Redis has taken it, goes straight into the queues of
      this loop layer's members; when Redis echoes it back to this loop layer's subscriber
      connection, it is dropped.

    So every message from one sender to one receiver takes one path, and a sender's group and
    direct sends reach each receiver in the order they were sent: both in-process (the queue
    keeps order), or both through Redis on the same publishing connection (one shard, as
    before). Channels made with another prefix (the health check's, the doctor's) still go
    through Redis: their round trip is what proves Redis works. A group send reaches the
    members this process has when Redis took it, not when Redis echoes it back. With Redis
    down, a group send fails for everyone, as before; a direct send between two consumers of
    one process still arrives.

    The payloads stay channels-redis's serialised bytes (``receive`` deserialises each copy),
    so a receiver gets its own copy in the same format as before. The origin is one more key
    of the message (``ORIGIN_KEY``, taken out again by ``receive``), so during a rolling
    upgrade a process of an earlier version reads the new messages (its handlers read only
    the keys they know) and this one delivers theirs (no origin: not an echo).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_ConcurrentPublishShard(shard.host, self) for shard in self._shards]
        self.origin = secrets.token_hex(8)
        self._consumer_channel_prefix = f"{self.prefix}specific."

    async def send(self, channel, message):
        if channel.startswith(self._consumer_channel_prefix):
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(self.channel_layer.serialize(message))
                return
        await super().send(channel, message)

    async def group_send(self, group, message):
        group_channel = self._get_group_channel_name(group)
        payload = self.channel_layer.serialize({**message, ORIGIN_KEY: self.origin})
        # Published first: if Redis fails, nobody gets it and the sender hears why, as before
        # (a chat its sender sees echoed must have reached the room).
        await self._get_shard(group_channel).publish(group_channel, payload)
        self.queue_for_members(self.groups.get(group_channel, ()), payload)

    def queue_for_members(self, members, data: bytes) -> None:
        """Put ``data`` in the queue of each of a group's members in this loop layer."""
        for channel in members:
            queue = self.channels.get(channel)
            if queue is not None:
                queue.put_nowait(data)


class RedisPubSubChannelLayer(channels_redis.pubsub.RedisPubSubChannelLayer):
    """channels-redis's pub/sub layer: local delivery, concurrent publishes, ``discard_channel``.

    The pub/sub layer subscribes a channel in ``new_channel`` and unsubscribes it only when a
    ``receive`` is cancelled (a consumer closing). A caller that makes a channel for one round
    trip, like the health check, calls ``discard_channel`` so subscriptions do not pile up.

    channels-redis reaches the loop layer through ``__getattr__``, which builds a
    ``functools.partial`` and a proxy coroutine on every call; the calls made per message
    (``send``, ``group_send``, ``receive``) are methods here.
    """

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            pass
        layer = self._layers[loop] = _LocalFirstLoopLayer(
            *self._args, **self._kwargs, channel_layer=self
        )
        channels_redis.utils._wrap_close(self, loop)
        return layer

    async def send(self, channel, message):
        await self._get_layer().send(channel, message)

    async def group_send(self, group, message):
        await self._get_layer().group_send(group, message)

    async def receive(self, channel):
        message = await self._get_layer().receive(channel)
        message.pop(ORIGIN_KEY, None)
        return message

    async def discard_channel(self, channel: str) -> None:
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)
