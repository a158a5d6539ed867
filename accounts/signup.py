"""Who may sign up: the ``SIGNUP`` policy, the invite check and the per-address rate limit.

``SIGNUP`` is ``open`` (anyone), ``invite`` (only with a room's current invite link) or
``closed`` (the administrator creates accounts). accounts sits below rooms and must not import
it, so rooms registers the invite check when it loads (rooms/apps.py); without one, every
invite is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from meet.ratelimit import RateLimit, rate_limit_hit

SIGNUP_OPEN = "open"
SIGNUP_INVITE = "invite"
SIGNUP_CLOSED = "closed"

# Takes the path a visitor was heading to and the invite token; says whether it is a room's
# current invite.
InviteCheck = Callable[..., bool]
_invite_check: InviteCheck | None = None


def register_invite_check(check: InviteCheck) -> None:
    """Install the function that validates invites: ``check(path=..., token=...) -> bool``."""
    global _invite_check  # noqa: PLW0603 - one registry, filled once at app loading
    _invite_check = check


def signup_policy() -> str:
    """The current ``SIGNUP`` setting (validated at startup in meet/settings.py)."""
    return settings.SIGNUP


def signup_invite_is_valid(*, next_url: str | None, invite: str | None) -> bool:
    """Whether a visitor holds a current room invite.

    ``next_url`` is the local page the visitor was heading to (``/rooms/<slug>/?invite=...``),
    already checked to be on this site; the token is its ``invite`` parameter, or ``invite``
    when given on its own (``/accounts/signup/?next=/rooms/<slug>/&invite=...``).
    """
    if not next_url or _invite_check is None:
        return False
    target = urlsplit(next_url)
    if target.scheme or target.netloc:
        return False
    token = invite or (parse_qs(target.query).get("invite") or [""])[0]
    if not token:
        return False
    return bool(_invite_check(path=target.path, token=token))


def signup_rate_limit_hit(*, address: str | None) -> RateLimit:
    """One account created from ``address``, against ``SIGNUP_RATE_LIMIT_*``."""
    return rate_limit_hit(
        scope="signup",
        identity=address or "unknown",
        limit=settings.SIGNUP_RATE_LIMIT_REQUESTS,
        window=settings.SIGNUP_RATE_LIMIT_WINDOW,
    )
