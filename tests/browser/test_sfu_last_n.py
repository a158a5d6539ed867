"""Last-N in an SFU call: each browser receives at most SFU_LAST_N videos (the others show their
avatar) but hears everyone, and a pinned person's video is always among those received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.servers import LiveServers
from tests.support.sfu import (
    AUDIO_PACKETS_JS,
    SFU_CONNECT_TIMEOUT_MS,
    audio_packets_advance,
    sfu_servers,
    wait_remote_videos_advance,
)

pytestmark = [pytest.mark.janus, pytest.mark.browser]

# Peer ids whose camera tile plays a picture on this page.
PLAYING_JS = """
() => [...document.querySelectorAll('[data-peer-id][data-view="camera"]')]
  .filter((tile) => { const v = tile.querySelector("video"); return v && v.videoWidth > 0; })
  .map((tile) => tile.dataset.peerId)
"""


@pytest.fixture(scope="module")
def sfu_live(sfu_namespace, sfu_janus, tmp_path_factory) -> Iterator[LiveServers]:
    servers = sfu_servers(
        sfu_namespace, tmp_path_factory.mktemp("live"), **sfu_janus.environment(), SFU_LAST_N="2"
    )
    yield servers
    servers.stop()


def test_each_page_receives_at_most_last_n_videos_hears_everyone_and_gets_the_pinned_one(
    sfu_call,
):
    call = sfu_call("ana", "bob", "cy", "dan", room={"media_mode": "sfu"})
    members = list(call.members.values())
    ana = members[0]
    others = [m for m in members if m is not ana]
    # Two videos play; the third person shows as an avatar.
    ana.page.wait_for_function(
        f"() => ({PLAYING_JS})().length === 2", polling=200, timeout=SFU_CONNECT_TIMEOUT_MS
    )
    playing = ana.page.evaluate(PLAYING_JS)
    wait_remote_videos_advance(ana, playing)
    (hidden,) = [m for m in others if m.peer_id not in playing]
    expect(ana.tile(hidden.peer_id)).to_have_attribute("data-video", "off")
    # Everyone is heard, including the person whose video is not received.
    for other in others:
        ana.page.wait_for_function(
            f"(id) => ({AUDIO_PACKETS_JS})(id).then((n) => n > 0)",
            arg=other.peer_id,
            polling=200,
            timeout=SFU_CONNECT_TIMEOUT_MS,
        )
        assert audio_packets_advance(ana, other.peer_id) > 10, other.username

    ana.tile(hidden.peer_id).locator('[data-action="pin"]').click(force=True)
    wait_remote_videos_advance(ana, [hidden.peer_id])
    expect(ana.tile(hidden.peer_id)).to_have_attribute("data-video", "on")
    ana.page.wait_for_function(
        f"() => ({PLAYING_JS})().length === 2", polling=200, timeout=SFU_CONNECT_TIMEOUT_MS
    )
    call.assert_clean()
