"""HTTP views of the signaling app: ``GET /api/turn/`` hands out ICE servers and TURN credentials.

The view only translates between HTTP and the rules in ``signaling.turn``,
``signaling.throttle`` and ``rooms.access``; every answer, error or not, is JSON.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from rooms.access import FORBIDDEN, NOT_AUTHENTICATED, ROOM_NOT_FOUND, room_access_for
from rooms.selectors import room_get_by_slug
from signaling.throttle import turn_credentials_rate_limit_hit
from signaling.turn import ice_servers_for

logger = logging.getLogger(__name__)

NO_SUCH_ROOM_MESSAGE = "There is no such room, or you may not enter it."


def _json(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    # Credentials must never sit in a browser or proxy cache, and neither should their refusals.
    response["Cache-Control"] = "no-store"
    return response


def _error(code: str, message: str, status: int) -> JsonResponse:
    return _json({"error": code, "message": message}, status=status)


# The view changes nothing and answers GET only, so a cross-site POST can do no harm; without
# the exemption CSRF middleware would answer other methods with a 403 page instead of a JSON 405.
@csrf_exempt
def turn_credentials(request: HttpRequest) -> JsonResponse:
    """``GET /api/turn/[?room=<slug>[&invite=<token>]]``: ICE servers for the logged-in user."""
    if request.method != "GET":
        response = _error("method_not_allowed", "Use GET.", status=405)
        response["Allow"] = "GET"
        return response

    if not request.user.is_authenticated:
        return _error(NOT_AUTHENTICATED, "Log in to get TURN credentials.", status=401)

    limit = turn_credentials_rate_limit_hit(user_id=request.user.pk)
    if not limit.allowed:
        response = _error(
            "rate_limited",
            f"Too many requests for TURN credentials; try again in {limit.retry_after} seconds.",
            status=429,
        )
        response["Retry-After"] = str(limit.retry_after)
        return response

    if "room" in request.GET:
        slug = request.GET["room"].strip()
        if not slug:
            return _error("bad_request", "room must be a room's slug.", status=400)
        access = room_access_for(
            user=request.user,
            room=room_get_by_slug(slug=slug),
            invite_token=request.GET.get("invite") or None,
        )
        if access.conceals_room or access.refusal == ROOM_NOT_FOUND:
            # The contract answers 403 for a room the caller may not enter. A slug nobody uses,
            # a closed room and a private room the caller is a stranger to get that 403 with
            # one and the same body, so a guessed slug does not reveal that a room exists.
            return _error(FORBIDDEN, NO_SUCH_ROOM_MESSAGE, status=403)
        if not access.allowed:
            status = 401 if access.refusal == NOT_AUTHENTICATED else 403
            return _error(access.refusal, access.message, status=status)

    body = ice_servers_for(user=request.user)
    if body["username"] is not None:
        # The log names who got a credential and until when, never the password or the secret.
        logger.info(
            "TURN credential issued to user %s until %s", request.user.pk, body["expires_at"]
        )
    return _json(body)
