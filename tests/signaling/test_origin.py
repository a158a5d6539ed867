"""Cross-site WebSocket hijacking: only the site's own origin may open a signaling socket.

A browser sends the victim's session cookie with a WebSocket handshake to the meet host from any
page, so the ``Origin`` header is the only thing that tells the victim's own room page from a page
on another port, another scheme or another name for the same machine. Each test drives the real
``meet.asgi.application`` with a logged-in user, so an origin let through would get a ``welcome``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from rooms.models import Participant
from signaling.events import room_group
from signaling.origin import socket_origin_allowed
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "localhost:8000"


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def room(make_room, make_user):
    return make_room("Weekly Sync", owner=make_user("ana"))


@pytest.fixture
async def handshake(bob, room):
    """``await handshake(origin=..., host=..., scheme=..., headers=...)`` → (first frame, close).

    Opens Bob's socket to the room with exactly these handshake headers; the first frame is
    the ``welcome`` or the ``error``, the close code None while the socket stays open.
    """
    from meet.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def open_socket(*, origin=None, host=HOST, scheme=None, headers=()):
        key = await sync_to_async(session_key_for)(bob)
        sent = [(b"host", host.encode()), (b"cookie", f"sessionid={key}".encode())]
        if origin is not None:
            sent.append((b"origin", origin.encode()))
        sent.extend((name.encode(), value.encode()) for name, value in headers)
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", sent)
        if scheme is not None:
            communicator.scope["scheme"] = scheme
        opened.append(communicator)
        connected, code = await communicator.connect(timeout=3)
        assert connected, f"the handshake itself was refused with {code}, without an error frame"
        first = await communicator.receive_json_from(timeout=3)
        output = await _next_output(communicator)
        close = output.get("code") if output and output["type"] == "websocket.close" else None
        assert output is None or close is not None, output
        return first, close

    yield open_socket
    for communicator in opened:
        with contextlib.suppress(Exception):
            await communicator.disconnect(timeout=2)


async def _next_output(communicator):
    # receive_output would cancel the application on a timeout; receive_nothing only looks.
    if await communicator.receive_nothing(timeout=0.3):
        return None
    return await communicator.receive_output(timeout=1)


def assert_refused(first, close):
    assert first == {
        "type": "error",
        "code": "forbidden",
        "message": "This page's origin is not allowed to open a socket to this site.",
    }
    assert close == 4403


async def assert_nothing_written(room):
    assert not await sync_to_async(Participant.objects.exists)()
    assert not get_channel_layer().groups.get(room_group(room.pk))


# --- the attacks ------------------------------------------------------------------------------


async def test_page_on_another_port_of_the_same_host_is_refused(handshake, room):
    assert_refused(*await handshake(origin="http://localhost:6666"))
    await assert_nothing_written(room)


async def test_page_on_another_port_of_the_loopback_address_is_refused(handshake, room):
    assert_refused(*await handshake(origin="http://127.0.0.1:6666", host="127.0.0.1:8000"))
    await assert_nothing_written(room)


async def test_https_page_cannot_open_a_plain_ws_socket(handshake, room):
    assert_refused(*await handshake(origin="https://localhost:8000"))
    await assert_nothing_written(room)


async def test_ipv6_loopback_page_is_refused_by_the_localhost_site(handshake, room):
    assert_refused(*await handshake(origin="http://[::1]:8000"))
    await assert_nothing_written(room)


async def test_opaque_null_origin_is_refused(handshake, room):
    # Sandboxed iframes and data: URLs send "null"; they could be anyone's.
    assert_refused(*await handshake(origin="null"))
    await assert_nothing_written(room)


async def test_missing_origin_is_refused(handshake, room):
    assert_refused(*await handshake(origin=None))
    await assert_nothing_written(room)


async def test_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(handshake, room):
    # DNS rebinding: evil.example resolved to this server; the page's origin matches the Host.
    assert_refused(*await handshake(origin="http://evil.example:8000", host="evil.example:8000"))
    await assert_nothing_written(room)


async def test_forwarded_proto_is_ignored_unless_the_site_is_behind_a_proxy(handshake, room):
    assert_refused(
        *await handshake(origin="https://localhost:8000", headers=[("x-forwarded-proto", "https")])
    )


async def test_refused_socket_gets_nothing_after_the_close(handshake, room):
    first, close = await handshake(origin="http://localhost:6666")
    assert (first["type"], close) == ("error", 4403)
    await asyncio.sleep(0.1)
    await assert_nothing_written(room)


# --- the site's own origins ---------------------------------------------------------------------


async def test_the_sites_own_origin_is_admitted(handshake):
    first, close = await handshake(origin="http://localhost:8000")
    assert first["type"] == "welcome" and close is None


async def test_own_origin_without_a_port_is_admitted(handshake):
    first, close = await handshake(origin="http://localhost", host="localhost")
    assert first["type"] == "welcome" and close is None


async def test_own_ipv6_origin_is_admitted(handshake):
    first, close = await handshake(origin="http://[::1]:8000", host="[::1]:8000")
    assert first["type"] == "welcome" and close is None


async def test_wss_socket_is_admitted_from_the_https_page_only(handshake):
    first, close = await handshake(
        origin="https://localhost:8443", host="localhost:8443", scheme="wss"
    )
    assert first["type"] == "welcome" and close is None


async def test_wss_socket_refuses_the_http_page(handshake):
    assert_refused(
        *await handshake(origin="http://localhost:8443", host="localhost:8443", scheme="wss")
    )


async def test_behind_a_proxy_the_forwarded_https_origin_is_admitted(handshake, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["meet.example.org"]
    first, close = await handshake(
        origin="https://meet.example.org",
        host="meet.example.org",
        headers=[("x-forwarded-proto", "https")],
    )
    assert first["type"] == "welcome" and close is None


async def test_behind_a_proxy_a_plain_http_origin_is_refused(handshake, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["meet.example.org"]
    assert_refused(
        *await handshake(
            origin="http://meet.example.org",
            host="meet.example.org",
            headers=[("x-forwarded-proto", "https")],
        )
    )


async def test_csrf_trusted_origin_is_admitted(handshake, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://meet.example.org"]
    first, close = await handshake(origin="https://meet.example.org")
    assert first["type"] == "welcome" and close is None


# --- the rule itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://meet.example.org", True),
        ("https://a.meet.example.org", True),
        ("http://a.meet.example.org", False),
        ("https://a.meet.example.org:8443", False),
        ("https://meet.example.org.evil.example", False),
        ("https://evilmeet.example.org", False),
    ],
)
def test_csrf_trusted_origins_follow_djangos_rules(settings, origin, allowed):
    settings.CSRF_TRUSTED_ORIGINS = ["https://meet.example.org", "https://*.meet.example.org"]
    scope = {"type": "websocket", "headers": [(b"host", b"localhost:8000")]}
    assert socket_origin_allowed(scope=scope, origin=origin) is allowed


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("localhost:8000", "http://localhost:8000", True),
        ("LOCALHOST:8000", "http://localhost:8000", True),
        ("localhost", "http://localhost:80", True),
        ("localhost:80", "http://localhost", True),
        ("localhost:8000", "http://localhost", False),
        ("localhost:8000", "http://localhost:8000/", False),
        ("localhost:8000", "http://bob@localhost:8000", False),
        ("localhost:8000", "ws://localhost:8000", False),
        ("localhost:8000", "http://localhost:notaport", False),
        ("localhost:8000", "", False),
        ("", "http://localhost", False),
    ],
)
def test_origin_must_be_the_requests_own_scheme_host_and_port(host, origin, allowed):
    scope = {"type": "websocket", "headers": [(b"host", host.encode())] if host else []}
    assert socket_origin_allowed(scope=scope, origin=origin) is allowed


# --- a real daphne ------------------------------------------------------------------------------


@pytest.mark.slow
def test_live_daphne_refuses_another_ports_page_and_admits_its_own(live_servers):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect as ws_connect

    servers = live_servers(count=1)
    sessions = servers.create_users("ana", "bob")
    slug = servers.create_room("ana", "Weekly Sync")
    process = servers.processes[0]
    url = f"{process.ws_url}/ws/rooms/{slug}/"
    cookie = {"Cookie": f"sessionid={sessions['bob']}"}

    with ws_connect(
        url, origin="http://localhost:6666", additional_headers=cookie, proxy=None
    ) as socket:
        first = json.loads(socket.recv(timeout=5))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert_refused(first, closed.value.rcvd.code)

    with ws_connect(url, origin=process.base_url, additional_headers=cookie, proxy=None) as socket:
        assert json.loads(socket.recv(timeout=5))["type"] == "welcome"


@pytest.mark.parametrize("use_forwarded_host", [True, False])
def test_forwarded_host_counts_only_when_django_is_told_to_use_it(settings, use_forwarded_host):
    settings.USE_X_FORWARDED_HOST = use_forwarded_host
    settings.ALLOWED_HOSTS = ["meet.example.org", "internal"]
    scope = {
        "type": "websocket",
        "headers": [(b"host", b"internal:8000"), (b"x-forwarded-host", b"meet.example.org")],
    }
    allowed = socket_origin_allowed(scope=scope, origin="http://meet.example.org")
    assert allowed is use_forwarded_host
