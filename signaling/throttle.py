"""TURN credential rate limit, counted in Django's cache by the shared limiter.

The generic fixed-window limiter lives in ``meet/ratelimit.py`` (accounts uses it for signups,
and accounts must not import signaling); ``RateLimit`` and ``rate_limit_hit`` are re-exported
here for existing callers.
"""

from __future__ import annotations

from django.conf import settings

from meet.ratelimit import RateLimit, rate_limit_hit

__all__ = ["RateLimit", "rate_limit_hit", "turn_credentials_rate_limit_hit"]


def turn_credentials_rate_limit_hit(*, user_id: object, now: float | None = None) -> RateLimit:
    """One request for TURN credentials by ``user_id``, against ``TURN_RATE_LIMIT_*``."""
    return rate_limit_hit(
        scope="turn",
        identity=str(user_id),
        limit=settings.TURN_RATE_LIMIT_REQUESTS,
        window=settings.TURN_RATE_LIMIT_WINDOW,
        now=now,
    )
