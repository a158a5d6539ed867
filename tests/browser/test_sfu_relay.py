"""An SFU call relayed by coturn: with ICE_TRANSPORT_POLICY=relay every browser reaches Janus
through the TURN server, like any other peer (Janus, coturn, daphne and Chromium all inside the
test's network namespace; tests/support/sfu.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import LiveServers
from tests.support.sfu import (
    CONNECTED_PCS_JS,
    NamespacedCoturn,
    sfu_servers,
    wait_remote_videos_advance,
)

pytestmark = [pytest.mark.janus, pytest.mark.coturn, pytest.mark.browser]

# The local candidate type of the pair each connected RTCPeerConnection of the page selected.
SELECTED_LOCAL_TYPES_JS = """
async () => {
  const types = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    stats.forEach((report) => {
      if (report.type !== "transport" || !report.selectedCandidatePairId) return;
      const pair = stats.get(report.selectedCandidatePairId);
      types.push(stats.get(pair.localCandidateId).candidateType);
    });
  }
  return types;
}
"""


@pytest.fixture(scope="module")
def sfu_turn(sfu_namespace, tmp_path_factory) -> Iterator[NamespacedCoturn]:
    with NamespacedCoturn(
        tmp_path_factory.mktemp("coturn"), sfu_namespace, secrets=["sfu-turn-secret"]
    ) as server:
        yield server


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, sfu_turn, tmp_path_factory) -> Iterator[LiveServers]:
    servers = sfu_servers(
        sfu_namespace,
        tmp_path_factory.mktemp("live"),
        **sfu_janus.environment(),
        **sfu_turn.environment(),
        ICE_TRANSPORT_POLICY="relay",
    )
    yield servers
    servers.stop()


def test_with_a_relay_only_policy_every_connection_to_janus_goes_through_coturn(sfu_call):
    call = sfu_call("ana", "bob", "cy", room={"media_mode": "sfu"})
    members = list(call.members.values())
    for member in members:
        wait_remote_videos_advance(member, [m.peer_id for m in members if m is not member])
    for member in members:
        types = member.page.evaluate(SELECTED_LOCAL_TYPES_JS)
        assert len(types) == member.page.evaluate(CONNECTED_PCS_JS) == 2, types
        assert set(types) == {"relay"}, (member.username, types)
    call.assert_clean()
