"""``/api/turn/`` on real daphne processes sharing Redis, with a real coturn beside them.

Two server processes answer the same users, as behind a load balancer: the per-user rate limit
must count across both (it lives in Redis), and credentials from either must open a relay.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest

from tests.support.coturn import Coturn, relay_round_trip
from tests.support.servers import LiveServers

pytestmark = [pytest.mark.redis, pytest.mark.coturn, pytest.mark.slow]

SECRET = "live-turn-secret-5e0c2b9d71"
LIMIT = 5
WINDOW = 3600


@pytest.fixture(scope="module")
def turn(tmp_path_factory):
    with Coturn(tmp_path_factory.mktemp("coturn-live"), secrets=[SECRET]) as server:
        yield server


@pytest.fixture(scope="module")
def servers(tmp_path_factory, turn):
    live = LiveServers(
        workdir=tmp_path_factory.mktemp("live-turn"),
        count=2,
        redis=True,
        extra_env={
            **turn.environment(),
            "TURN_RATE_LIMIT_REQUESTS": str(LIMIT),
            "TURN_RATE_LIMIT_WINDOW": str(WINDOW),
            # Everything the app logs, so the secret check below has the most text to search.
            "LOG_LEVEL": "DEBUG",
        },
    )
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def sessions(servers):
    return servers.create_users("ana", "bob", "carol", "dan")


def fetch(servers: LiveServers, index: int, session: str | None, method: str = "GET"):
    """(status, headers, JSON body) of one real HTTP request to server ``index``."""
    request = urllib.request.Request(servers.url("/api/turn/", index=index), method=method)
    if session:
        request.add_header("Cookie", f"sessionid={session}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_credentials_from_a_live_server_open_a_relay_on_coturn(servers, sessions, turn):
    status, headers, body = fetch(servers, 0, sessions["ana"])
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    entry = body["iceServers"][-1]
    assert entry["urls"] == [turn.url, turn.tcp_url]
    asyncio.run(relay_round_trip(turn, entry["username"], entry["credential"], "udp"))


def test_rate_limit_holds_across_two_processes_sharing_redis(servers, sessions):
    # A window boundary in the middle would reset the count; it is an hour long, so at most
    # one retry (with a user who has not asked yet) is ever needed.
    for user in ("bob", "carol"):
        window = int(time.time() // WINDOW)
        statuses = [fetch(servers, i % 2, sessions[user])[0] for i in range(LIMIT + 2)]
        if int(time.time() // WINDOW) == window:
            break
    assert statuses == [200] * LIMIT + [429, 429]
    status, headers, body = fetch(servers, 0, sessions[user])
    assert status == 429 and body["error"] == "rate_limited"
    assert 1 <= int(headers["Retry-After"]) <= WINDOW


def test_anonymous_gets_401_and_post_gets_405_through_the_real_middleware(servers):
    status, _, body = fetch(servers, 1, None)
    assert (status, body["error"]) == (401, "not_authenticated")
    # No CSRF token: the JSON 405 must still win over CSRF middleware's HTML 403.
    status, headers, body = fetch(servers, 1, None, method="POST")
    assert (status, headers["Allow"], body["error"]) == (405, "GET", "method_not_allowed")


def test_server_logs_never_contain_the_secret(servers, sessions):
    for index in (0, 1):
        assert fetch(servers, index, sessions["dan"])[0] == 200
    logs = "".join(process.log_path.read_text() for process in servers.processes)
    assert "TURN credential issued" in logs, "the servers should log at DEBUG here"
    assert SECRET not in logs
