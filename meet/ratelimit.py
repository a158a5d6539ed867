"""Per-caller rate limits kept in Django's cache, so every server process sees the same counts.

With ``REDIS_URL`` set the cache is Redis and a limit holds across all daphne processes; without
it the cache is per process memory, which is exact for the single-process ``./run``.

The limit is a fixed window: at most ``limit`` hits per ``window`` seconds, counted from the
start of the current window. A window boundary can let a burst of up to twice the limit
through, which is acceptable for the endpoints guarded here and keeps each hit to one atomic
increment.

This module sits below every app (accounts limits signups, signaling limits TURN credentials),
so no app has to import another app for it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RateLimit:
    """The outcome of one hit: ``allowed`` or not, and how long until the window resets."""

    allowed: bool
    count: int
    limit: int
    retry_after: int


def rate_limit_hit(
    *, scope: str, identity: str, limit: int, window: int, now: float | None = None
) -> RateLimit:
    """Count one hit for ``identity`` in ``scope`` and say whether it is within ``limit``.

    A cache that cannot be reached lets the hit through and logs a warning, because refusing
    every caller while Redis restarts would take calls down with it.
    """
    current = time.time() if now is None else now
    window_index = int(current // window)
    window_ends_at = (window_index + 1) * window
    retry_after = max(1, math.ceil(window_ends_at - current))
    key = f"ratelimit:{scope}:{identity}:{window_index}"
    try:
        # add() is a no-op when the key exists; incr() is atomic in Redis and in LocMemCache.
        cache.add(key, 0, timeout=retry_after + 1)
        try:
            count = cache.incr(key)
        except ValueError:
            # The key expired or was evicted between add() and incr(): this hit starts afresh.
            cache.set(key, 1, timeout=retry_after + 1)
            count = 1
    except Exception:  # noqa: BLE001 - any cache failure is handled the same way
        logger.warning("Rate limit %s not enforced: the cache is unreachable.", scope)
        return RateLimit(allowed=True, count=0, limit=limit, retry_after=0)
    return RateLimit(allowed=count <= limit, count=count, limit=limit, retry_after=retry_after)
