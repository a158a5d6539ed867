"""`/healthz`: is the service able to serve? Checks the database and the channel layer."""

from __future__ import annotations

import logging
import secrets

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: the database does not answer")
        return False


async def _round_trip(layer) -> bool:
    # A message sent to a fresh channel and read back proves the layer stores and delivers.
    channel = await layer.new_channel("healthz.")
    token = secrets.token_hex(8)
    await layer.send(channel, {"type": "healthz", "token": token})
    message = await layer.receive(channel)
    # The pub/sub layer keeps a channel subscribed until told otherwise (signaling/layers.py).
    discard = getattr(layer, "discard_channel", None)
    if discard is not None:
        await discard(channel)
    return message.get("token") == token


def _channel_layer_answers() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        return async_to_sync(_round_trip)(layer)
    except Exception:
        logger.exception("Health check: the channel layer does not answer")
        return False


@never_cache
@require_GET
def healthz(request):
    database = _database_answers()
    channel_layer = _channel_layer_answers()
    healthy = database and channel_layer
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if database else "unavailable",
            "channel_layer": "ok" if channel_layer else "unavailable",
        },
        status=200 if healthy else 503,
    )
