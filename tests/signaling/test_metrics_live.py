"""A call on a real daphne shows in ``/metrics``, and its JSON log gives nothing of it away.

One worker runs as production would log (``LOG_FORMAT=json``, ``LOG_LEVEL=INFO``) with
``METRICS_TOKEN`` set. Two people have a call: one comes in through a private room's invite link,
an offer carries a recognisable SDP, an ICE candidate a recognisable address, a chat is sent,
one socket resumes with its resume token, and TURN credentials are fetched. Then Prometheus's
view of it is checked, and every line of the worker's log must be JSON and must not contain the
SDP, the candidate, the resume token, the invite token, the session ids or the TURN password.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client import parser

from tests.signaling.test_multiprocess import Client
from tests.support.servers import LiveServers

pytestmark = pytest.mark.slow

TOKEN = "live-metrics-token-2b8e61f04c"
TURN_SECRET = "live-metrics-turn-secret-93a0d7"
SDP_MARKER = "sdpmarker5e1d0c"
CANDIDATE_MARKER = "203.0.113.77"
OFFER = {
    "type": "offer",
    "sdp": (
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
        f"s={SDP_MARKER}\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"
    ),
}
CANDIDATE = {
    "candidate": f"candidate:842163049 1 udp 1677729535 {CANDIDATE_MARKER} 51234 typ srflx",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    servers = LiveServers(
        tmp_path_factory.mktemp("metrics-live"),
        extra_env={
            "METRICS_TOKEN": TOKEN,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "TURN_SECRET": TURN_SECRET,
            "TURN_URLS": "turn:127.0.0.1:3478?transport=udp",
        },
    ).start()
    yield servers
    servers.stop()


def _get(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _scrape(servers: LiveServers) -> dict[tuple[str, tuple], float]:
    status, body = _get(servers.url("/metrics"), {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body[:500]
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser.text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


async def _call(servers: LiveServers, slug: str, sessions: dict[str, str], invite: str) -> dict:
    """The call; returns the secrets it used, for the log check."""
    ana = await Client.open(servers, 0, slug, sessions["ana"])
    bob = await Client.open(servers, 0, slug, sessions["bob"], query=f"invite={invite}")
    assert (await ana.receive_type("peer-joined"))["peer"]["peer_id"] == bob.peer_id

    await bob.send({"type": "sdp", "to": ana.peer_id, "description": OFFER})
    assert (await ana.receive_type("sdp"))["description"] == OFFER
    await ana.send({"type": "ice", "to": bob.peer_id, "candidate": CANDIDATE})
    assert (await bob.receive_type("ice"))["candidate"]["candidate"] == CANDIDATE["candidate"]
    await ana.send({"type": "chat", "text": "hello, metrics"})
    await ana.receive_type("chat")
    await bob.receive_type("chat")

    # Bob's connection comes back with its resume token (a new socket replaces the old one).
    resume_token = bob.welcome["self"]["resume_token"]
    again = await Client.open(servers, 0, slug, sessions["bob"], query=f"resume={resume_token}")
    assert again.welcome["resumed"] is True and again.peer_id == bob.peer_id
    assert await bob.close_code() == 4412
    await ana.receive_type("peer-joined")

    # The connected-peers gauge is read from this process's keeper: give the replaced socket's
    # disconnect a moment to finish before the scrape.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        scraped = await asyncio.to_thread(_scrape, servers)
        if scraped[("meet_connected_peers", ())] == 2:
            break
        await asyncio.sleep(0.1)
    await ana.socket.close()
    await again.socket.close()
    return {"scraped": scraped, "resume_token": resume_token}


def test_a_call_shows_in_metrics_and_its_json_log_has_no_sdp_candidate_token_or_invite(worker):
    servers = worker
    sessions = servers.create_users("ana", "bob")
    slug = servers.create_room("ana", "Metrics Call", is_private=True)
    invite = servers.run_python(
        f"from rooms.models import Room; print(Room.objects.get(slug={slug!r}).invite_token)"
    ).split()[-1]

    # Before the call, and to anyone without the token, there is nothing to see.
    assert _get(servers.url("/metrics"), {})[0] == 404
    assert _get(servers.url("/metrics"), {"Authorization": "Bearer nope"})[0] == 404
    before = _scrape(servers)
    assert before[("meet_connected_peers", ())] == 0
    assert before[("meet_live_rooms", ())] == 0

    # The invite link as bob opens it, then TURN credentials for the room.
    cookie = {"Cookie": f"sessionid={sessions['bob']}"}
    status, _page = _get(servers.url(f"/rooms/{slug}/?invite={invite}"), cookie)
    assert status == 200
    status, body = _get(servers.url(f"/api/turn/?room={slug}"), cookie)
    assert status == 200
    turn_password = json.loads(body)["password"]

    result = asyncio.run(_call(servers, slug, sessions, invite))
    scraped = result["scraped"]

    assert scraped[("meet_connected_peers", ())] == 2
    assert scraped[("meet_live_rooms", ())] == 1
    assert scraped[("meet_calls", (("media_mode", "mesh"),))] == 1
    assert scraped[("meet_calls_started_total", (("media_mode", "mesh"),))] == 1
    # ana, bob, and bob again on resuming.
    assert scraped[("meet_admissions_total", (("outcome", "admitted"),))] == 3
    assert scraped[("meet_admission_seconds_count", ())] == 3
    assert scraped[("meet_relays_total", ())] >= 2
    assert scraped[("meet_turn_credentials_issued_total", ())] == 1
    assert scraped[("meet_layer_errors_total", ())] == 0
    assert scraped[("meet_janus_sessions", ())] == 0

    # Every line of the worker's output is one JSON object with the four fields, and none of
    # them holds anything of the call's secrets.
    time.sleep(0.5)
    text = servers.processes[0].log_path.read_text()
    lines = text.splitlines()
    entries = []
    for line in lines:
        entry = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(entry), line
        entries.append(entry)
    for secret in (
        SDP_MARKER,
        CANDIDATE_MARKER,
        result["resume_token"],
        invite,
        sessions["ana"],
        sessions["bob"],
        turn_password,
        TURN_SECRET,
        TOKEN,
    ):
        assert secret not in text, secret
    # The log did record the call, with the query names kept and their values hidden.
    messages = [entry["message"] for entry in entries if entry["logger"] == "meet.access"]
    assert any(f"/rooms/{slug}/?invite=[redacted]" in message for message in messages), messages
    assert any(f"WSCONNECT /ws/rooms/{slug}/?resume=[redacted]" in m for m in messages), messages
    assert any(
        entry["logger"] == "signaling.views" and "TURN credential issued" in entry["message"]
        for entry in entries
    )
