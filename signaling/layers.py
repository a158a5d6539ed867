"""Channel layers: the in-memory one made cheap enough for a thousand peers, and Redis pub/sub.

Channels' ``InMemoryChannelLayer`` walks every channel and every group membership looking for
expired messages on every ``receive`` and ``group_send``: with 1,000 connected peers each relayed
message cost a walk over 1,000 queues, so relay cost grew with the number of peers in the process
(profiled with the load benchmark: a sixth of the server's time). This layer runs the same sweep
at most once per ``clean_interval`` seconds; expiry still happens, at most that much later.
"""

from __future__ import annotations

import time

import channels_redis.pubsub
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


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


class RedisPubSubChannelLayer(channels_redis.pubsub.RedisPubSubChannelLayer):
    """channels-redis's pub/sub layer, plus ``discard_channel`` for one-off channels.

    The pub/sub layer subscribes a channel in ``new_channel`` and unsubscribes it only when a
    ``receive`` is cancelled (a consumer closing). A caller that makes a channel for one round
    trip, like the health check, calls ``discard_channel`` so subscriptions do not pile up.
    """

    async def discard_channel(self, channel: str) -> None:
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)
