"""``/metrics`` (signaling/views.py) and the metrics the call keeps (signaling/metrics.py).

The endpoint exists only for whoever holds ``METRICS_TOKEN``; to anyone else it is the site's
ordinary 404. The counters are process-wide, so each test compares before and after.
"""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY, parser

from rooms.models import Room
from signaling import janus, metrics

TOKEN = "metrics-token-7d3f9a1c0e5b"

pytestmark = pytest.mark.django_db(transaction=True)


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(token: str | None = TOKEN) -> dict[tuple[str, tuple], float]:
    """The exposition through Django's full stack, parsed by prometheus-client's own parser."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200, response.status_code
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in parser.text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


# --- who may scrape ------------------------------------------------------------------------------


def test_without_a_metrics_token_setting_the_endpoint_is_an_ordinary_404(settings):
    settings.METRICS_TOKEN = ""
    with_bearer = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    unknown = Client().get("/no-such-page")
    assert with_bearer.status_code == 404
    # Nothing tells the endpoint apart from a page that does not exist.
    assert with_bearer.content == unknown.content


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_a_missing_or_wrong_bearer_token_gets_the_ordinary_404(settings, authorization):
    settings.METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 404
    assert response.content == Client().get("/no-such-page").content
    assert b"meet_" not in response.content


def test_the_right_bearer_token_gets_the_prometheus_exposition(settings):
    settings.METRICS_TOKEN = TOKEN
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    names = {
        family.name for family in parser.text_string_to_metric_families(response.content.decode())
    }
    assert {
        "meet_connected_peers",
        "meet_live_rooms",
        "meet_calls",
        "meet_calls_started",
        "meet_admissions",
        "meet_admission_seconds",
        "meet_relays",
        "meet_errors_sent",
        "meet_turn_credentials_issued",
        "meet_turn_credentials_refused",
        "meet_layer_errors",
        "meet_janus_sessions",
    } <= names


def test_a_worker_behind_https_still_answers_prometheus_on_plain_http(settings):
    # Prometheus scrapes each worker's loopback port, where nothing terminates TLS.
    settings.METRICS_TOKEN = TOKEN
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200


# --- what the call counts ------------------------------------------------------------------------


async def test_a_call_shows_in_peers_rooms_admissions_relays_and_errors(
    connect, make_user, make_room, settings
):
    from asgiref.sync import sync_to_async

    settings.METRICS_TOKEN = TOKEN
    ana, bob = await sync_to_async(make_user)("ana"), await sync_to_async(make_user)("bob")
    room = await sync_to_async(make_room)(owner=ana, is_private=False)
    admitted = sample("meet_admissions_total", outcome="admitted")
    refused = sample("meet_admissions_total", outcome="not_authenticated")
    admission_count = sample("meet_admission_seconds_count")
    relays = sample("meet_relays_total")
    unknown_peer = sample("meet_errors_sent_total", code="unknown_peer")
    started = sample("meet_calls_started_total", media_mode="mesh")

    first = await connect(room.slug, ana)
    second = await connect(room.slug, bob)
    stranger = await connect(room.slug, None)
    assert stranger.first["code"] == "not_authenticated"
    await first.receive_type("peer-joined")
    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await second.send({"type": "sdp", "to": first.peer_id, "description": offer})
    await first.receive_type("sdp")
    await first.send({"type": "ice", "to": second.peer_id, "candidate": None})
    await second.receive_type("ice")
    await first.send({"type": "ice", "to": "nobody", "candidate": None})
    assert (await first.receive_type("error"))["code"] == "unknown_peer"

    scraped = await sync_to_async(scrape)()
    assert scraped[("meet_connected_peers", ())] == 2
    assert scraped[("meet_live_rooms", ())] == 1
    assert scraped[("meet_calls", (("media_mode", "mesh"),))] == 1
    assert scraped[("meet_calls", (("media_mode", "sfu"),))] == 0
    # The same call moved to the SFU (its room records a node) counts as an SFU call.
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(sfu_node="ws://janus", sfu_room=7)
    scraped = await sync_to_async(scrape)()
    assert scraped[("meet_calls", (("media_mode", "mesh"),))] == 0
    assert scraped[("meet_calls", (("media_mode", "sfu"),))] == 1
    assert sample("meet_admissions_total", outcome="admitted") == admitted + 2
    assert sample("meet_admissions_total", outcome="not_authenticated") == refused + 1
    assert sample("meet_admission_seconds_count") == admission_count + 3
    assert sample("meet_relays_total") == relays + 2
    assert sample("meet_errors_sent_total", code="unknown_peer") == unknown_peer + 1
    # Only the first peer into an empty room starts a call.
    assert sample("meet_calls_started_total", media_mode="mesh") == started + 1

    await first.send({"type": "leave"})
    await second.send({"type": "leave"})
    assert await first.closed_with() == 1000 and await second.closed_with() == 1000
    scraped = await sync_to_async(scrape)()
    assert scraped[("meet_connected_peers", ())] == 0
    assert scraped[("meet_live_rooms", ())] == 0


async def test_a_socket_from_a_foreign_origin_is_counted_as_refused_forbidden(
    connect, make_user, make_room
):
    from asgiref.sync import sync_to_async

    ana = await sync_to_async(make_user)("ana")
    room = await sync_to_async(make_room)(owner=ana)
    refused = sample("meet_admissions_total", outcome="forbidden")
    sent = sample("meet_errors_sent_total", code="forbidden")
    peer = await connect(room.slug, ana, origin="https://evil.example")
    assert peer.first["code"] == "forbidden"
    assert sample("meet_admissions_total", outcome="forbidden") == refused + 1
    assert sample("meet_errors_sent_total", code="forbidden") == sent + 1


def test_turn_credentials_issued_and_refused_are_counted_by_reason(settings, make_user):
    settings.TURN_SECRETS = ["metrics-turn-secret"]
    settings.TURN_URLS = ["turn:turn.example.org:3478"]
    issued = sample("meet_turn_credentials_issued_total")
    anonymous = sample("meet_turn_credentials_refused_total", reason="not_authenticated")
    no_room = sample("meet_turn_credentials_refused_total", reason="forbidden")
    client = Client()
    assert client.get("/api/turn/").status_code == 401
    client.force_login(make_user("ana"))
    assert client.get("/api/turn/").status_code == 200
    assert client.get("/api/turn/?room=no-such-room").status_code == 403
    assert sample("meet_turn_credentials_issued_total") == issued + 1
    assert sample("meet_turn_credentials_refused_total", reason="not_authenticated") == (
        anonymous + 1
    )
    assert sample("meet_turn_credentials_refused_total", reason="forbidden") == no_room + 1


def test_layer_errors_are_counted_when_a_send_cannot_be_queued(monkeypatch):
    from channels.exceptions import ChannelFull

    from signaling import events

    class FullLayer:
        async def send(self, channel, message):
            raise ChannelFull

    monkeypatch.setattr(events, "get_channel_layer", lambda: FullLayer())
    before = sample("meet_layer_errors_total")
    assert events.send_to_channel("specific.x!y", events.socket_lost_event()) is False
    assert sample("meet_layer_errors_total") == before + 1


async def test_janus_sessions_count_the_open_sessions_of_this_process():
    before = sample("meet_janus_sessions")
    connection = janus.JanusConnection("ws://127.0.0.1:1")
    # A connected socket, as connect() would leave it, holding two sessions.
    connection._socket = object()
    connection.sessions = {1: object(), 2: object()}
    assert sample("meet_janus_sessions") == before + 2
    connection.closed = True
    assert sample("meet_janus_sessions") == before


def test_relays_counter_has_no_labels_so_the_hot_path_is_one_increment():
    assert metrics.RELAYS._labelnames == ()
