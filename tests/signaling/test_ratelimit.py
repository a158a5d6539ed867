"""The flood guard's numbers, on a clock the test controls."""

from __future__ import annotations

from signaling import ratelimit
from signaling.ratelimit import ALLOW, DISCONNECT, REFUSE, FloodGuard, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_its_burst_then_refills_at_its_rate():
    clock = Clock()
    bucket = TokenBucket(10, 5.0, clock)
    assert all(bucket.take() for _ in range(10))
    assert not bucket.take()
    clock.now += 1.0
    assert sum(bucket.take() for _ in range(10)) == 5


def test_bucket_never_holds_more_than_its_capacity():
    clock = Clock()
    bucket = TokenBucket(3, 100.0, clock)
    clock.now += 60
    assert sum(bucket.take() for _ in range(10)) == 3


def test_an_ice_trickle_burst_of_fifty_candidates_and_an_offer_passes():
    guard = FloodGuard(clock=Clock())
    assert [guard.check() for _ in range(51)] == [ALLOW] * 51


def test_a_sustained_rate_below_the_limit_is_never_refused():
    clock = Clock()
    guard = FloodGuard(clock=clock)
    for _ in range(10 * int(ratelimit.MESSAGE_RATE)):
        clock.now += 1 / (ratelimit.MESSAGE_RATE - 1)
        assert guard.check() == ALLOW


def test_a_flood_is_refused_then_disconnected():
    guard = FloodGuard(clock=Clock())
    verdicts = [guard.check() for _ in range(ratelimit.MESSAGE_BURST + ratelimit.STRIKE_BURST + 1)]
    assert verdicts[: ratelimit.MESSAGE_BURST] == [ALLOW] * ratelimit.MESSAGE_BURST
    assert verdicts[ratelimit.MESSAGE_BURST : -1] == [REFUSE] * ratelimit.STRIKE_BURST
    assert verdicts[-1] == DISCONNECT


def test_an_occasional_overrun_is_forgiven():
    clock = Clock()
    guard = FloodGuard(clock=clock)
    for _ in range(5):
        while guard.check() == ALLOW:
            pass
        clock.now += 30  # Both buckets refill in half a minute of quiet.
    assert guard.check() == ALLOW
