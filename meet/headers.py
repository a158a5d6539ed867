"""Response headers for every page: which browser features it may use, and what must not be cached.

The Content-Security-Policy comes from django-csp (``CONTENT_SECURITY_POLICY`` in settings);
this module adds what django-csp does not cover.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import iscoroutinefunction
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import sync_and_async_middleware

# Powerful features a page might be granted. Every page denies all of them unless its view
# sends its own header built with permissions_policy(); only names Chromium knows are listed,
# because it reports an unknown one as a console error on every page.
POLICY_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "payment",
    "usb",
)

# The query parameter that carries a room's invite token (rooms.views.room_detail).
INVITE_PARAMETER = "invite"


def permissions_policy(*, allow_self: Iterable[str] = ()) -> str:
    """The Permissions-Policy value denying every feature but ``allow_self``, for this origin only.

    Frames of other origins get none of them: ``(self)`` never delegates.
    """
    allowed = set(allow_self)
    unknown = allowed - set(POLICY_FEATURES)
    if unknown:
        raise ValueError(f"Unknown Permissions-Policy features: {', '.join(sorted(unknown))}")
    return ", ".join(
        f"{feature}=(self)" if feature in allowed else f"{feature}=()"
        for feature in POLICY_FEATURES
    )


DEFAULT_PERMISSIONS_POLICY = permissions_policy()


def carries_invite(request) -> bool:
    """Whether the request's address holds an invite token, itself or in its ``next`` address.

    The login page reached from an invite link holds the token in its ``next`` field, so it
    must not be cached any more than the room page itself.
    """
    if INVITE_PARAMETER in request.GET:
        return True
    next_query = urlsplit(request.GET.get("next", "")).query
    return INVITE_PARAMETER in parse_qs(next_query, keep_blank_values=True)


def _add_headers(request, response):
    # A view's own policy (the room page's) is stronger on purpose and stays.
    response.headers.setdefault("Permissions-Policy", DEFAULT_PERMISSIONS_POLICY)
    if carries_invite(request):
        # A shared or back/forward cache must not keep a page holding a token that lets
        # anyone into a private room.
        add_never_cache_headers(response)
    return response


@sync_and_async_middleware
def security_headers_middleware(get_response):
    """Give every response a Permissions-Policy, and invite-carrying ones no-store caching."""
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return _add_headers(request, await get_response(request))

    else:

        def middleware(request):
            return _add_headers(request, get_response(request))

    return middleware
