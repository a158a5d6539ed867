"""The credential maths, the ICE configuration and the rate limit, without HTTP or coturn."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signaling.throttle import rate_limit_hit
from signaling.turn import (
    ice_servers_for,
    stun_urls_from_turn_urls,
    turn_credential_for,
    turn_password,
    turn_username,
)

# Computed outside Python: printf %s 1767225600:42 | openssl dgst -sha1 -hmac north-wind -binary
# | base64. Matching it shows the password is exactly coturn's base64(HMAC-SHA1(secret, user)).
OPENSSL_VECTOR = ("north-wind", "1767225600:42", "aKF9OikiN/YtPW13vucDgd84KoI=")


class FakeUser:
    """Only ``pk`` is read to build a credential; a database row would add nothing here."""

    def __init__(self, pk: int) -> None:
        self.pk = pk


@pytest.fixture
def turn_settings(settings):
    settings.TURN_SECRETS = ["north-wind", "south-wind"]
    settings.TURN_URLS = [
        "turn:turn.example.org:3478?transport=udp",
        "turns:turn.example.org:5349?transport=tcp",
    ]
    settings.TURN_TTL = 3600
    settings.STUN_URLS = []
    settings.ICE_TRANSPORT_POLICY = "all"
    return settings


def test_password_matches_an_openssl_hmac_sha1_vector():
    secret, username, expected = OPENSSL_VECTOR
    assert turn_password(secret=secret, username=username) == expected


def test_username_is_expiry_in_whole_seconds_then_user_id():
    assert turn_username(expires_at=1767225600, user_id=42) == "1767225600:42"


def test_credential_expires_ttl_seconds_after_now_rounded_down_to_a_second():
    credential = turn_credential_for(user_id=7, secret="s", ttl=600, now=1_000_000.9)
    assert credential.expires_at == 1_000_600
    assert credential.username == "1000600:7"
    assert credential.password == turn_password(secret="s", username="1000600:7")


@given(
    user_id=st.integers(min_value=1, max_value=2**63 - 1),
    ttl=st.integers(min_value=1, max_value=7 * 86400),
    now=st.floats(min_value=1e9, max_value=4e9, allow_nan=False),
    secret=st.text(min_size=1, max_size=64),
)
def test_any_credential_verifies_the_way_coturn_checks_it(user_id, ttl, now, secret):
    credential = turn_credential_for(user_id=user_id, secret=secret, ttl=ttl, now=now)
    # coturn splits at the first colon: an integer expiry in seconds, then the user part.
    expiry, _, user_part = credential.username.partition(":")
    assert re.fullmatch(r"\d{10}", expiry), "expiry must be Unix seconds, never milliseconds"
    assert int(expiry) == credential.expires_at == int(now) + ttl
    assert user_part == str(user_id)
    digest = hmac.new(secret.encode(), credential.username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential.password) == digest


def test_stun_urls_are_derived_from_plain_turn_urls_once_each():
    derived = stun_urls_from_turn_urls(
        [
            "turn:turn.example.org:3478?transport=udp",
            "turn:turn.example.org:3478?transport=tcp",
            "turns:turn.example.org:5349?transport=tcp",
            "turn:[2001:db8::1]:3478",
        ]
    )
    assert derived == ["stun:turn.example.org:3478", "stun:[2001:db8::1]:3478"]


def test_body_carries_credentials_signed_by_the_first_secret(turn_settings):
    body = ice_servers_for(user=FakeUser(42), now=1767222000.5)
    assert body["username"] == "1767225600:42"
    assert body["password"] == OPENSSL_VECTOR[2]
    assert body["ttl"] == 3600
    assert body["expires_at"] == "2026-01-01T00:00:00Z"
    assert body["uris"] == turn_settings.TURN_URLS
    assert body["iceTransportPolicy"] == "all"


def test_ice_servers_are_ready_for_rtc_peer_connection(turn_settings):
    body = ice_servers_for(user=FakeUser(42), now=1767222000)
    assert body["iceServers"] == [
        {"urls": ["stun:turn.example.org:3478"]},
        {
            "urls": turn_settings.TURN_URLS,
            "username": "1767225600:42",
            "credential": OPENSSL_VECTOR[2],
        },
    ]


def test_stun_urls_setting_replaces_the_derived_stun_server(turn_settings):
    turn_settings.STUN_URLS = ["stun:stun.example.net:3478"]
    body = ice_servers_for(user=FakeUser(1))
    assert body["iceServers"][0] == {"urls": ["stun:stun.example.net:3478"]}


def test_without_a_secret_only_stun_servers_are_listed(turn_settings):
    turn_settings.TURN_SECRETS = []
    turn_settings.STUN_URLS = ["stun:stun.example.net:3478"]
    body = ice_servers_for(user=FakeUser(1))
    assert body["username"] is None and body["password"] is None
    assert body["uris"] == [] and body["expires_at"] is None
    assert body["iceServers"] == [{"urls": ["stun:stun.example.net:3478"]}]


def test_a_secret_without_turn_urls_hands_out_no_credential(turn_settings):
    turn_settings.TURN_URLS = []
    body = ice_servers_for(user=FakeUser(1))
    assert body["username"] is None and body["uris"] == [] and body["iceServers"] == []


def test_relay_policy_is_passed_through(turn_settings):
    turn_settings.ICE_TRANSPORT_POLICY = "relay"
    assert ice_servers_for(user=FakeUser(1))["iceTransportPolicy"] == "relay"


# --- rate limit ------------------------------------------------------------------------------


@pytest.fixture
def fresh_cache(settings, request):
    """A private in-memory cache, so counts from other tests (or a shared Redis) never leak in."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }


def test_rate_limit_refuses_the_hit_after_the_limit_and_says_when_to_retry(fresh_cache):
    hits = [
        rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1200.0 + i)
        for i in range(4)
    ]
    assert [hit.allowed for hit in hits] == [True, True, True, False]
    # The window 1200..1260 ends 57 seconds after the fourth hit at 1203.
    assert hits[3].retry_after == 57
    assert hits[3].count == 4


def test_rate_limit_starts_over_in_the_next_window(fresh_cache):
    for i in range(3):
        rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1200.0 + i)
    assert not rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1259.9).allowed
    assert rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1260.0).allowed


def test_rate_limit_counts_each_identity_and_scope_apart(fresh_cache):
    for _ in range(3):
        rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1200.0)
    assert not rate_limit_hit(scope="t", identity="1", limit=3, window=60, now=1200.0).allowed
    assert rate_limit_hit(scope="t", identity="2", limit=3, window=60, now=1200.0).allowed
    assert rate_limit_hit(scope="u", identity="1", limit=3, window=60, now=1200.0).allowed


def test_rate_limit_lets_hits_through_and_warns_when_the_cache_is_down(settings, caplog):
    from tests.support import tools

    # A Redis cache on a port where nothing listens: every cache call fails to connect.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{tools.free_port()}/0",
        }
    }
    with caplog.at_level("WARNING", logger="meet.ratelimit"):
        hit = rate_limit_hit(scope="t", identity="1", limit=1, window=60)
    assert hit.allowed
    assert "cache is unreachable" in caplog.text
