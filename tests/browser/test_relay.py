"""Relay-only calls through a real coturn: nobody learns anybody's address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CONNECT_TIMEOUT_MS, live_servers_with_turn
from tests.support.servers import LiveServers

pytestmark = [pytest.mark.browser, pytest.mark.coturn]

CANDIDATE_TYPES_JS = """
async (id) => {
  const stats = await window.meet.peerConnection(id).getStats();
  const types = {local: [], remote: []};
  stats.forEach((r) => {
    if (r.type === "local-candidate") types.local.push(r.candidateType);
    if (r.type === "remote-candidate") types.remote.push(r.candidateType);
  });
  return types;
}
"""


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory, turn) -> Iterator[LiveServers]:
    """This module's daphne hands out credentials for ``turn`` and a relay-only policy."""
    yield from live_servers_with_turn(tmp_path_factory, turn, ICE_TRANSPORT_POLICY="relay")


def test_relay_policy_connects_two_users_through_coturn_on_both_sides(call_room, turn):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    call.wait_all_connected()

    for member, other in [(ana, bob), (bob, ana)]:
        policy = member.page.evaluate(
            "(id) => window.meet.peerConnection(id).getConfiguration().iceTransportPolicy",
            other.peer_id,
        )
        assert policy == "relay"
        selected = member.selected_candidate_types(other.peer_id)
        assert selected["local"] == "relay", selected
        assert selected["remote"] == "relay", selected
        # Relay-only means no host or server-reflexive address was ever gathered or received.
        seen = member.page.evaluate(CANDIDATE_TYPES_JS, other.peer_id)
        assert seen["local"] and set(seen["local"]) == {"relay"}, seen
        assert seen["remote"] and set(seen["remote"]) == {"relay"}, seen
        expect(member.tile(other.peer_id)).to_have_attribute(
            "data-path", "relay", timeout=CONNECT_TIMEOUT_MS
        )
        member.wait_frames_advance(other.peer_id)
    assert turn.running, f"coturn stopped during the call:\n{turn.log_text()}"
    call.assert_clean()


ICE_UFRAG_JS = """
(id) => {
  const match = /a=ice-ufrag:(\\S+)/.exec(window.meet.peerConnection(id).localDescription.sdp);
  return match ? match[1] : null;
}
"""


def test_relayed_call_recovers_by_ice_restart_on_the_same_connection_after_turn_outage(
    call_room, turn
):
    call = call_room("ana", "bob")
    ana, bob = call.members["ana"], call.members["bob"]
    pairs = [(ana, bob), (bob, ana)]
    call.wait_all_connected()
    ufrags = {}
    for member, other in pairs:
        member.wait_frames_advance(other.peer_id)
        member.page.evaluate(
            "(id) => { window.meet.peerConnection(id).__e2eTag = 'before-outage'; }",
            other.peer_id,
        )
        ufrags[member.username] = member.page.evaluate(ICE_UFRAG_JS, other.peer_id)

    restarts = {member.username: [] for member, _ in pairs}

    def count_restarts(name: str):
        def on_console(message) -> None:
            if "restarting ICE" in message.text:
                restarts[name].append(message.text)

        return on_console

    for member, _ in pairs:
        member.page.on("console", count_restarts(member.username))

    # Relay-only leaves no other path: with coturn gone, media stops and ICE notices.
    turn.stop()
    for member, other in pairs:
        expect(member.tile(other.peer_id)).not_to_have_attribute(
            "data-connection-state", "connected", timeout=CONNECT_TIMEOUT_MS
        )
    turn.start()

    for member, other in pairs:
        expect(member.tile(other.peer_id)).to_have_attribute(
            "data-connection-state", "connected", timeout=30_000
        )
        assert (
            member.page.evaluate(
                "(id) => window.meet.peerConnection(id).__e2eTag ?? null", other.peer_id
            )
            == "before-outage"
        ), "the peer connection was replaced instead of restarting ICE"
        # New ICE credentials are what an ICE restart is; recovering without one is impossible
        # here because coturn forgot every allocation.
        assert member.page.evaluate(ICE_UFRAG_JS, other.peer_id) != ufrags[member.username]
        assert member.selected_candidate_types(other.peer_id)["local"] == "relay"
        member.wait_frames_advance(other.peer_id)
    # One side restarts, the impolite one (peer ids decide politeness): two restart offers
    # crossing would glare, and the rollback that settles a glare can leave Chromium's video
    # receiver decoding frames that never reach the page.
    impolite, polite = sorted(pairs, key=lambda pair: pair[0].peer_id, reverse=True)[0]
    assert restarts[impolite.username], "the impolite side never restarted ICE"
    assert not restarts[polite.username], restarts
    call.assert_clean()
