"""TURN credentials are refreshed before they expire and applied to open peer connections."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.browser.conftest import live_servers_with_turn
from tests.support.servers import LiveServers

pytestmark = [pytest.mark.browser, pytest.mark.coturn]

# The client refreshes at 80 % of the lifetime but never sooner than 30 s (static/js/ice.js),
# so 40 s is the shortest lifetime whose refresh still lands before the expiry (at 32 s).
TTL_SECONDS = 40

TURN_USERNAME_JS = """
(id) => {
  const servers = window.meet.peerConnection(id).getConfiguration().iceServers || [];
  const turn = servers.find((server) => server.username);
  return turn ? turn.username : null;
}
"""


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory, turn) -> Iterator[LiveServers]:
    """This module's daphne hands out TURN credentials that live only ``TTL_SECONDS``."""
    yield from live_servers_with_turn(tmp_path_factory, turn, TURN_TTL=str(TTL_SECONDS))


def test_credentials_are_refreshed_before_expiry_into_the_open_peer_connection(call_room):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()
    # What the page said about its refreshes, for the failure message.
    ice_log: list[str] = []
    ana.page.on("console", lambda msg: ice_log.append(f"{time.time():.1f} {msg.type}: {msg.text}"))

    first = ana.page.evaluate(TURN_USERNAME_JS, bob.peer_id)
    assert first, "the peer connection was built without the TURN credentials"
    first_expiry = int(first.split(":", 1)[0])

    deadline = time.monotonic() + TTL_SECONDS + 15
    refreshed = first
    while refreshed == first and time.monotonic() < deadline:
        time.sleep(0.5)
        refreshed = ana.page.evaluate(TURN_USERNAME_JS, bob.peer_id)
    refreshed_at = time.time()

    assert refreshed != first, "the TURN credentials were never refreshed"
    assert refreshed_at < first_expiry, (
        f"the credentials were refreshed only after they expired ({refreshed_at:.1f} > "
        f"{first_expiry}); the page's console since the call connected: {ice_log}"
    )
    assert int(refreshed.split(":", 1)[0]) > first_expiry
    assert ana.connection_state(bob.peer_id) == "connected"
    call.assert_clean()
