"""Per-connection flood control: a token bucket for messages, and patience for a flooder.

Numbers (see docs/protocol.md): a connection may send a burst of ``MESSAGE_BURST`` (120) frames,
refilled at ``MESSAGE_RATE`` (40) per second. A frame beyond that is dropped with ``error``
``rate_limited``; a second bucket counts those refusals (``STRIKE_BURST`` 40, forgiven at
``STRIKE_RATE`` 2 per second) and when it runs dry the connection is closed with 4429. An ICE
trickle of 50 candidates plus an offer fits the burst several times over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

MESSAGE_BURST = 120
MESSAGE_RATE = 40.0
STRIKE_BURST = 40
STRIKE_RATE = 2.0


@dataclass
class TokenBucket:
    """``capacity`` tokens, refilled continuously at ``rate`` per second; each take costs one."""

    capacity: float
    rate: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.capacity)
        self.updated_at = self.clock()

    def take(self, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if there are enough; say whether it was allowed."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.rate)
        self.updated_at = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False


ALLOW = "allow"
REFUSE = "refuse"
DISCONNECT = "disconnect"


@dataclass
class FloodGuard:
    """Decides, frame by frame, whether a connection's frame is handled, refused or the end."""

    clock: Callable[[], float] = time.monotonic
    messages: TokenBucket = field(init=False)
    strikes: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.messages = TokenBucket(MESSAGE_BURST, MESSAGE_RATE, self.clock)
        self.strikes = TokenBucket(STRIKE_BURST, STRIKE_RATE, self.clock)

    def check(self) -> str:
        """``ALLOW``, ``REFUSE`` (answer ``rate_limited``) or ``DISCONNECT`` (close 4429)."""
        if self.messages.take():
            return ALLOW
        if self.strikes.take():
            return REFUSE
        return DISCONNECT
