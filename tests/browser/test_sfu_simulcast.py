"""Simulcast in an SFU call: a camera goes up in three sizes, and each browser gets the size its
tile needs from Janus (full size alone in the grid, the smallest as a thumbnail beside a shared
screen). Cameras capture at 960x540 here, so that Chromium sends all three layers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.servers import LiveServers
from tests.support.sfu import SFU_CONNECT_TIMEOUT_MS, sfu_servers, wait_remote_videos_advance

pytestmark = [pytest.mark.janus, pytest.mark.browser]

# The camera publisher's simulcast layers as the sending page reports them: rid -> size, frames.
OUTBOUND_LAYERS_JS = """
async () => {
  const layers = {};
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    (await pc.getStats()).forEach((report) => {
      if (report.type === "outbound-rtp" && report.kind === "video" && report.rid) {
        layers[report.rid] = { width: report.frameWidth || 0, frames: report.framesEncoded || 0 };
      }
    });
  }
  return layers;
}
"""

# The width of the picture shown of a peer's camera on this page.
SHOWN_WIDTH_JS = """
(peerId) => {
  const video = document.querySelector(`[data-peer-id="${peerId}"][data-view="camera"] video`);
  return video ? video.videoWidth : 0;
}
"""


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, tmp_path_factory) -> Iterator[LiveServers]:
    servers = sfu_servers(sfu_namespace, tmp_path_factory.mktemp("live"), **sfu_janus.environment())
    yield servers
    servers.stop()


def wait_shown_width(member, peer_id: str, width: int) -> None:
    member.page.wait_for_function(
        f"(id) => ({SHOWN_WIDTH_JS})(id) === {width}",
        arg=peer_id,
        polling=250,
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )


def test_each_browser_receives_the_simulcast_layer_its_tile_needs(sfu_call):
    call = sfu_call("ana", "bob", room={"media_mode": "sfu"}, camera=(960, 540))
    ana, bob = call.members["ana"], call.members["bob"]
    wait_remote_videos_advance(bob, [ana.peer_id])
    # Ana's browser sends three sizes of one capture, each encoding.
    ana.page.wait_for_function(
        f"""async () => {{
          const layers = await ({OUTBOUND_LAYERS_JS})();
          return ["h", "m", "l"].every((rid) => layers[rid] && layers[rid].frames > 30);
        }}""",
        polling=500,
        timeout=SFU_CONNECT_TIMEOUT_MS,
    )
    layers = ana.page.evaluate(OUTBOUND_LAYERS_JS)
    full, small = layers["h"]["width"], layers["l"]["width"]
    assert full > layers["m"]["width"] > small > 0, layers

    # Alone in Bob's grid, Ana's camera comes in full size.
    wait_shown_width(bob, ana.peer_id, full)
    # Ana shares her screen: it takes the spotlight and her camera becomes a thumbnail, which
    # gets the smallest copy.
    ana.action("toggle-screen").click()
    bob.wait_frames_advance(ana.peer_id, "screen", timeout=SFU_CONNECT_TIMEOUT_MS)
    wait_shown_width(bob, ana.peer_id, small)
    # She stops: full size again.
    ana.action("toggle-screen").click()
    wait_shown_width(bob, ana.peer_id, full)
    call.assert_clean()
