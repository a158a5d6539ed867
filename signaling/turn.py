"""Short-lived TURN credentials (coturn's "TURN REST API") and the ICE configuration around them.

coturn with ``use-auth-secret`` accepts any username of the form ``"<expiry>:<anything>"`` whose
password is ``base64(HMAC-SHA1(secret, username))`` and whose expiry, in Unix seconds, has not
passed. The app and coturn share only the secret, so the app can mint credentials without
talking to coturn, and a leaked credential stops working within ``TURN_TTL`` seconds.

coturn 4.6 accepts SHA-1 only and refuses expiries in milliseconds, which is why neither is
configurable here. The secret itself never leaves this module: nothing here returns, logs or
stores it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class TurnCredential:
    """One username/password pair for coturn, valid until ``expires_at`` (Unix seconds)."""

    username: str
    password: str
    expires_at: int


def turn_username(*, expires_at: int, user_id: object) -> str:
    """The REST-API username: ``"<expiry unix seconds>:<user id>"``."""
    return f"{int(expires_at)}:{user_id}"


def turn_password(*, secret: str, username: str) -> str:
    """The REST-API password: ``base64(HMAC-SHA1(secret, username))``, as coturn computes it."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def turn_credential_for(
    *, user_id: object, secret: str, ttl: int, now: float | None = None
) -> TurnCredential:
    """Mint a credential for ``user_id`` signed with ``secret`` that expires ``ttl`` seconds on.

    The expiry is rounded down to a whole second because coturn reads it as an integer.
    """
    issued_at = time.time() if now is None else now
    expires_at = int(issued_at) + int(ttl)
    username = turn_username(expires_at=expires_at, user_id=user_id)
    return TurnCredential(
        username=username,
        password=turn_password(secret=secret, username=username),
        expires_at=expires_at,
    )


def stun_urls_from_turn_urls(turn_urls: list[str]) -> list[str]:
    """``stun:host:port`` for each plain ``turn:`` URL, in order and without repeats.

    coturn answers STUN Binding requests on its TURN port, so a deployment that sets only
    ``TURN_URLS`` still gets a STUN server. ``turns:`` URLs are skipped because browsers do not
    speak STUN over TLS.
    """
    stun_urls: list[str] = []
    for url in turn_urls:
        scheme, _, rest = url.partition(":")
        if scheme.lower() != "turn" or not rest:
            continue
        host_port = rest.split("?", 1)[0]
        stun_url = f"stun:{host_port}"
        if stun_url not in stun_urls:
            stun_urls.append(stun_url)
    return stun_urls


def configured_stun_urls() -> list[str]:
    """``STUN_URLS`` when set; otherwise the STUN side of ``TURN_URLS`` (see above)."""
    if settings.STUN_URLS:
        return list(settings.STUN_URLS)
    return stun_urls_from_turn_urls(list(settings.TURN_URLS))


def turn_is_configured() -> bool:
    """True when the app can hand out TURN credentials: it has a secret and somewhere to use it."""
    return bool(settings.TURN_SECRETS and settings.TURN_URLS)


def _iso_utc(unix_seconds: int) -> str:
    return datetime.fromtimestamp(unix_seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ice_servers_for(
    *, user: Any, now: float | None = None, ttl: int | None = None
) -> dict[str, Any]:
    """The whole ``GET /api/turn/`` body for ``user``: credentials plus ``RTCConfiguration`` parts.

    ``iceServers`` and ``iceTransportPolicy`` can be handed to ``new RTCPeerConnection()``
    unchanged. Without ``TURN_SECRET`` (or without ``TURN_URLS``) the credentials are null, the
    URIs empty and only STUN servers are listed, as the protocol says. ``expires_at`` and
    ``ttl`` tell the client when to fetch a fresh credential. A shorter ``ttl`` (a guest's) is
    honoured; a longer one is cut to ``TURN_TTL``.
    """
    ttl = int(settings.TURN_TTL) if ttl is None else min(int(ttl), int(settings.TURN_TTL))
    stun_urls = configured_stun_urls()
    ice_servers: list[dict[str, Any]] = [{"urls": stun_urls}] if stun_urls else []

    if not turn_is_configured():
        return {
            "username": None,
            "password": None,
            "ttl": ttl,
            "uris": [],
            "expires_at": None,
            "iceServers": ice_servers,
            "iceTransportPolicy": settings.ICE_TRANSPORT_POLICY,
        }

    # The first secret signs; the others are only still accepted by coturn during a rotation.
    credential = turn_credential_for(
        user_id=user.pk, secret=settings.TURN_SECRETS[0], ttl=ttl, now=now
    )
    turn_urls = list(settings.TURN_URLS)
    ice_servers.append(
        {"urls": turn_urls, "username": credential.username, "credential": credential.password}
    )
    return {
        "username": credential.username,
        "password": credential.password,
        "ttl": ttl,
        "uris": turn_urls,
        "expires_at": _iso_utc(credential.expires_at),
        "iceServers": ice_servers,
        "iceTransportPolicy": settings.ICE_TRANSPORT_POLICY,
    }
