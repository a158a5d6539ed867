"""HTTP views of the signaling app: ``GET /api/turn/`` hands out ICE servers and TURN credentials,
and ``GET /metrics`` gives Prometheus the call's metrics (only with ``METRICS_TOKEN``).

The TURN view only translates between HTTP and the rules in ``signaling.turn``,
``signaling.throttle`` and ``rooms.access``; every answer, error or not, is JSON.
"""

from __future__ import annotations

import hmac
import logging

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from rooms.access import FORBIDDEN, NOT_AUTHENTICATED, ROOM_NOT_FOUND, room_access_for
from rooms.guests import guest_invite_token, room_visitor
from rooms.selectors import room_get_by_slug
from signaling import metrics as call_metrics
from signaling.throttle import turn_credentials_rate_limit_hit
from signaling.turn import ice_servers_for
from signaling.wire import RATE_LIMITED

# The TURN endpoint's own error codes, beside the access rule's refusals and RATE_LIMITED; HTTP
# only (the socket never sends them, so they are not in signaling/wire.py's table).
METHOD_NOT_ALLOWED = "method_not_allowed"
BAD_REQUEST = "bad_request"

logger = logging.getLogger(__name__)

NO_SUCH_ROOM_MESSAGE = _("There is no such room, or you may not enter it.")


def _json(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # Credentials must never sit in a browser or proxy cache, and neither should their refusals.
    response["Cache-Control"] = "no-store"
    return response


def _error(code: str, message: str, status: int) -> JsonResponse:
    call_metrics.TURN_CREDENTIALS_REFUSED.labels(reason=code).inc()
    return _json({"error": code, "message": message}, status=status)


# The view changes nothing and answers GET only, so a cross-site POST can do no harm; without
# the exemption CSRF middleware would answer other methods with a 403 page instead of a JSON 405.
@csrf_exempt
def turn_credentials(request: HttpRequest) -> JsonResponse:
    """``GET /api/turn/[?room=<slug>[&invite=<token>]]``: ICE servers for the logged-in user.

    A guest (the session's guest identity, issue #12) gets them only with ``?room=`` for a room
    it may enter now, with the token it entered with, and only for ``GUEST_TURN_TTL``: the page
    renews them while the guest is in the call, so they end soon after it (or at once, for new
    requests, when the link is rotated, guests are turned off or the guest is banned).
    """
    if request.method != "GET":
        response = _error(METHOD_NOT_ALLOWED, gettext("Use GET."), status=405)
        response["Allow"] = "GET"
        return response

    user = room_visitor(user=request.user, session=request.session)
    if not user.is_authenticated:
        return _error(NOT_AUTHENTICATED, gettext("Log in to get TURN credentials."), status=401)
    is_guest = bool(getattr(user, "is_guest", False))
    if is_guest and "room" not in request.GET:
        return _error(
            FORBIDDEN,
            gettext("Guests get TURN credentials for their room only: add ?room=."),
            status=403,
        )

    limit = turn_credentials_rate_limit_hit(user_id=user.pk)
    if not limit.allowed:
        response = _error(
            RATE_LIMITED,
            ngettext(
                "Too many requests for TURN credentials; try again in %(count)d second.",
                "Too many requests for TURN credentials; try again in %(count)d seconds.",
                limit.retry_after,
            )
            % {"count": limit.retry_after},
            status=429,
        )
        response["Retry-After"] = str(limit.retry_after)
        return response

    if "room" in request.GET:
        slug = request.GET["room"].strip()
        if not slug:
            return _error(BAD_REQUEST, gettext("room must be a room's slug."), status=400)
        room = room_get_by_slug(slug=slug)
        invite = request.GET.get("invite") or None
        if is_guest and room is not None:
            invite = guest_invite_token(session=request.session, room=room)
        access = room_access_for(user=user, room=room, invite_token=invite)
        if access.conceals_room or access.refusal == ROOM_NOT_FOUND:
            # The contract answers 403 for a room the caller may not enter. A slug nobody uses,
            # a closed room and a private room the caller is a stranger to get that 403 with
            # one and the same body, so a guessed slug does not reveal that a room exists.
            return _error(FORBIDDEN, NO_SUCH_ROOM_MESSAGE, status=403)
        if not access.allowed:
            status = 401 if access.refusal == NOT_AUTHENTICATED else 403
            return _error(access.refusal, access.message, status=status)

    body = ice_servers_for(user=user, ttl=settings.GUEST_TURN_TTL if is_guest else None)
    if body["username"] is not None:
        call_metrics.TURN_CREDENTIALS_ISSUED.inc()
        # The log names who got a credential and until when, never the password or the secret.
        logger.info("TURN credential issued to user %s until %s", user.pk, body["expires_at"])
    return _json(body)


def _bearer_token_matches(request: HttpRequest, expected: str) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    # Compared in constant time, so the answer's timing does not reveal the token bit by bit.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """``GET /metrics``: this worker's metrics in Prometheus's text format.

    Only when ``METRICS_TOKEN`` is set, and only to ``Authorization: Bearer <METRICS_TOKEN>``;
    anything else gets the site's ordinary 404, so the endpoint does not reveal it exists.
    """
    expected = settings.METRICS_TOKEN
    if not expected or not _bearer_token_matches(request, expected):
        raise Http404
    return HttpResponse(
        prometheus_client.generate_latest(prometheus_client.REGISTRY),
        content_type=prometheus_client.CONTENT_TYPE_LATEST,
    )
