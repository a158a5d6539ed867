"""A signaling socket speaks its pages' language: the language cookie, else Accept-Language.

``socket_language`` chooses as LocaleMiddleware does for a page; the consumer's words (refusals,
errors about what the user did) come out in that language, frame codes stay the same.
"""

from __future__ import annotations

import contextlib

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from rooms.models import Room
from signaling.i18n import socket_language
from tests.signaling.conftest import ORIGIN, Peer
from tests.support.servers import session_key_for

pytestmark = pytest.mark.django_db(transaction=True)


def scope_with(*, accept_language: str = "", cookie: str = "", parsed: bool = True) -> dict:
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": "websocket", "headers": headers}
    if parsed:
        # What Channels' CookieMiddleware puts in the scope.
        scope["cookies"] = dict(part.split("=", 1) for part in cookie.split("; ") if part)
    return scope


@pytest.mark.parametrize(
    ("accept_language", "cookie", "expected"),
    [
        ("", "", "en"),
        ("de-DE,de;q=0.9,en;q=0.8", "", "de"),
        ("de-AT", "", "de"),
        ("fr-FR,fr;q=0.9", "", "en"),
        ("fr-FR,de;q=0.5", "", "de"),
        ("de-DE,de;q=0.9", f"{settings.LANGUAGE_COOKIE_NAME}=en", "en"),
        ("en-GB", f"{settings.LANGUAGE_COOKIE_NAME}=de", "de"),
        # A cookie naming a language meet does not have is ignored, as on a page.
        ("de", f"{settings.LANGUAGE_COOKIE_NAME}=xx", "de"),
    ],
)
def test_the_socket_chooses_its_language_like_a_page(accept_language, cookie, expected):
    scope = scope_with(accept_language=accept_language, cookie=cookie)
    assert socket_language(scope) == expected


def test_the_cookie_header_counts_before_channels_has_parsed_it():
    scope = scope_with(cookie=f"a=1; {settings.LANGUAGE_COOKIE_NAME}=de", parsed=False)
    assert socket_language(scope) == "de"


@pytest.fixture
async def open_socket():
    """``await open_socket(slug, user, accept_language=..., language_cookie=...)`` → a Peer."""
    from meet.asgi import application

    opened: list[Peer] = []

    async def open_peer(slug, user, *, accept_language: str = "", language_cookie: str = ""):
        session_key = await sync_to_async(session_key_for)(user)
        cookies = f"sessionid={session_key}"
        if language_cookie:
            cookies += f"; {settings.LANGUAGE_COOKIE_NAME}={language_cookie}"
        headers = [(b"origin", ORIGIN.encode()), (b"host", b"localhost")]
        headers.append((b"cookie", cookies.encode()))
        if accept_language:
            headers.append((b"accept-language", accept_language.encode()))
        communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
        peer = Peer(communicator)
        opened.append(peer)
        connected, _code = await communicator.connect(timeout=3)
        assert connected
        peer.first = await peer.receive()
        if peer.first["type"] == "welcome":
            peer.welcome = peer.first
            peer.peer_id = peer.first["self"]["peer_id"]
        return peer

    yield open_peer
    for peer in opened:
        with contextlib.suppress(Exception):
            await peer.communicator.disconnect(timeout=2)


async def test_a_refusal_comes_in_the_browsers_language(open_socket, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(is_locked=True)
    german = await open_socket(room.slug, people["bob"], accept_language="de-DE,de;q=0.9")
    assert german.first["type"] == "error" and german.first["code"] == "room_locked"
    assert german.first["message"] == (
        "Dieser Raum ist gesperrt. Nur der Inhaber und die Administration können ihn gerade "
        "betreten."
    )
    english = await open_socket(room.slug, people["bob"])
    assert english.first["code"] == "room_locked"
    assert english.first["message"].startswith("This room is locked.")


async def test_the_language_cookie_beats_accept_language(open_socket, room, people):
    await sync_to_async(Room.objects.filter(pk=room.pk).update)(is_locked=True)
    peer = await open_socket(room.slug, people["bob"], accept_language="en", language_cookie="de")
    assert peer.first["message"].startswith("Dieser Raum ist gesperrt.")


async def test_errors_during_the_call_come_in_the_sockets_language(open_socket, room, people):
    ana = await open_socket(room.slug, people["ana"], accept_language="de")
    bob = await open_socket(room.slug, people["bob"])
    await ana.receive_type("peer-joined")
    # A moderation refusal (rooms.moderation) and one of the consumer's own.
    await ana.send({"type": "mute", "peer_id": ana.peer_id})
    refused = await ana.receive_type("error")
    assert refused["message"] == "Das können Sie nicht mit sich selbst tun."
    await ana.send({"type": "kick", "peer_id": "nobody"})
    unknown = await ana.receive_type("error")
    assert (unknown["code"], unknown["message"]) == (
        "unknown_peer",
        "Diesen Teilnehmer gibt es in diesem Raum nicht.",
    )
    # Bob's socket, in English, is not affected by Ana's language.
    await bob.send({"type": "mute", "peer_id": ana.peer_id})
    forbidden = await bob.receive_type("error")
    assert forbidden["message"] == "Only the room's owner and moderators can do this."
