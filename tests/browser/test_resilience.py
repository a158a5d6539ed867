"""A signaling outage must not hurt a call: media is peer to peer and the socket resumes.

This module restarts its own daphne, so it keeps its own server (the module-scoped default).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Long enough for the client's backoff to notice the server is back on a busy CI machine.
RESUME_TIMEOUT_MS = 30_000


def _websocket_refused(slug: str) -> re.Pattern:
    # While daphne is down every reconnection attempt is refused, and Chromium itself logs each
    # refused WebSocket as a console error; those lines (and only those) are expected here.
    return re.compile(
        rf"WebSocket connection to 'ws://localhost:\d+/ws/rooms/{re.escape(slug)}/[^']*' "
        r"failed: .*"
    )


def test_daphne_restart_mid_call_keeps_media_flowing_and_both_resume_as_the_same_peers(
    call_room,
):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    pairs = [(ana, bob), (bob, ana)]
    call.wait_all_connected()
    for member, other in pairs:
        member.wait_frames_advance(other.peer_id)
        # A mark on the RTCPeerConnection object shows later that it was kept, not rebuilt.
        member.page.evaluate(
            "(id) => { window.meet.peerConnection(id).__e2eTag = 'before-outage'; }",
            other.peer_id,
        )
        expect(member.page.locator("body")).to_have_attribute("data-signaling", "open")
    peer_ids = {member.username: member.peer_id for member in (ana, bob)}

    call.servers.stop_process(0)

    for member in (ana, bob):
        member.wait_signaling("reconnecting")
    for member, other in pairs:
        # About a second of video decoded while no server exists at all.
        member.wait_frames_advance(other.peer_id, frames=25)
        assert member.connection_state(other.peer_id) == "connected"
    assert call.servers.processes[0].process.poll() is not None, "daphne came back too early"

    call.servers.start_process(0)

    for member in (ana, bob):
        member.wait_signaling("open", timeout=RESUME_TIMEOUT_MS)
        member.wait_call_state("in-call")
        assert member.page.evaluate("window.meet.selfPeerId") == peer_ids[member.username]
    for member, other in pairs:
        assert member.page.evaluate("window.meet.peerIds()") == [other.peer_id]
        tag = member.page.evaluate(
            "(id) => window.meet.peerConnection(id).__e2eTag ?? null", other.peer_id
        )
        assert tag == "before-outage", "the peer connection was rebuilt after the resume"
        expect(member.tile(other.peer_id)).to_have_attribute("data-connection-state", "connected")
        member.wait_frames_advance(other.peer_id)

    # The resumed sockets really relay again.
    ana.send_chat("still here after the restart")
    expect(bob.page.locator("#chat-log [data-chat-id] .chat-text")).to_have_text(
        "still here after the restart"
    )
    call.assert_clean(allowed_console=(_websocket_refused(call.slug),))
