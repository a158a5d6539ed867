"""Credentials from ``GET /api/turn/`` against a real coturn: what works, and what is refused.

One loopback coturn serves the whole module (it starts in about 0.1 s). It accepts two secrets,
as during a rotation; a third, retired secret is known to nobody but this test.
"""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from django.test import Client

from signaling.turn import turn_credential_for, turn_password
from tests.support.coturn import Coturn, allocation_error, relay_round_trip

pytestmark = [pytest.mark.coturn]

CURRENT_SECRET = "current-secret-9d2f61c0"
PREVIOUS_SECRET = "previous-secret-47ab0e3e"
RETIRED_SECRET = "retired-secret-c81e5f27"


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    with Coturn(
        tmp_path_factory.mktemp("coturn"), secrets=[CURRENT_SECRET, PREVIOUS_SECRET]
    ) as server:
        yield server


def credentials_from_the_view(user, turn: Coturn, settings, secrets: list[str]) -> dict:
    settings.TURN_SECRETS = secrets
    settings.TURN_URLS = [turn.url, turn.tcp_url]
    settings.STUN_URLS = []
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    client = Client()
    client.force_login(user)
    response = client.get("/api/turn/")
    assert response.status_code == 200, response.content
    return response.json()


def turn_server_entry(body: dict) -> dict:
    """The iceServers entry a browser would use for TURN."""
    (entry,) = [server for server in body["iceServers"] if "credential" in server]
    return entry


# --- what works --------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_credentials_from_the_view_relay_data_both_ways(turn, make_user, settings, transport):
    body = credentials_from_the_view(
        make_user(), turn, settings, secrets=[CURRENT_SECRET, PREVIOUS_SECRET]
    )
    entry = turn_server_entry(body)
    assert f"turn:127.0.0.1:{turn.port}?transport={transport}" in entry["urls"]
    asyncio.run(relay_round_trip(turn, entry["username"], entry["credential"], transport))


@pytest.mark.parametrize("signing_secret", [CURRENT_SECRET, PREVIOUS_SECRET])
def test_either_configured_secret_signs_credentials_coturn_accepts(
    turn, make_user, settings, signing_secret
):
    others = [s for s in (CURRENT_SECRET, PREVIOUS_SECRET) if s != signing_secret]
    body = credentials_from_the_view(make_user(), turn, settings, [signing_secret, *others])
    assert body["password"] == turn_password(secret=signing_secret, username=body["username"])
    assert asyncio.run(allocation_error(turn, body["username"], body["password"])) is None


def test_stun_server_derived_from_the_turn_url_is_coturn_itself(turn, make_user, settings):
    body = credentials_from_the_view(make_user(), turn, settings, [CURRENT_SECRET])
    assert body["iceServers"][0] == {"urls": [turn.stun_url]}


# --- what is refused ---------------------------------------------------------------------------


def test_tampered_password_is_refused_with_401(turn, make_user, settings):
    body = credentials_from_the_view(make_user(), turn, settings, [CURRENT_SECRET])
    raw = bytearray(base64.b64decode(body["password"]))
    raw[0] ^= 0x01
    tampered = base64.b64encode(bytes(raw)).decode()
    assert asyncio.run(allocation_error(turn, body["username"], tampered)) == 401


def test_username_changed_to_another_user_is_refused_with_401(turn, make_user, settings):
    body = credentials_from_the_view(make_user(), turn, settings, [CURRENT_SECRET])
    expiry, user_id = body["username"].split(":")
    other_user = f"{expiry}:{int(user_id) + 1}"
    assert asyncio.run(allocation_error(turn, other_user, body["password"])) == 401


def test_later_expiry_with_the_old_password_is_refused_with_401(turn, make_user, settings):
    body = credentials_from_the_view(make_user(), turn, settings, [CURRENT_SECRET])
    expiry, user_id = body["username"].split(":")
    extended = f"{int(expiry) + 86400}:{user_id}"
    assert asyncio.run(allocation_error(turn, extended, body["password"])) == 401


def test_expired_credential_is_refused_with_401(turn):
    expired = turn_credential_for(
        user_id=7, secret=CURRENT_SECRET, ttl=3600, now=time.time() - 3600 - 60
    )
    assert expired.expires_at < time.time()
    assert asyncio.run(allocation_error(turn, expired.username, expired.password)) == 401


def test_same_credential_with_a_future_expiry_is_accepted(turn):
    # The control for the test above: only the expiry differs, so the expiry is what coturn refused.
    fresh = turn_credential_for(user_id=7, secret=CURRENT_SECRET, ttl=3600)
    assert asyncio.run(allocation_error(turn, fresh.username, fresh.password)) is None


def test_credential_signed_by_a_retired_secret_is_refused_with_401(turn):
    retired = turn_credential_for(user_id=7, secret=RETIRED_SECRET, ttl=3600)
    assert asyncio.run(allocation_error(turn, retired.username, retired.password)) == 401
