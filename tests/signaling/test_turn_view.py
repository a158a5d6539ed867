"""``GET /api/turn/`` through Django's full request stack: every rule the protocol sets for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime

import pytest
from django.test import Client

from rooms.models import RoomBan, RoomMembership
from rooms.services import room_close

URL = "/api/turn/"
SIGNING_SECRET = "signing-secret-4f1c9e0b7a2d"
RETIRING_SECRET = "retiring-secret-0b8e3a6d5c71"
TURN_URLS = [
    "turn:turn.example.org:3478?transport=udp",
    "turns:turn.example.org:5349?transport=tcp",
]
PROTOCOL_KEYS = {
    "username",
    "password",
    "ttl",
    "uris",
    "expires_at",
    "iceServers",
    "iceTransportPolicy",
}


def hmac_sha1_b64(secret: str, username: str) -> str:
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


@pytest.fixture(autouse=True)
def turn_settings(settings, request):
    """TURN configured with two secrets, and a cache of this test's own for the rate limit."""
    settings.TURN_SECRETS = [SIGNING_SECRET, RETIRING_SECRET]
    settings.TURN_URLS = list(TURN_URLS)
    settings.TURN_TTL = 3600
    settings.STUN_URLS = []
    settings.ICE_TRANSPORT_POLICY = "all"
    # A day-long window: a test that runs in milliseconds never straddles a window boundary.
    settings.TURN_RATE_LIMIT_REQUESTS = 30
    settings.TURN_RATE_LIMIT_WINDOW = 86400
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    return settings


@pytest.fixture
def user(make_user):
    return make_user("ana")


@pytest.fixture
def client_for():
    """A client logged in as ``user`` that, like a browser, enforces CSRF checks."""

    def make(user) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def ana(client_for, user) -> Client:
    return client_for(user)


# --- the answer --------------------------------------------------------------------------------


def test_logged_in_user_gets_json_credentials_in_the_protocol_shape(ana, user):
    before = int(time.time())
    response = ana.get(URL)
    after = int(time.time())

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == PROTOCOL_KEYS

    expiry, user_id = body["username"].split(":")
    assert user_id == str(user.pk)
    assert before + 3600 <= int(expiry) <= after + 3600
    assert body["ttl"] == 3600
    assert body["uris"] == TURN_URLS
    assert body["expires_at"] == datetime.fromtimestamp(int(expiry), UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert body["iceTransportPolicy"] == "all"


def test_password_is_signed_by_the_first_secret_only(ana):
    body = ana.get(URL).json()
    assert body["password"] == hmac_sha1_b64(SIGNING_SECRET, body["username"])
    assert body["password"] != hmac_sha1_b64(RETIRING_SECRET, body["username"])


def test_rotating_the_secret_order_changes_who_signs(ana, settings):
    settings.TURN_SECRETS = [RETIRING_SECRET, SIGNING_SECRET]
    body = ana.get(URL).json()
    assert body["password"] == hmac_sha1_b64(RETIRING_SECRET, body["username"])


def test_ice_servers_can_be_passed_to_rtc_peer_connection_as_they_are(ana):
    body = ana.get(URL).json()
    assert body["iceServers"] == [
        {"urls": ["stun:turn.example.org:3478"]},
        {"urls": TURN_URLS, "username": body["username"], "credential": body["password"]},
    ]


def test_ttl_follows_the_turn_ttl_setting(ana, settings):
    settings.TURN_TTL = 120
    now = int(time.time())
    body = ana.get(URL).json()
    assert body["ttl"] == 120
    assert now + 120 <= int(body["username"].split(":")[0]) <= now + 121


def test_relay_policy_setting_reaches_the_client(ana, settings):
    settings.ICE_TRANSPORT_POLICY = "relay"
    assert ana.get(URL).json()["iceTransportPolicy"] == "relay"


def test_stun_urls_setting_is_listed_first(ana, settings):
    settings.STUN_URLS = ["stun:stun.example.net:3478", "stun:stun2.example.net:3478"]
    servers = ana.get(URL).json()["iceServers"]
    assert servers[0] == {"urls": ["stun:stun.example.net:3478", "stun:stun2.example.net:3478"]}
    assert servers[1]["urls"] == TURN_URLS


def test_without_turn_secret_the_answer_is_200_with_stun_servers_only(ana, settings):
    settings.TURN_SECRETS = []
    settings.STUN_URLS = ["stun:stun.example.net:3478"]
    response = ana.get(URL)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == PROTOCOL_KEYS
    assert body["username"] is None and body["password"] is None
    assert body["uris"] == []
    assert body["iceServers"] == [{"urls": ["stun:stun.example.net:3478"]}]


def test_each_request_mints_for_the_caller_not_for_someone_else(client_for, make_user):
    bob = make_user("bob")
    body = client_for(bob).get(URL).json()
    assert body["username"].endswith(f":{bob.pk}")


# --- refusals ----------------------------------------------------------------------------------


def test_anonymous_caller_gets_401_json_not_a_login_redirect():
    response = Client().get(URL)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json()["error"] == "not_authenticated"


def test_anonymous_caller_with_a_room_gets_401_too(make_room):
    room = make_room()
    response = Client().get(URL, {"room": room.slug})
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_inactive_user_is_treated_as_anonymous(client_for, user):
    client = client_for(user)
    user.is_active = False
    user.save()
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_other_methods_get_405_with_allow_get(ana, method):
    # The client enforces CSRF like a browser: a POST without a token still gets 405, not 403.
    response = getattr(ana, method)(URL)
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response["Cache-Control"] == "no-store"
    if method != "head":
        assert response.json()["error"] == "method_not_allowed"


def test_anonymous_post_gets_405_before_401():
    assert Client(enforce_csrf_checks=True).post(URL).status_code == 405


# --- ?room=<slug> ------------------------------------------------------------------------------


def test_room_the_caller_may_enter_gets_credentials(ana, make_room):
    room = make_room("Open Room")
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 200
    assert response.json()["username"]


def test_banned_user_gets_403_forbidden_for_that_room(ana, user, make_room):
    room = make_room("Strict Room")
    RoomBan.objects.create(room=room, user=user)
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
    assert "password" not in response.json()
    # The ban concerns that room only.
    assert ana.get(URL).status_code == 200


def test_locked_room_gets_403_room_locked_for_a_member(ana, user, make_room):
    room = make_room("Locked Room", is_locked=True)
    RoomMembership.objects.create(room=room, user=user)
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    assert response.json()["error"] == "room_locked"


def test_locked_room_still_serves_its_owner(client_for, user, make_room):
    room = make_room("Locked Room", owner=user, is_locked=True)
    assert client_for(user).get(URL, {"room": room.slug}).status_code == 200


def test_private_room_gets_403_for_a_stranger_exactly_like_an_unknown_room(ana, make_room):
    room = make_room("Private Room", is_private=True)
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    # The same body as for a slug nobody uses: a stranger cannot tell the room exists.
    assert response.json() == ana.get(URL, {"room": "no-such-room"}).json()
    assert response.json()["error"] == "forbidden"
    assert room.name not in response.content.decode()


def test_locked_private_room_gets_the_unknown_room_answer_for_a_stranger(ana, make_room):
    room = make_room("Private Room", is_private=True, is_locked=True)
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    assert response.json() == ana.get(URL, {"room": "no-such-room"}).json()


def test_banned_user_of_a_private_room_is_told_of_the_ban(ana, user, make_room):
    room = make_room("Private Room", is_private=True)
    RoomBan.objects.create(room=room, user=user)
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"


def test_private_room_serves_its_members(ana, user, make_room):
    room = make_room("Private Room", is_private=True)
    RoomMembership.objects.create(room=room, user=user)
    assert ana.get(URL, {"room": room.slug}).status_code == 200


def test_private_room_serves_a_holder_of_the_current_invite(ana, make_room):
    room = make_room("Private Room", is_private=True)
    assert ana.get(URL, {"room": room.slug, "invite": room.invite_token}).status_code == 200
    assert ana.get(URL, {"room": room.slug, "invite": "stale-token"}).status_code == 403


def test_unknown_room_gets_403_as_the_contract_says(ana):
    response = ana.get(URL, {"room": "no-such-room"})
    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "message": "There is no such room, or you may not enter it.",
    }


def test_closed_room_gets_the_unknown_room_answer(ana, make_room):
    room = room_close(room=make_room("Closed Room"))
    response = ana.get(URL, {"room": room.slug})
    assert response.status_code == 403
    assert response.json() == ana.get(URL, {"room": "no-such-room"}).json()


def test_empty_room_parameter_gets_400(ana):
    response = ana.get(URL, {"room": "  "})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


# --- rate limit ----------------------------------------------------------------------------------


def test_user_over_the_rate_limit_gets_429_with_retry_after(ana, settings):
    settings.TURN_RATE_LIMIT_REQUESTS = 3
    assert [ana.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = ana.get(URL)
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert response["Cache-Control"] == "no-store"
    assert 1 <= int(response["Retry-After"]) <= 86400
    assert "password" not in response.json()


def test_rate_limit_counts_refused_room_requests_too(ana, settings):
    settings.TURN_RATE_LIMIT_REQUESTS = 2
    ana.get(URL, {"room": "no-such-room"})
    ana.get(URL, {"room": "no-such-room"})
    assert ana.get(URL).status_code == 429


def test_rate_limit_is_per_user(client_for, make_user, settings):
    settings.TURN_RATE_LIMIT_REQUESTS = 1
    ana, bob = client_for(make_user("ana")), client_for(make_user("bob"))
    assert ana.get(URL).status_code == 200
    assert ana.get(URL).status_code == 429
    assert bob.get(URL).status_code == 200


# --- the secret stays secret -----------------------------------------------------------------


def test_no_secret_in_any_answer_header_or_log_line(client_for, user, make_room, settings, caplog):
    room = make_room("Strict Room")
    RoomBan.objects.create(room=room, user=user)
    client = client_for(user)
    settings.TURN_RATE_LIMIT_REQUESTS = 4
    passwords = []
    with caplog.at_level(logging.DEBUG):
        responses = [
            client.get(URL),
            client.get(URL, {"room": room.slug}),
            client.get(URL, {"room": "no-such-room"}),
            client.post(URL),
            Client().get(URL),
            client.get(URL),
            client.get(URL),  # over the limit: 429
        ]
        passwords = [r.json()["password"] for r in responses if r.status_code == 200]
    assert [r.status_code for r in responses] == [200, 403, 403, 405, 401, 200, 429]
    logged = "\n".join(
        record.getMessage() + repr(record.args) + str(record.__dict__) for record in caplog.records
    )
    assert "TURN credential issued" in logged, "the issuing log line should exist"
    for response in responses:
        text = response.content.decode() + str(response.headers)
        assert SIGNING_SECRET not in text and RETIRING_SECRET not in text
    for secret in (SIGNING_SECRET, RETIRING_SECRET, *passwords):
        assert secret not in logged


def test_no_secret_in_the_pages_that_start_a_call(client_for, user, make_room):
    room = make_room("Weekly Sync", owner=user)
    client = client_for(user)
    pages = [client.get("/"), client.get(room.get_absolute_url())]
    assert [page.status_code for page in pages] == [200, 200]
    for page in pages:
        html = page.content.decode()
        assert SIGNING_SECRET not in html and RETIRING_SECRET not in html
